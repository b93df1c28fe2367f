/**
 * Availability zones over MP-BGP EVPN, against real gobgpd and a real FRR
 * route reflector in network namespaces (docs/architecture.md,
 * "Availability zones"). Zone az1 is real (IPAM and a gateway with its
 * gobgpd); zone az2's gateway and a rogue speaker are gobgpds driven over
 * their API (what another zone's gateway would send, and what it must not).
 * All three are route-reflector clients of FRR with TCP-MD5 (a fourth, with
 * the wrong secret, never gets a session).
 *
 * Shown: the sessions come up in l2vpn-evpn with MD5; az1's stretched
 * network reaches the reflector (type 2 per VM, type 3 per hypervisor, the
 * VM's hypervisor as next hop, RT <federation AS>:<VNI>, the origin
 * community) and nothing of a network that is not stretched; az2's routes
 * are recorded once with the route's own VTEP and the network's tenant; the
 * rogue's routes (a next hop in no zone, a zone naming itself as another, a
 * third zone on a segment it does not share, a VNI not stretched here) are
 * refused, counted per zone and reason, never written; az2 withdrawing a MAC
 * is recorded; un-stretching the network withdraws az1's routes at the
 * reflector and az2's records.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgpPhysicalAggregate, physicalMacId, physicalVtepId, type PortView } from '@strata/contracts';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { BgpClient, BgpFabric, GATEWAY_AS, GW, IpamClient, RouteReflector, sh, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { originCommunity } from './domain/federation.js';
import type { EvpnRoute } from './domain/evpn.js';
import { GobgpClient } from './gobgp/client.js';
import { peerConfig } from './gobgp/engine-config.js';
import { eventsOf, metricValue, scrapeMetrics, startGateway, startIpam } from './test/support.js';

const WAIT = { timeoutMs: 60_000, intervalMs: 200 };
const FEDERATION_AS = 65500;
const RR = '198.18.0.100';
const RR_PASSWORD = 'zones-md5-secret';
const AZ2_SPEAKER = '198.18.0.120';
const ROGUE = '198.18.0.121';
/** A speaker that does not know the reflector's TCP-MD5 secret. */
const STRANGER = '198.18.0.122';
/** az2's hypervisors live in 198.18.0.16/28, az3's in 198.18.0.32/28; az2 allocates VNIs 2000-2999, az3 3000-3999. */
const AZ2_HV = '198.18.0.19';
const JOINED_VNI = 2005;
const physicalSubject = (id: string): string => `strata.evt.bgp.${bgpPhysicalAggregate(id).type}.${id}`;

/** A gobgpd standing in for another zone's gateway: a reflector client announcing what it is told to. */
class Speaker {
  constructor(readonly client: GobgpClient) {}

  static async start(fabric: BgpFabric, n: number, role: string, address: string, password = RR_PASSWORD): Promise<Speaker> {
    const ns = await fabric.attach(role, [`${address}/24`]);
    mkdirSync(join(fabric.dir, `gw${n}`), { recursive: true });
    await fabric.startGobgpd(n, ns.name);
    const client = new GobgpClient({ target: `unix://${fabric.socket(n)}` });
    await client.startBgp({ asn: FEDERATION_AS, router_id: address, listen_port: -1 });
    await client.addPeer(peerConfig({ kind: 'reflector', address: RR, remoteAs: FEDERATION_AS, passwordRef: 'rr' }, password));
    return new Speaker(client);
  }

  announce(zoneId: number, ...routes: EvpnRoute[]): Promise<void> {
    return this.client.applyEvpnPaths(
      routes.map((route) => ({ route, routeTargets: [{ asn: FEDERATION_AS, value: route.vni }], communities: [originCommunity(FEDERATION_AS, zoneId)] })),
      [],
    );
  }

  withdraw(...routes: EvpnRoute[]): Promise<void> {
    return this.client.applyEvpnPaths([], routes);
  }
}

const mac = (vni: number, m: string, ip: string, nextHop: string, rd = `2:${vni}`): EvpnRoute => ({ type: 'mac-ip', rd, vni, mac: m, ip, nextHop });
const imet = (vni: number, vtep: string, rd = `2:${vni}`): EvpnRoute => ({ type: 'imet', rd, vni, vtep, nextHop: vtep });

