/**
 * The gateway's configuration commands over NATS against a real IPAM: every
 * invalid input is refused with its code and a message naming the problem,
 * and writes no event; valid ones answer with their view. No gobgpd here
 * (the control loop retries in the background): configuration is Strata
 * state first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BgpCommandInput, BgpCommandName } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { ADMIN, BgpClient, IpamClient, startProvisionedNats, type ManagedProcess, type Principal } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { startGateway, startIpam } from './test/support.js';

const tenant: Principal = { tenant: 'tenant-a', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('bgp commands', () => {
  let nats: StrataNats;
  let ipamProc: ManagedProcess;
  let gw: ManagedProcess;
  let store: JetStreamEventStore;
  let ipam: IpamClient;
  let bgp: BgpClient;

  beforeAll(async () => {
    // Production users: each service as its own NATS user, the test as the api (commands, queries, reading the log).
    nats = await startProvisionedNats();
    ipamProc = startIpam(nats.url, nats.env('ipam'));
    gw = startGateway(nats.url, 'bgp', { ...nats.env('bgp'), GOBGP_TARGET: 'unix:///nonexistent/gobgp.sock' });
    await Promise.all([ipamProc.ready, gw.ready]);
    store = await JetStreamEventStore.open(await nats.connect('api'));
    ipam = new IpamClient(await nats.connect('api'));
    bgp = new BgpClient(ipam.nc, 15_000, ipam.seq);
  });

  afterAll(async () => {
    await gw?.stop();
    await ipamProc?.stop();
    await nats?.stop();
  });

  it('configures settings, peers, peer groups and assignments, and answers with their views', async () => {
    expect(await bgp.query('settings.get', {})).toEqual({ localAs: null, routerId: null, listenPort: 179 });
    expect(await bgp.command('settings.set', { localAs: 65000, routerId: '198.18.0.2' })).toEqual({ localAs: 65000, routerId: '198.18.0.2', listenPort: 179 });
    const tor = await bgp.command('peer.create', { name: 'tor', address: '198.18.0.1', remoteAs: 65001, passwordRef: 'tor-md5' });
    expect(tor).toMatchObject({ address: '198.18.0.1', remoteAs: 65001, passwordRef: 'tor-md5' });
    const group = await bgp.command('peergroup.create', { name: 'fw', listenRange: '198.19.0.0/16', remoteAs: 65100, passwordRef: 'appliances' });
    expect(group).toMatchObject({ maxPrefixes: 16, sendDefault: false });
    const pool = await ipam.command('pool.create', { name: 'ap', cidr: '198.51.100.128/26', purpose: 'application-prefix' });
    const ap = await ipam.command('appprefix.create', { poolId: pool.id, length: 30 });
    expect(await bgp.command('appliance.assign', { prefixId: ap.id, deviceId: 'fw-1' })).toMatchObject({ prefix: ap.prefix, deviceId: 'fw-1' });
    // Idempotent: the same assignment again writes nothing.
    const before = await store.lastSeq();
    await bgp.command('appliance.assign', { prefixId: ap.id, deviceId: 'fw-1' });
    expect(await store.lastSeq()).toBe(before);
    expect((await bgp.query('peer.list', {})).items.map((p) => p.id)).toEqual([tor.id]);
    // No secret in the log: only the reference.
    for await (const e of store.read({ subject: 'strata.evt.bgp.>' })) expect(JSON.stringify(e.data)).not.toMatch(/password"\s*:/i);
  });

  it('refuses every invalid input with its code and writes no event', async () => {
    const pool = await ipam.command('pool.create', { name: 'ap2', cidr: '198.51.100.192/26', purpose: 'application-prefix' });
    const ap = await ipam.command('appprefix.create', { poolId: pool.id, length: 32 });
    await bgp.command('appliance.assign', { prefixId: ap.id, deviceId: 'fw-9' });
    const tor = (await bgp.query('peer.list', {})).items[0]!;
    const group = (await bgp.query('peergroup.list', {})).items[0]!;
    const cases: Array<[string, BgpCommandName, BgpCommandInput<BgpCommandName>, Principal, string, RegExp]> = [
      ['tenant caller', 'peer.create', { name: 'x', address: '198.18.0.9', remoteAs: 65001 }, tenant, 'PERMISSION_DENIED', /admin/],
      ['AS 0', 'settings.set', { localAs: 0, routerId: '198.18.0.2' }, ADMIN, 'INVALID_ARGUMENT', /localAs.*AS number/],
      ['AS too large', 'peer.create', { name: 'x', address: '198.18.0.9', remoteAs: 4294967296 }, ADMIN, 'INVALID_ARGUMENT', /remoteAs/],
      ['IPv6 router id', 'settings.set', { localAs: 65000, routerId: '2001:db8::1' }, ADMIN, 'INVALID_ARGUMENT', /routerId.*IPv4/],
      ['bad address', 'peer.create', { name: 'x', address: '198.18.0.300', remoteAs: 65001 }, ADMIN, 'INVALID_ARGUMENT', /address/],
      ['password instead of a reference', 'peer.create', { name: 'x', address: '198.18.0.9', remoteAs: 65001, passwordRef: 'My Secret!' }, ADMIN, 'INVALID_ARGUMENT', /passwordRef.*not the password/],
      ['duplicate peer address', 'peer.create', { name: 'x', address: '198.18.0.1', remoteAs: 65001 }, ADMIN, 'ALREADY_EXISTS', /already has address 198.18.0.1/],
      ['peer inside a listen range', 'peer.create', { name: 'x', address: '198.19.3.3', remoteAs: 65001 }, ADMIN, 'FAILED_PRECONDITION', /inside the listen range 198.19.0.0\/16/],
      ['IPv6 peer', 'peer.create', { name: 'x', address: '2001:db8::1', remoteAs: 65001 }, ADMIN, 'INVALID_ARGUMENT', /IPv6 fabric sessions/],
      ['unknown peer', 'peer.delete', { id: MISSING }, ADMIN, 'NOT_FOUND', /BGP peer .* not found/],
      ['listen range with host bits', 'peergroup.create', { name: 'g', listenRange: '10.0.0.1/8', remoteAs: 65100 }, ADMIN, 'INVALID_ARGUMENT', /did you mean 10.0.0.0\/8/],
      ['overlapping listen range', 'peergroup.create', { name: 'g', listenRange: '198.19.4.0/24', remoteAs: 65100 }, ADMIN, 'FAILED_PRECONDITION', /overlaps 198.19.0.0\/16/],
      ['range containing a peer', 'peergroup.create', { name: 'g', listenRange: '198.18.0.0/24', remoteAs: 65100 }, ADMIN, 'FAILED_PRECONDITION', /contains the address 198.18.0.1/],
      ['max prefixes 0', 'peergroup.create', { name: 'g', listenRange: '10.9.0.0/16', remoteAs: 65100, maxPrefixes: 0 }, ADMIN, 'INVALID_ARGUMENT', /maxPrefixes/],
      ['unknown application prefix', 'appliance.assign', { prefixId: MISSING, deviceId: 'fw-1' }, ADMIN, 'NOT_FOUND', /application prefix .* not found/],
      ['prefix assigned elsewhere', 'appliance.assign', { prefixId: ap.id, deviceId: 'fw-1' }, ADMIN, 'FAILED_PRECONDITION', /assigned to appliance fw-9; unassign it first/],
      ['empty device', 'appliance.assign', { prefixId: ap.id, deviceId: '' }, ADMIN, 'INVALID_ARGUMENT', /deviceId/],
      ['unassign unknown', 'appliance.unassign', { prefixId: MISSING }, ADMIN, 'NOT_FOUND', /not found/],
      ['stale peer revision', 'peer.update', { id: tor.id, remoteAs: 65009, expectedRevision: 5 }, ADMIN, 'FAILED_PRECONDITION', new RegExp(`BGP peer ${tor.id} is at revision 1, not the expected 5`)],
      ['peer address', 'peer.update', { id: tor.id, address: '198.18.0.7' } as never, ADMIN, 'INVALID_ARGUMENT', /^invalid request: address: cannot be changed: a BGP peer's address is fixed/],
      ['listen range', 'peergroup.update', { id: group.id, listenRange: '198.20.0.0/16' } as never, ADMIN, 'INVALID_ARGUMENT', /^invalid request: listenRange: cannot be changed/],
      ['update as a tenant', 'peergroup.update', { id: group.id, sendDefault: true }, tenant, 'PERMISSION_DENIED', /admin/],
      ['unknown group', 'peergroup.update', { id: MISSING, sendDefault: true }, ADMIN, 'NOT_FOUND', /BGP peer group .* not found/],
      ['max prefixes above the bound', 'peergroup.update', { id: group.id, maxPrefixes: 1001 }, ADMIN, 'INVALID_ARGUMENT', /maxPrefixes/],
    ];
    for (const [what, op, body, who, code, message] of cases) {
      const before = await store.lastSeq();
      const err = await bgp.command(op, body as never, who).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err, what).toBeDefined();
      expect(err!.code, what).toBe(code);
      expect(err!.message, what).toMatch(message);
      expect(await store.lastSeq(), `${what} wrote an event`).toBe(before);
    }
    await expect(bgp.query('route.list', {}, tenant)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('updates a peer and a peer group: only real changes, one revision each; the same values write nothing', async () => {
    const tor = (await bgp.query('peer.list', {})).items[0]!;
    const updated = await bgp.command('peer.update', { id: tor.id, remoteAs: 65011, passwordRef: null, expectedRevision: tor.revision });
    expect(updated).toEqual({ ...tor, remoteAs: 65011, passwordRef: null, revision: tor.revision + 1 });
    const group = (await bgp.query('peergroup.list', {})).items[0]!;
    expect(await bgp.command('peergroup.update', { id: group.id, maxPrefixes: 32, sendDefault: true })).toMatchObject({ maxPrefixes: 32, sendDefault: true, revision: group.revision + 1 });
    const before = await store.lastSeq();
    expect(await bgp.command('peer.update', { id: tor.id, name: tor.name, remoteAs: 65011, expectedRevision: tor.revision + 1 })).toEqual(updated);
    expect(await store.lastSeq()).toBe(before);
  });
});
