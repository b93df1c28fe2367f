/**
 * Issue 16 part 1, the `x-reason` metadata at the API boundary: a client
 * controls this text and it is stored on every event its command causes, so
 * it is bounded and single. Attack, against the real control plane over raw
 * gRPC: an oversized reason (to bloat the log), the header given twice
 * with halves under the limit (gRPC joins them: the joined value is what is
 * checked and stored). Must: each refused with
 * INVALID_ARGUMENT naming x-reason, nothing written; a reason at the limit is
 * stored as sent, and never as anything else (the actor stays the token's).
 */
import { Metadata, credentials, status, type requestCallback } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStrataProto } from '@strata/proto';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

const v1 = loadStrataProto().strata.v1;

function rpc<T>(invoke: (cb: requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res as T))));
}

describe('hostile: the x-reason metadata', () => {
  let t: TenantPlane;
  let networks: InstanceType<typeof v1.NetworkService>;
  const md = (reasons: string[]): Metadata => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${t.cp.tokens['tenant-a']}`);
    for (const r of reasons) m.add('x-reason', r);
    return m;
  };

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a']);
    networks = new v1.NetworkService(t.cp.apiAddr, credentials.createInsecure());
  });

  afterAll(async () => {
    networks?.close();
    await t?.stop();
  });

  it.each([
    ['over the limit (513 characters)', ['x'.repeat(513)], /x-reason must be 1-512 printable ASCII characters/],
    ['far over the limit (7 KiB)', ['y'.repeat(7 * 1024)], /x-reason must be 1-512 printable ASCII characters/],
    // gRPC joins a repeated text header into one value ("a, b"): that value is what is checked, so halves under the limit do not pass together.
    ['given twice, each half under the limit', ['h'.repeat(300), 'h'.repeat(300)], /x-reason must be 1-512 printable ASCII characters/],
  ])('a reason %s is refused with INVALID_ARGUMENT, nothing written', async (_what, reasons, message) => {
    const before = await t.lastSeq();
    await expect(rpc((cb) => networks.CreateNetwork({ name: 'n' }, md(reasons), cb))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(message) });
    expect(await t.lastSeq()).toBe(before);
  });

  it('a reason at the limit is stored as sent, beside the token’s own actor', async () => {
    const reason = `CHG-7 actor=admin ${'z'.repeat(512 - 18)}`;
    const net = await rpc<{ id: string }>((cb) => networks.CreateNetwork({ name: 'kept' }, md([reason]), cb));
    const events = (await t.json<{ events: Array<{ reason: string; actor: string; dataJson: string }> }>('tenant-a', ['events', 'list', '--limit', '1000'])).events;
    const created = events.find((e) => e.dataJson.includes(net.id))!;
    expect(created.reason).toBe(reason);
    expect(created.actor).not.toBe('admin');
  });
});