describe('zones federated through an FRR route reflector', () => {
  let nats: StrataNats;
  let ipamProc: ManagedProcess;
  let gateway: ManagedProcess;
  const fabric = new BgpFabric();
  let rr: RouteReflector;
  let az2: Speaker;
  let rogue: Speaker;
  let stranger: Speaker;
  let rrNs: string;
  let store: JetStreamEventStore;
  let ipam: IpamClient;
  let bgp: BgpClient;
  let stretched: { id: string; vni: number; tenant: string };
  let local: { id: string; vni: number };
  let joined: { id: string; vni: number; tenant: string };
  let vm: PortView;

  const scrape = (): Promise<string> => scrapeMetrics(gateway);
  const writtenFor = async (pred: (e: StoredEvent) => boolean): Promise<StoredEvent[]> => {
    const out: StoredEvent[] = [];
    for await (const e of store.read({ fromSeq: 1 })) if (e.type.startsWith('bgp.Physical') && pred(e)) out.push(e);
    return out;
  };

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipamProc = startIpam(nats.url, { ...nats.env('ipam'), IPAM_VNI_MIN: '1000', IPAM_VNI_MAX: '1999' });
    await fabric.start(1);
    gateway = startGateway(nats.url, 'bgp-az1', { ...nats.env('bgp'), GOBGP_TARGET: `unix://${fabric.socket(1)}`, BGP_ROUTER_ID: GW[0], BGP_PASSWORD_RR: RR_PASSWORD });
    await Promise.all([ipamProc.ready, gateway.ready]);
    store = await JetStreamEventStore.open(await nats.connect('api'));
    ipam = new IpamClient(await nats.connect('api'));
    bgp = new BgpClient(ipam.nc, 15_000, ipam.seq);

    rrNs = (await fabric.attach('rr', [`${RR}/24`])).name;
    rr = await RouteReflector.start({
      ns: rrNs,
      dir: `${fabric.dir}/rr`,
      address: RR,
      asn: FEDERATION_AS,
      clients: [GW[0], AZ2_SPEAKER, ROGUE, STRANGER].map((address) => ({ address, password: RR_PASSWORD })),
    });
    az2 = await Speaker.start(fabric, 3, 'az2', AZ2_SPEAKER);
    rogue = await Speaker.start(fabric, 4, 'rogue', ROGUE);
    stranger = await Speaker.start(fabric, 5, 'stranger', STRANGER, 'not-the-secret');

    const hostPool = await ipam.command('pool.create', { name: 'h-ip', cidr: '203.0.113.128/26', purpose: 'host-ip' });
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id });
    await ipam.command('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: hostPool.id });
    const a = await ipam.command('network.create', { tenant: 'tenant-a', name: 'stretched', federated: true });
    stretched = { id: a.id, vni: a.vni, tenant: a.tenant };
    await ipam.command('subnet.create', { networkId: a.id, cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.10', end: '10.0.0.99' }] });
    vm = await ipam.command('port.create', { networkId: a.id, name: 'vm1', hostId: 'hv1', deviceId: 'vm-1' });
    await ipam.command('port.create', { networkId: a.id, name: 'vm2', hostId: 'hv2', deviceId: 'vm-2' });
    const b = await ipam.command('network.create', { tenant: 'tenant-a', name: 'local' });
    local = { id: b.id, vni: b.vni };
    await ipam.command('subnet.create', { networkId: b.id, cidr: '10.1.0.0/24' });
    await ipam.command('port.create', { networkId: b.id, name: 'vm3', hostId: 'hv1', deviceId: 'vm-3' });
    const j = await ipam.command('network.create', { tenant: 'tenant-b', name: 'joined', federated: true, vni: JOINED_VNI });
    joined = { id: j.id, vni: j.vni, tenant: j.tenant };

    await bgp.command('settings.set', { localAs: GATEWAY_AS, routerId: GW[0] });
    await bgp.command('federation.set', {
      localZone: { name: 'az1', id: 1 },
      federationAs: FEDERATION_AS,
      routeReflectors: [{ address: RR, passwordRef: 'rr' }],
      zones: [
        { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }], maxRoutes: 100 },
        { name: 'az3', id: 3, vtepPrefixes: ['198.18.0.32/28'], vniRanges: [{ min: 3000, max: 3999 }], maxRoutes: 100 },
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await ipamProc?.stop();
    az2?.client.close();
    rogue?.client.close();
    stranger?.client.close();
    await rr?.stop();
    await fabric.stop();
    await nats?.stop();
  });

  it('every zone is a route-reflector client over TCP-MD5 in l2vpn-evpn', async () => {
    for (const client of [GW[0], AZ2_SPEAKER, ROGUE]) await waitFor(async () => (await rr.sessionState(client)) === 'Established', { ...WAIT, message: `reflector session with ${client}` });
    // A wrong secret: the reflector's kernel drops its segments (TCP-MD5 failures count) and the session never comes up.
    const md5Failures = async (): Promise<number> => Number(/TcpExtTCPMD5Failure\s+(\d+)/.exec(await sh(['ip', 'netns', 'exec', rrNs, 'nstat', '-az', 'TcpExtTCPMD5Failure']))?.[1] ?? 0);
    await waitFor(async () => (await md5Failures()) > 0, { ...WAIT, message: 'TCP-MD5 failures at the reflector' });
    expect(await rr.sessionState(STRANGER)).not.toBe('Established');
  });

  it("the stretched network reaches the reflector: a type 2 per VM and a type 3 per hypervisor, each VM's hypervisor as next hop, RT and origin community; the local network does not", async () => {
    const ours = async () => (await rr.evpnRoutes()).filter((r) => r.rd.startsWith('1:'));
    await waitFor(async () => (await ours()).length === 4, { ...WAIT, message: "az1's 4 routes at the reflector" });
    const routes = await ours();
    expect(new Set(routes.map((r) => r.rd))).toEqual(new Set([`1:${stretched.vni}`]));
    const vmRoute = routes.find((r) => r.prefix.includes(vm.mac) && r.prefix.includes(vm.fixedIps[0]!.ip));
    expect(vmRoute?.nextHop).toBe('198.18.0.11');
    expect(routes.filter((r) => r.prefix.startsWith('[3]')).map((r) => r.nextHop).sort()).toEqual(['198.18.0.11', '198.18.0.12']);
    for (const r of routes) expect(r.extendedCommunities).toContain(`RT:${FEDERATION_AS}:${stretched.vni}`);
    expect((await rr.evpnRoutes()).some((r) => r.rd.endsWith(`:${local.vni}`))).toBe(false);
    // Reflected to the other zone with the next hop untouched and the origin community.
    await waitFor(async () => (await az2.client.evpnPaths('ADJ_IN', RR)).filter((p) => p.route.rd.startsWith('1:')).length === 4, { ...WAIT, message: "az2 received az1's routes" });
    for (const p of (await az2.client.evpnPaths('ADJ_IN', RR)).filter((x) => x.route.rd.startsWith('1:'))) {
      expect(p.communities).toContain(originCommunity(FEDERATION_AS, 1));
      expect(['198.18.0.11', '198.18.0.12']).toContain(p.route.nextHop);
    }
  });

  it("another zone's MACs and flood VTEPs are recorded once, with the route's own VTEP and the network's tenant", async () => {
    await az2.announce(2, mac(stretched.vni, '52:54:00:02:00:01', '10.0.0.120', AZ2_HV), imet(stretched.vni, AZ2_HV), mac(JOINED_VNI, '52:54:00:02:00:05', '', AZ2_HV));
    const macId = physicalMacId('zone-az2', stretched.vni, '52:54:00:02:00:01', '10.0.0.120');
    const vtepId = physicalVtepId('zone-az2', stretched.vni, AZ2_HV);
    const joinedId = physicalMacId('zone-az2', JOINED_VNI, '52:54:00:02:00:05', undefined);
    await waitFor(async () => (await Promise.all([macId, vtepId, joinedId].map((id) => eventsOf(store, physicalSubject(id))))).every((e) => e.length > 0), { ...WAIT, message: "az2's routes recorded" });
    const recorded = await eventsOf(store, physicalSubject(macId));
    expect(recorded.map((e) => [e.type, e.tenant, e.data])).toEqual([['bgp.PhysicalMacLearned', stretched.tenant, { deviceId: 'zone-az2', vni: stretched.vni, mac: '52:54:00:02:00:01', ip: '10.0.0.120', vtep: AZ2_HV }]]);
    expect((await eventsOf(store, physicalSubject(joinedId)))[0]!.tenant).toBe(joined.tenant);
    expect((await eventsOf(store, physicalSubject(vtepId))).map((e) => e.type)).toEqual(['bgp.PhysicalVtepLearned']);
  });

  it('a rogue speaker is refused, counted per zone and reason, and nothing of it is written', async () => {
    await rogue.announce(
      3,
      mac(stretched.vni, '52:54:00:66:00:01', '10.0.0.66', '198.18.0.200', '3:1'), // a next hop in no zone
      mac(stretched.vni, '52:54:00:66:00:02', '10.0.0.67', '198.18.0.20', '3:2'), // az3 posing as an az2 hypervisor
      mac(JOINED_VNI, '52:54:00:66:00:03', '', '198.18.0.33', '3:3'), // az3 on az2's segment, which it does not share
      mac(local.vni, '52:54:00:66:00:04', '', '198.18.0.34', '3:4'), // a network not stretched here
    );
    const rejected = (zone: string, reason: string) => async () => metricValue(await scrape(), 'strata_bgp_federation_rejected_routes', { zone, reason }) >= 1;
    await waitFor(rejected('unknown', 'unknown-origin'), { ...WAIT, message: 'unknown origin refused' });
    await waitFor(rejected('az2', 'zone-mismatch'), { ...WAIT, message: 'zone mismatch refused' });
    await waitFor(rejected('az3', 'vni-not-owned'), { ...WAIT, message: 'VNI not owned refused' });
    await waitFor(rejected('az3', 'not-federated'), { ...WAIT, message: 'VNI not stretched refused' });
    const text = await scrape();
    expect(metricValue(text, 'strata_bgp_federation_routes_rejected_total')).toBeGreaterThanOrEqual(4);
    expect(await writtenFor((e) => (e.data as { mac?: string }).mac?.startsWith('52:54:00:66') === true)).toEqual([]);
    expect(await writtenFor((e) => (e.data as { deviceId: string }).deviceId === 'zone-az3')).toEqual([]);
  });

  it("another zone withdrawing a MAC is recorded; un-stretching the network withdraws this zone's routes at the reflector and that zone's records", async () => {
    await az2.withdraw(mac(stretched.vni, '52:54:00:02:00:01', '10.0.0.120', AZ2_HV));
    const macId = physicalMacId('zone-az2', stretched.vni, '52:54:00:02:00:01', '10.0.0.120');
    await waitFor(async () => (await eventsOf(store, physicalSubject(macId))).at(-1)?.type === 'bgp.PhysicalMacWithdrawn', { ...WAIT, message: 'az2 MAC withdrawn' });

    const network = await ipam.query('network.get', { id: stretched.id });
    await ipam.command('network.update', { id: stretched.id, federated: false, expectedRevision: network.revision });
    await waitFor(async () => !(await rr.evpnRoutes()).some((r) => r.rd.startsWith('1:')), { ...WAIT, message: "az1's routes withdrawn at the reflector" });
    const vtepId = physicalVtepId('zone-az2', stretched.vni, AZ2_HV);
    await waitFor(async () => (await eventsOf(store, physicalSubject(vtepId))).at(-1)?.type === 'bgp.PhysicalVtepWithdrawn', { ...WAIT, message: "az2's flood VTEP withdrawn" });
    // the joined network is still stretched: its record stays
    const joinedId = physicalMacId('zone-az2', JOINED_VNI, '52:54:00:02:00:05', undefined);
    expect((await eventsOf(store, physicalSubject(joinedId))).map((e) => e.type)).toEqual(['bgp.PhysicalMacLearned']);
  });
});
