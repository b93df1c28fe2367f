/**
 * Issue 11, defects 4 and 5 (snapshots). Each service keeps its snapshots in
 * a bucket only its NATS user may touch; a snapshot that does not verify is
 * ignored and the log replayed; and snapshots load under the production
 * permissions (they used to need $JS.API.STREAM.NAMES, which no service
 * user has, so every restart was a full replay).
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipamContract } from '@strata/contracts';
import { snapshotBucket, snapshotStream } from '@strata/eventlog';
import { CommandSigner, ContractClient, NatsRequester } from '@strata/runtime';
import { attempt, startHostileControlPlane, type HostileControlPlane } from './support/control-plane.js';

const IPAM_BUCKET = snapshotBucket('ipam');

describe('hostile: snapshots under the production users', () => {
  let cp: HostileControlPlane;
  let token: string;
  let api: NatsConnection;
  let ipam: ContractClient<typeof ipamContract>;

  /** IPAM's state digest, asked the way the api asks (signed), of whichever instance runs. */
  const ipamDigest = async (): Promise<unknown> => {
    const meta = { actor: 'admin', tenant: 'ops', admin: true, requestId: `d${Date.now()}`, correlationId: 'digest', at: new Date().toISOString() };
    return ipam.query('state.digest', {}, meta);
  };
  const ipamLog = (): string => cp.processes.find((p) => p.name === 'ipam-1')!.output();
  /** Both IPAM instances stopped gracefully (each saves a snapshot), then ipam-1 alone started again. */
  const restartIpamAlone = async (env: Record<string, string> = {}): Promise<void> => {
    await cp.processes.find((p) => p.name === 'ipam-2')?.stop(10_000);
    await cp.restart('ipam-1', env);
  };

  beforeAll(async () => {
    cp = await startHostileControlPlane(['delta']);
    token = cp.tokens['delta']!;
    api = await connect({ servers: cp.natsUrl, user: 'api', pass: cp.passwords['api']!, inboxPrefix: '_INBOX_api' });
    ipam = new ContractClient(ipamContract, new NatsRequester(api, { signer: new CommandSigner(cp.commandKeys.signingKey), timeoutMs: 15_000 }));
    const net = await cp.cli.json<{ id: string }>(token, ['network', 'create', '--name', 'n']);
    await cp.cli.json(token, ['subnet', 'create', '--network', net.id, '--cidr', '10.7.0.0/24']);
    for (let i = 0; i < 5; i++) await cp.cli.json(token, ['port', 'create', '--network', net.id, '--name', `p${i}`]);
  });
  afterAll(async () => {
    await api?.close();
    await cp?.destroy();
  });

  it('a graceful restart of ipam loads its snapshot under its own NATS user, and the state equals a full replay', async () => {
    const before = await ipamDigest();
    await restartIpamAlone();
    const log = ipamLog();
    expect(log).toMatch(/"msg":"loaded snapshot"/);
    expect(log).not.toMatch(/snapshot could not be loaded|Permissions Violation/);
    expect(log).toMatch(/"fromSnapshot":true/);
    const fromSnapshot = await ipamDigest();
    await cp.restart('ipam-1', { IPAM_USE_SNAPSHOT: 'false' });
    expect(ipamLog()).toMatch(/"fromSnapshot":false/);
    expect(await ipamDigest()).toEqual(fromSnapshot);
    expect(fromSnapshot).toEqual(before);
  });

  it("another service's user (nat) cannot purge, overwrite or read ipam's snapshots", async () => {
    const nat = await cp.connectAs('nat');
    const stream = snapshotStream(IPAM_BUCKET);
    for (const [subject, body] of [
      [`$JS.API.STREAM.PURGE.${stream}`, '{}'],
      [`$JS.API.STREAM.DELETE.${stream}`, ''],
      [`$JS.API.STREAM.INFO.${stream}`, ''],
      [`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ last_by_subj: `$O.${IPAM_BUCKET}.M.aXBhbQ==` })],
      [`$JS.API.CONSUMER.CREATE.${stream}.peek.$O.${IPAM_BUCKET}.C.>`, JSON.stringify({ stream_name: stream, config: { name: 'peek', ack_policy: 'none' } })],
      [`$O.${IPAM_BUCKET}.M.aXBhbQ==`, '{"name":"ipam","deleted":true}'],
      [`$O.${IPAM_BUCKET}.C.x`, 'garbage'],
    ]) {
      expect(await attempt(nat, subject!, body!), subject).toMatch(/Permissions Violation/);
    }
    const admin = await cp.connectAs('admin');
    const info = await (await admin.jetstream().views.os(IPAM_BUCKET)).info('ipam');
    expect(info?.deleted ?? true).toBe(false);
  });

  it('a damaged snapshot (written by the owner or an operator) is ignored, and the state equals a full replay', async () => {
    // Both instances stopped first: a graceful stop saves a snapshot, which would replace the damaged one.
    for (const name of ['ipam-1', 'ipam-2']) await cp.processes.find((p) => p.name === name)?.stop(10_000);
    const admin = await cp.connectAs('admin');
    const os = await admin.jetstream().views.os(IPAM_BUCKET);
    const text = new TextDecoder().decode(await os.getBlob('ipam') as Uint8Array);
    // One changed character in a body line: valid JSON lines, a valid object digest, a wrong snapshot checksum.
    const lines = text.split('\n');
    lines[1] = lines[1]!.replace(/"seq":(\d+)/, (_m, n: string) => `"seq":${Number(n) + 1}`);
    expect(lines.join('\n')).not.toBe(text);
    await os.putBlob({ name: 'ipam' }, new TextEncoder().encode(lines.join('\n')));
    await cp.restart('ipam-1', { IPAM_SNAPSHOT_EVERY: '0' });
    const log = ipamLog();
    expect(log).toMatch(/ignoring a snapshot that does not verify/);
    expect(log).toMatch(/its checksum does not match its content/);
    expect(log).toMatch(/"fromSnapshot":false/);
    const afterDamage = await ipamDigest();
    await cp.restart('ipam-1', { IPAM_USE_SNAPSHOT: 'false', IPAM_SNAPSHOT_EVERY: '0' });
    expect(await ipamDigest()).toEqual(afterDamage);
  });
});
