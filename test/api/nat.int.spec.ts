/**
 * NAT's control plane end to end: `strata` CLI → gRPC api → NATS → the real
 * nat service (and real IPAM for ports, floating IPs and routers), as child
 * processes on a real nats-server. Associate / show / disassociate,
 * tenancy, router gateways, the reactor after a port deletion, and what a
 * user sees for invalid inputs (nothing written anywhere).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';
import { startIpam, type IpamProcess } from '../support/ipam.js';

const NAT_MAIN = fileURLToPath(new URL('../../services/nat/dist/main.js', import.meta.url));
const MISSING = '00000000-0000-4000-8000-00000000dead';

interface Association {
  floatingIpId: string;
  tenant: string;
  address: string;
  portId?: string;
  fixedIp?: string;
  networkId?: string;
  hostId?: string;
}
interface FloatingIp {
  id: string;
  tenant: string;
  address: string;
  association?: Association;
}

describe('NAT through the API and CLI', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let nat: ManagedProcess;
  let api: ApiHarness;
  let a: string;
  let b: string;
  let poolId: string;
  let networkId: string;

  /** The number of events in the log (as the admin sees it): a refused command must not change it. */
  async function eventCount(): Promise<number> {
    return (await api.json<{ events: unknown[] }>(api.tokens.admin, ['events', 'list', '--limit', '10000'])).events.length;
  }
  const port = async (token: string, network: string, ...extra: string[]) => (await api.json<{ id: string; fixedIps: { ip: string }[] }>(token, ['port', 'create', '--network', network, ...extra]));
  const fip = async (token: string) => api.json<FloatingIp>(token, ['floatingip', 'create', '--pool', poolId]);

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    nat = startProcess('nat', [process.execPath, NAT_MAIN], {
      env: { ...nats.env('nat'), STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', NAT_REACTOR_ACK_WAIT_MS: '2000', NAT_REACTOR_RETRY_MS: '200' },
    });
    await Promise.all([ipam.ready, nat.ready]);
    api = await startApi(nats.options('api'), ['tenant-a', 'tenant-b']);
    a = api.tokens['tenant-a']!;
    b = api.tokens['tenant-b']!;
    poolId = (await api.json<{ id: string }>(api.tokens.admin, ['pool', 'create', '--name', 'public', '--cidr', '203.0.113.0/24', '--purpose', 'floating-ip'])).id;
    networkId = (await api.json<{ id: string }>(a, ['network', 'create', '--name', 'web'])).id;
    await api.json(a, ['subnet', 'create', '--network', networkId, '--cidr', '10.0.0.0/24']);
  });

  afterAll(async () => {
    await api?.stop();
    await nat?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('associates, shows and disassociates a floating IP', async () => {
    const f = await fip(a);
    const p = await port(a, networkId);
    const fixedIp = p.fixedIps[0]!.ip;
    const assoc = await api.json<Association>(a, ['floatingip', 'associate', f.id, p.id]);
    // -o json is the API's message: the association's fields, no host while the port is unbound.
    expect(assoc).toEqual({ floatingIpId: f.id, tenant: 'tenant-a', address: f.address, portId: p.id, fixedIp, networkId });

    const shown = await api.json<FloatingIp>(a, ['floatingip', 'show', f.id]);
    expect(shown).toMatchObject({ id: f.id, address: f.address, association: assoc });
    const table = await api.cli(a, ['floatingip', 'show', f.id]);
    expect(table.out).toMatch(new RegExp(`│ PORT\\s+│ ${p.id} │`));
    expect(table.out).toMatch(new RegExp(`│ FIXED IP\\s+│ ${fixedIp.replaceAll('.', '\\.')}\\s+│`));
    const listed = await api.json<{ items: FloatingIp[] }>(a, ['floatingip', 'list']);
    expect(listed.items.find((x) => x.id === f.id)?.association?.portId).toBe(p.id);

    // Idempotent: the same association again is fine and writes nothing.
    const before = await eventCount();
    expect(await api.json<Association>(a, ['floatingip', 'associate', f.id, p.id, '--fixed-ip', fixedIp])).toEqual(assoc);
    expect(await eventCount()).toBe(before);

    const off = await api.cli(a, ['floatingip', 'disassociate', f.id]);
    expect(off.code).toBe(0);
    expect(off.out).toMatch(/│ PORT\s+│ not associated\s+│/);
    expect(await api.json<FloatingIp>(a, ['floatingip', 'show', f.id])).toMatchObject({ association: { floatingIpId: f.id, address: f.address } });
    expect((await api.json<FloatingIp>(a, ['floatingip', 'show', f.id])).association).not.toHaveProperty('portId');
  });

  it('ends the association when IPAM deletes the port (the reactor)', async () => {
    const f = await fip(a);
    const p = await port(a, networkId);
    await api.json(a, ['floatingip', 'associate', f.id, p.id]);
    await api.json(a, ['port', 'delete', p.id]);
    await waitFor(async () => (await api.json<FloatingIp>(a, ['floatingip', 'show', f.id])).association?.portId === undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `disassociation of ${f.id}`,
    });
  });

  it('turns a router’s external gateway on and off', async () => {
    const r = await api.json<{ id: string }>(a, ['router', 'create', '--name', 'edge']);
    expect(await api.json(a, ['router', 'set-gateway', r.id, '--enable'])).toEqual({ routerId: r.id, tenant: 'tenant-a', externalGateway: true });
    expect(await api.json(a, ['router', 'show', r.id])).toMatchObject({ id: r.id, externalGateway: true });
    expect((await api.cli(a, ['router', 'show', r.id])).out).toMatch(/│ EXTERNAL GATEWAY │ enabled\s+│/);
    expect(await api.json(a, ['router', 'set-gateway', r.id, '--disable'])).toMatchObject({ externalGateway: false });
    expect(await api.cli(a, ['router', 'set-gateway', r.id])).toMatchObject({ code: 2, err: 'error: INVALID_ARGUMENT: say --enable or --disable\n' });
    expect(await api.cli(b, ['router', 'set-gateway', r.id, '--enable'])).toMatchObject({ code: 1, err: `error: NOT_FOUND: router ${r.id} not found\n` });
  });

  it("keeps tenants apart: another tenant's floating IP is invisible", async () => {
    const theirs = await fip(b);
    const mine = await port(a, networkId);
    const notFound = { code: 1, err: `error: NOT_FOUND: floating IP ${theirs.id} not found\n` };
    expect(await api.cli(a, ['floatingip', 'show', theirs.id])).toMatchObject({ code: 1, err: expect.stringContaining(`NOT_FOUND: floating IP ${theirs.id} not found`) });
    expect(await api.cli(a, ['floatingip', 'associate', theirs.id, mine.id])).toMatchObject(notFound);
    expect(await api.cli(a, ['floatingip', 'disassociate', theirs.id])).toMatchObject(notFound);
    expect((await api.json<{ items: FloatingIp[] }>(a, ['floatingip', 'list'])).items.map((f) => f.id)).not.toContain(theirs.id);
    // The admin sees it, with its association state.
    expect(await api.json<FloatingIp>(api.tokens.admin, ['floatingip', 'show', theirs.id])).toMatchObject({ tenant: 'tenant-b', association: { floatingIpId: theirs.id } });
  });

  it('refuses invalid inputs with a clear message and a non-zero exit, writing no event anywhere', async () => {
    const mine = await fip(a);
    const busy = await fip(a);
    const theirs = await fip(b);
    const vm = await port(a, networkId);
    const other = await port(a, networkId);
    const bare = await port(a, networkId, '--no-fixed-ips');
    await api.json(a, ['floatingip', 'associate', busy.id, other.id]);
    const before = await eventCount();

    const cases: Array<[string, string[], number, string | RegExp]> = [
      ["another tenant's floating IP", ['floatingip', 'associate', theirs.id, vm.id], 1, `error: NOT_FOUND: floating IP ${theirs.id} not found`],
      ['already associated', ['floatingip', 'associate', busy.id, vm.id], 1,
        `error: FAILED_PRECONDITION: floating IP ${busy.id} (${busy.address}) is already associated with port ${other.id} (fixed IP ${other.fixedIps[0]!.ip}); disassociate it first`],
      ['port without address', ['floatingip', 'associate', mine.id, bare.id], 1, `error: FAILED_PRECONDITION: port ${bare.id} has no IPv4 address to translate floating IP ${mine.address} to`],
      ['fixed IP not the port’s', ['floatingip', 'associate', mine.id, vm.id, '--fixed-ip', '10.0.0.250'], 2, /^error: INVALID_ARGUMENT: fixedIp 10\.0\.0\.250 is not an IPv4 address of port /],
      ['unknown port', ['floatingip', 'associate', mine.id, MISSING], 1, `error: NOT_FOUND: port ${MISSING} not found`],
      ['unknown pool (IPAM)', ['floatingip', 'create', '--pool', MISSING], 1, `error: NOT_FOUND: pool ${MISSING} not found`],
    ];
    for (const [what, argv, exit, message] of cases) {
      const r = await api.cli(a, argv);
      expect(r.code, what).toBe(exit);
      expect(r.out, what).toBe('');
      if (typeof message === 'string') expect(r.err.trimEnd(), what).toBe(message);
      else expect(r.err.trimEnd(), what).toMatch(message);
    }
    expect(await eventCount()).toBe(before);
  });
});
