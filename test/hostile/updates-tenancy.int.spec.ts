/**
 * Updates against the control plane as production runs it (real ipam,
 * secgroup, chaining and api processes, nats-server with the production
 * users), driven by the real `strata` CLI over the real gRPC API:
 *
 * - a tenant cannot update another tenant's security group, port security,
 *   service function, function group, classifier or chain: NOT_FOUND,
 *   exactly like a missing id, and nothing written;
 * - nor wire another tenant's function or group into its own group or
 *   chain by an update;
 * - a stale --expected-revision is refused (FAILED_PRECONDITION, non-zero
 *   exit) and writes nothing; a field fixed at creation is refused by name.
 *
 * The control: the owner's same updates go through (so the refusals are
 * about who asks, not about the request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Resource {
  id: string;
  tenant: string;
  revision: number;
}

describe('updates: tenants and revisions through the API', () => {
  let t: TenantPlane;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b']);
    const pool = await t.json<Resource>('admin', ['pool', 'create', '--cidr', '198.51.100.0/24', '--purpose', 'host-ip']);
    await t.json('admin', ['hypervisor', 'register', 'hv1', '--vtep-ip', '198.18.0.11', '--host-pool', pool.id]);
    for (const who of ['tenant-a', 'tenant-b']) {
      const net = await t.json<Resource>(who, ['network', 'create', '--name', 'n']);
      const subnet = await t.json<Resource>(who, ['subnet', 'create', '--network', net.id, '--cidr', '10.0.0.0/24']);
      const router = await t.json<Resource>(who, ['router', 'create', '--name', 'r']);
      await t.json(who, ['router', 'add-interface', router.id, '--subnet', subnet.id]);
      const port = await t.json<Resource>(who, ['port', 'create', '--network', net.id, '--host', 'hv1']);
      const sg = await t.json<Resource>(who, ['secgroup', 'create', '--name', 'web']);
      const sfc = (argv: string[]) => t.json<Resource>(who, ['sfc', ...argv]);
      const fn = await sfc(['function', 'create', '--name', 'fw', '--ingress-port', port.id]);
      const group = await sfc(['group', 'create', '--name', 'fws', '--function', fn.id]);
      const cls = await sfc(['classifier', 'create', '--name', 'app', '--protocol', 'tcp', '--destination-ports', '9000']);
      const chain = await sfc(['chain', 'create', '--name', 'web-app', '--router', router.id, '--group', group.id, '--classifier', cls.id]);
      Object.assign(ids, { [`${who}/port`]: port.id, [`${who}/sg`]: sg.id, [`${who}/fn`]: fn.id, [`${who}/group`]: group.id, [`${who}/cls`]: cls.id, [`${who}/chain`]: chain.id });
    }
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** Each attempt fails with a non-zero exit and `error` on stderr, and the log does not move. */
  async function refusedWithoutEvents(who: string, attempts: Array<[string, string[], string]>): Promise<void> {
    for (const [what, argv, error] of attempts) {
      const before = await t.lastSeq();
      const r = await t.cli(who, argv);
      expect(r.code, what).not.toBe(0);
      expect(r.err, what).toContain(error);
      expect(await t.lastSeq(), `${what} wrote an event`).toBe(before);
    }
  }

  it("refuses every update of another tenant's resources as NOT_FOUND, writing nothing", async () => {
    const a = (key: string) => ids[`tenant-a/${key}`]!;
    await refusedWithoutEvents('tenant-b', [
      ["tenant-a's security group", ['secgroup', 'update', a('sg'), '--name', 'mine'], `NOT_FOUND: security group ${a('sg')} not found`],
      ["tenant-a's port's groups", ['port', 'set-groups', a('port'), ids['tenant-b/sg']!], `NOT_FOUND: port ${a('port')} not found`],
      ["tenant-a's function", ['sfc', 'function', 'update', a('fn'), '--remove-health-check'], `NOT_FOUND: service function ${a('fn')} not found`],
      ["tenant-a's group", ['sfc', 'group', 'update', a('group'), '--function', ids['tenant-b/fn']!], `NOT_FOUND: function group ${a('group')} not found`],
      ["tenant-a's classifier", ['sfc', 'classifier', 'update', a('cls'), '--description', 'x'], `NOT_FOUND: flow classifier ${a('cls')} not found`],
      ["tenant-a's chain", ['sfc', 'chain', 'update', a('chain'), '--name', 'mine'], `NOT_FOUND: chain ${a('chain')} not found`],
      // Its own group and chain, with tenant-a's function or group wired in.
      ["tenant-a's function into its own group", ['sfc', 'group', 'update', ids['tenant-b/group']!, '--function', a('fn')], `NOT_FOUND: service function ${a('fn')} not found`],
      ["tenant-a's group into its own chain", ['sfc', 'chain', 'update', ids['tenant-b/chain']!, '--group', a('group')], `NOT_FOUND: function group ${a('group')} not found`],
      ["tenant-a's classifier into its own chain", ['sfc', 'chain', 'update', ids['tenant-b/chain']!, '--classifier', a('cls')], `NOT_FOUND: flow classifier ${a('cls')} not found`],
    ]);
    // The control: the owner's updates go through.
    expect(await t.json<Resource>('tenant-a', ['secgroup', 'update', a('sg'), '--name', 'www'])).toMatchObject({ name: 'www', revision: 2 });
    expect(await t.json<Resource>('tenant-a', ['sfc', 'chain', 'update', a('chain'), '--description', 'web to app'])).toMatchObject({ description: 'web to app', revision: 2 });
  });

  it('refuses a stale --expected-revision and a fixed field, writing nothing; the current revision goes through', async () => {
    const chain = ids['tenant-a/chain']!;
    const sg = ids['tenant-a/sg']!;
    await refusedWithoutEvents('tenant-a', [
      ['stale chain revision', ['sfc', 'chain', 'update', chain, '--name', 'x', '--expected-revision', '1'], `FAILED_PRECONDITION: chain ${chain} is at revision 2, not the expected 1`],
      ['stale group revision', ['secgroup', 'update', sg, '--description', 'x', '--expected-revision', '1'], `FAILED_PRECONDITION: security group ${sg} is at revision 2, not the expected 1`],
      ['stale port revision', ['port', 'set-security', ids['tenant-a/port']!, 'off', '--expected-revision', '5'], 'FAILED_PRECONDITION: port security of port'],
      ['a classifier match', ['sfc', 'classifier', 'update', ids['tenant-a/cls']!, '--protocol', 'udp'], "unknown option '--protocol'"],
    ]);
    const shown = await t.json<Resource>('tenant-a', ['sfc', 'chain', 'show', chain]);
    expect(await t.json<Resource>('tenant-a', ['sfc', 'chain', 'update', chain, '--name', 'renamed', '--expected-revision', String(shown.revision)])).toMatchObject({
      name: 'renamed',
      revision: shown.revision + 1,
    });
    // The table shows the revision a person passes back.
    expect((await t.cli('tenant-a', ['secgroup', 'show', sg])).out).toMatch(/REVISION\s+│\s+2\s/);
  });
});
