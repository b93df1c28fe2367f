/**
 * EVPN with a hardware VTEP, against real gobgpd and a real FRR switch in
 * network namespaces: two gateway instances peer in l2vpn-evpn with an `evpn`
 * gateway device (FRR, advertise-all-vni, a bridge + VXLAN device per VNI, a
 * bare-metal server on an access port). IPAM runs for real.
 *
 * Shown: the switch installs Strata's type-2 (the VM's MAC via its
 * hypervisor) and type-3 (the hypervisor in the flood list) in its kernel
 * with FRR's auto-derived route targets; a move changes the switch's FDB;
 * the switch's own MAC and VTEP are recorded once (two gateways) with the
 * binding's tenant; a VNI not bound on the device is refused, counted and not
 * written; unbinding withdraws everything on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgpPhysicalAggregate, physicalMacId, physicalVtepId, type PortView } from '@strata/contracts';
import { JetStreamEventStore, type StoredEvent } from '@strata/eventlog';
import { BgpClient, BgpFabric, EvpnSwitch, GATEWAY_AS, GW, IpamClient, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { eventsOf, metricValue, scrapeMetrics, startGateway, startIpam } from './test/support.js';

const WAIT = { timeoutMs: 60_000, intervalMs: 200 };
const SWITCH_AS = 65010;
const SWITCH_VTEP = '198.18.0.50';
const SERVER_MAC = '52:54:00:bb:00:01';
const SERVER_IP = '10.0.0.200';
const physicalSubject = (id: string): string => `strata.evt.bgp.${bgpPhysicalAggregate(id).type}.${id}`;

describe('BGP gateway with an EVPN switch (FRR)', () => {
  let nats: StrataNats;
  let ipamProc: ManagedProcess;
  const gateways: ManagedProcess[] = [];
  const fabric = new BgpFabric();
  let sw: EvpnSwitch;
  let store: JetStreamEventStore;
  let ipam: IpamClient;
  let bgp: BgpClient;
  let vni: number;
  let networkId: string;
  let deviceId: string;
  let bindingId: string;
  let vm: PortView;

  const start = (i: number): Promise<void> => {
    const p = startGateway(nats.url, `bgp-gw${i}`, { ...nats.env('bgp'), GOBGP_TARGET: `unix://${fabric.socket(i)}`, BGP_ROUTER_ID: GW[i - 1]! });
    gateways[i - 1] = p;
    return p.ready;
  };

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipamProc = startIpam(nats.url, nats.env('ipam'));
    await fabric.start();
    await Promise.all([ipamProc.ready, start(1), start(2)]);
    store = await JetStreamEventStore.open(await nats.connect('api'));
    ipam = new IpamClient(await nats.connect('api'));
    bgp = new BgpClient(ipam.nc, 15_000, ipam.seq);

    const hostPool = await ipam.command('pool.create', { name: 'h-ip', cidr: '203.0.113.128/26', purpose: 'host-ip' });
    await ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.11', hostPoolId: hostPool.id });
    await ipam.command('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.12', hostPoolId: hostPool.id });
    const net = await ipam.command('network.create', { name: 'metal' });
    networkId = net.id;
    vni = net.vni;
    await ipam.command('subnet.create', { networkId, cidr: '10.0.0.0/24' });
    vm = await ipam.command('port.create', { networkId, name: 'vm1', hostId: 'hv1', deviceId: 'vm-1' });
    await bgp.command('settings.set', { localAs: GATEWAY_AS, routerId: GW[0] });

    // The switch: on the underlay, its VNI's bridge with the server on an access port.
    const ns = await fabric.attach('sw', [`${SWITCH_VTEP}/24`]);
    sw = await EvpnSwitch.start({ ns, dir: `${fabric.dir}/sw`, prefix: `${fabric.id}-`, vtep: SWITCH_VTEP, asn: SWITCH_AS, peers: GW.map((address) => ({ address, asn: GATEWAY_AS })) });
    await sw.addVni(vni, '10.0.0.254/24');
    await sw.addServer('srv', vni, SERVER_MAC, `${SERVER_IP}/24`);
    // A VNI the switch has that no binding names: its routes must be refused.
    await sw.addVni(4_000_001);
    await sw.addServer('stray', 4_000_001, '52:54:00:bb:00:99', '10.9.0.1/24');

    const device = await ipam.command('gatewaydevice.create', {
      name: 'leaf1',
      kind: 'evpn',
      vtepIp: SWITCH_VTEP,
      bgp: { address: SWITCH_VTEP, remoteAs: SWITCH_AS },
      ports: [{ name: 'swp1', tenant: null }],
    });
    deviceId = device.id;
  }, 120_000);

  afterAll(async () => {
    for (const g of gateways) await g?.stop();
    await ipamProc?.stop();
    await sw?.stop();
    await fabric.stop();
    await nats?.stop();
  });

  it('peers in l2vpn-evpn and advertises nothing for a device without bindings', async () => {
    await waitFor(async () => (await sw.frr.json<{ peers?: Record<string, { state: string }> }>('show bgp l2vpn evpn summary json')).peers?.[GW[0]]?.state === 'Established', { ...WAIT, message: 'EVPN session with gateway 1' });
    await waitFor(async () => (await sw.frr.json<{ peers?: Record<string, { state: string }> }>('show bgp l2vpn evpn summary json')).peers?.[GW[1]]?.state === 'Established', { ...WAIT, message: 'EVPN session with gateway 2' });
    expect((await sw.evpnRoutes()).filter((r) => r.rd.startsWith(`${GATEWAY_AS}:`))).toEqual([]);
  });

  it('a binding: the switch installs the VM behind its hypervisor and floods to it; the server\'s MAC and VTEP are recorded once', async () => {
    const binding = await ipam.command('gatewaybinding.create', { deviceId, port: 'swp1', vlan: 10, networkId });
    bindingId = binding.id;
    await waitFor(async () => (await sw.fdb(vni)).get(vm.mac)?.includes('198.18.0.11') === true, { ...WAIT, message: 'VM MAC in the switch FDB via hv1' });
    expect((await sw.fdb(vni)).get('00:00:00:00:00:00')).toEqual(['198.18.0.11']);
    const neigh = await sw.ns.exec(['ip', 'neigh', 'show', 'dev', `br${vni}`]);
    expect(neigh).toContain(`${vm.fixedIps[0]!.ip} lladdr ${vm.mac}`);

    await sw.learnServer(SERVER_IP);
    const macId = physicalMacId(deviceId, vni, SERVER_MAC, SERVER_IP);
    const vtepId = physicalVtepId(deviceId, vni, SWITCH_VTEP);
    await waitFor(async () => (await eventsOf(store, physicalSubject(macId))).length > 0 && (await eventsOf(store, physicalSubject(vtepId))).length > 0, { ...WAIT, message: 'server MAC and VTEP recorded' });
    // Let both gateways settle, then each record exists once.
    await waitFor(async () => metricValue(await scrapeMetrics(gateways[1]!), 'strata_bgp_passes_total', { outcome: 'ok' }) >= 3, WAIT);
    const mac = await eventsOf(store, physicalSubject(macId));
    expect(mac.map((e) => e.type)).toEqual(['bgp.PhysicalMacLearned']);
    expect(mac[0]!.data).toEqual({ deviceId, vni, mac: SERVER_MAC, ip: SERVER_IP, vtep: SWITCH_VTEP });
    expect(mac[0]!.tenant).toBe(binding.tenant);
    expect((await eventsOf(store, physicalSubject(vtepId))).map((e) => e.type)).toEqual(['bgp.PhysicalVtepLearned']);
  });

  it('refuses, counts and does not write the routes of a VNI not bound on the device', async () => {
    await waitFor(async () => metricValue(await scrapeMetrics(gateways[0]!), 'strata_bgp_evpn_rejected_routes', { reason: 'unbound-vni' }) >= 2, { ...WAIT, message: 'stray VNI refused' });
    const written: StoredEvent[] = [];
    for await (const e of store.read({ fromSeq: 1 })) if (e.type.startsWith('bgp.Physical') && (e.data as { vni: number }).vni === 4_000_001) written.push(e);
    expect(written).toEqual([]);
    expect(metricValue(await scrapeMetrics(gateways[0]!), 'strata_bgp_evpn_routes_rejected_total', { reason: 'unbound-vni' })).toBeGreaterThanOrEqual(2);
  });

  it('a bound VNI whose routes name another VTEP than the device\'s is refused: a switch cannot point MACs at another machine', async () => {
    const other = await ipam.command('network.create', { name: 'metal-2' });
    await ipam.command('gatewaybinding.create', { deviceId, port: 'swp1', vlan: 20, networkId: other.id });
    // FRR announces this VNI's MACs and flood route with the VXLAN device's source address: another machine's.
    await sw.addVni(other.vni, undefined, '198.18.0.99');
    await sw.addServer('foreign', other.vni, '52:54:00:bb:00:77', '10.7.0.1/24');
    await waitFor(async () => metricValue(await scrapeMetrics(gateways[0]!), 'strata_bgp_evpn_rejected_routes', { reason: 'foreign-vtep' }) >= 2, { ...WAIT, message: 'foreign VTEP refused' });
    const written: StoredEvent[] = [];
    for await (const e of store.read({ fromSeq: 1 })) if (e.type.startsWith('bgp.Physical') && (e.data as { vni: number }).vni === other.vni) written.push(e);
    expect(written).toEqual([]);
    await sw.removeVni(other.vni);
  });

  it('a restarted gateway reads its EVPN paths back from gobgpd and changes nothing', async () => {
    await gateways[0]!.stop();
    await start(1);
    const scrape = async (): Promise<string> => scrapeMetrics(gateways[0]!);
    await waitFor(async () => metricValue(await scrape(), 'strata_bgp_advertised_routes') === 4, { ...WAIT, message: 'the restarted gateway read its 4 EVPN paths' });
    await waitFor(async () => metricValue(await scrape(), 'strata_bgp_passes_total', { outcome: 'ok' }) >= 3, WAIT);
    expect(metricValue(await scrape(), 'strata_bgp_rib_changes_total')).toBe(0);
    expect((await sw.fdb(vni)).get(vm.mac)).toEqual(['198.18.0.11']);
  });

  it('a VM moving to another hypervisor moves its MAC in the switch FDB and the flood list', async () => {
    await ipam.command('port.bind', { id: vm.id, hostId: 'hv2' });
    await waitFor(async () => (await sw.fdb(vni)).get(vm.mac)?.join() === '198.18.0.12', { ...WAIT, message: 'VM MAC via hv2' });
    await waitFor(async () => (await sw.fdb(vni)).get('00:00:00:00:00:00')?.join() === '198.18.0.12', { ...WAIT, message: 'flood list: hv2 only' });
  });

  it('unbinding withdraws every route on both sides', async () => {
    await ipam.command('gatewaybinding.delete', { id: bindingId });
    await waitFor(async () => !(await sw.fdb(vni)).has(vm.mac) && !(await sw.fdb(vni)).has('00:00:00:00:00:00'), { ...WAIT, message: 'switch FDB empty of Strata' });
    expect((await sw.evpnRoutes()).filter((r) => r.rd.startsWith(`${GATEWAY_AS}:`))).toEqual([]);
    const macId = physicalMacId(deviceId, vni, SERVER_MAC, SERVER_IP);
    await waitFor(async () => (await eventsOf(store, physicalSubject(macId))).at(-1)?.type === 'bgp.PhysicalMacWithdrawn', { ...WAIT, message: 'server MAC withdrawn' });
    const vtep = await eventsOf(store, physicalSubject(physicalVtepId(deviceId, vni, SWITCH_VTEP)));
    expect(vtep.map((e) => e.type)).toEqual(['bgp.PhysicalVtepLearned', 'bgp.PhysicalVtepWithdrawn']);
  });
});
