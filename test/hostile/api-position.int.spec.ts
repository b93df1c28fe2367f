/**
 * Issue 18, read-your-writes carried by the client: the `strata-position`
 * request metadata is the client's to send, so an attacker sends what it
 * likes. Attack, against the real control plane over raw gRPC: malformed
 * positions (text, sign, leading zero, two values, 17+ digits, 7 KiB) and a
 * well-formed one beyond the end of the log (a position no write was ever
 * answered, which a service would wait for until the call's deadline).
 * Must: each refused at once with INVALID_ARGUMENT naming strata-position, on
 * a command and on a read, and nothing written; a position the log has
 * reached is accepted.
 */
import { Metadata, credentials, status, type requestCallback } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataProto } from '@strata/proto';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

const v1 = loadStrataProto().strata.v1;

function rpc<T>(invoke: (cb: requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res as T))));
}

describe('hostile: the strata-position metadata', () => {
  let t: TenantPlane;
  let networks: InstanceType<typeof v1.NetworkService>;
  let existing: string;
  const md = (positions: string[]): Metadata => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${t.cp.tokens['tenant-a']}`);
    for (const p of positions) m.add('strata-position', p);
    return m;
  };
  // Long enough that a position waited for would answer UNAVAILABLE (the services' bounded wait) rather than be refused.
  const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + 30_000) });

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a']);
    networks = new v1.NetworkService(t.cp.apiAddr, credentials.createInsecure());
    existing = (await rpc<{ id: string }>((cb) => networks.CreateNetwork({ name: 'existing' }, md([]), cb))).id;
  });

  afterAll(async () => {
    networks?.close();
    await t?.stop();
  });

  const malformed: Array<[string, string[]]> = [
    ['text', ['abc']],
    ['negative', ['-5']],
    ['zero', ['0']],
    ['a leading zero', ['01']],
    ['a fraction', ['1.5']],
    ['JSON', ['{"ipam":1}']],
    ['17 digits (beyond any safe integer)', ['12345678901234567']],
    ['7 KiB', ['9'.repeat(7 * 1024)]],
    ['given twice', ['1', '2']],
  ];

  it.each(malformed)('a position that is %s is refused with INVALID_ARGUMENT, nothing written', async (_what, positions) => {
    const before = await t.lastSeq();
    const refused = { code: status.INVALID_ARGUMENT, details: expect.stringMatching(/strata-position/) };
    await expect(rpc((cb) => networks.CreateNetwork({ name: 'forged' }, md(positions), deadline(), cb))).rejects.toMatchObject(refused);
    await expect(rpc((cb) => networks.GetNetwork({ id: existing }, md(positions), deadline(), cb))).rejects.toMatchObject(refused);
    expect(await t.lastSeq()).toBe(before);
  });

  it('a position beyond the end of the log is refused at once (not waited for), nothing written', async () => {
    const before = await t.lastSeq();
    for (const forged of [before + 1, before + 1_000_000, Number.MAX_SAFE_INTEGER]) {
      const refused = { code: status.INVALID_ARGUMENT, details: expect.stringMatching(new RegExp(`strata-position ${forged} is beyond the end of the event log`)) };
      await expect(rpc((cb) => networks.CreateNetwork({ name: 'forged' }, md([String(forged)]), deadline(), cb))).rejects.toMatchObject(refused);
      await expect(rpc((cb) => networks.GetNetwork({ id: existing }, md([String(forged)]), deadline(), cb))).rejects.toMatchObject(refused);
    }
    expect(await t.lastSeq()).toBe(before);
  });

  it('a position the log has reached is accepted', async () => {
    const at = await t.lastSeq();
    await expect(rpc((cb) => networks.GetNetwork({ id: existing }, md([String(at)]), deadline(), cb))).resolves.toMatchObject({ id: existing });
  });
});
