/**
 * A tenant segment extended to a hardware VTEP over BGP EVPN, with real
 * packets: the lab's three hypervisors with agents and VMs, the BGP gateway
 * (gobgpd on the underlay), and a "switch" namespace running FRR with
 * `advertise-all-vni`, a bridge + VXLAN device for the segment's VNI and a
 * bare-metal server on an access port (infra/lab/src/evpn-switch.ts).
 *
 *   IPAM: an `evpn` gateway device (the switch) and a binding of the network
 *   → gateway: type-2 per VM, type-3 per hypervisor to the switch; the
 *     switch's type-2/3 recorded as bgp.PhysicalMac/VtepLearned
 *   → hostview: the server's MAC as a RemoteEndpoint behind the switch's
 *     VTEP, the switch in the flood list → agents: FDB + neighbour entries
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostviewBucket, physicalMacId, type NetworkView, type PortView } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import { ADMIN, capture, eventually, EvpnSwitch, GATEWAY_AS, GATEWAY_UNDERLAY_IP, Lab, sh, succeeds, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import type { NatsConnection } from 'nats';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { expectEachTenantReachesItsOwnServer } from '../support/same-address-servers.js';
import { metric } from '../support/metrics.js';

const SWITCH_VTEP = '198.18.0.50';
const SWITCH_AS = 65010;
const SERVER_MAC = '52:54:00:bb:00:01';
const SERVER_IP = '10.0.0.200';
const SERVER_B_MAC = '52:54:00:bb:00:02';
const STRAY_VNI = 4_000_001;
/** Attempts of 250 ms at anything that converges (BGP sessions, the switch's zebra, host views): 2 minutes, for a loaded machine (a CI run's first binding took over 30 s). */
const CONVERGE = 480;

const d = describeIf(kernel(['tcpdump', '--version'], ['gobgpd', '--version'], ['/usr/lib/frr/bgpd', '--version']));

d('EVPN with a hardware VTEP (FRR switch, bare-metal server on an access port)', () => {
  let lab: Lab;
  let t: TenantSetup;
  let net: NetworkView;
  let sw: EvpnSwitch;
  let admin: NatsConnection;
  let deviceId: string;
  let bindingId: string;
  const vms: Vm[] = [];
  let server: { ns: string };

  /** The FDB of a hypervisor's VXLAN device for the network (what the agent programmed). */
  const hostFdb = async (hostId: string): Promise<string> => sh(['bridge', '-n', lab.host(hostId).ns.name, 'fdb', 'show', 'dev', `svx${net.vni}`]).catch(() => ''); // no device: the host has left the network
  const hostview = async (hostId: string, key: string): Promise<unknown> => {
    const kv = await admin.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
    const e = await kv.get(key);
    return e?.operation === 'PUT' ? (e.json() as unknown) : undefined;
  };
  const serverPing = async (ip: string): Promise<boolean> => succeeds(['ip', 'netns', 'exec', server.ns, 'ping', '-c', '1', '-W', '2', ip]);

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3, external: true, bgp: true });
    admin = await lab.natsUsers.connect('admin');
    t = await tenantWithRouter(lab, 'tenant-a');
    net = t.nets[0]!;
    // The server is no member of the VMs' groups: their group admits it by address (ICMP, the test's traffic).
    const metal = await lab.secgroup.command('group.create', { name: 'metal', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: metal.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteCidr: `${SERVER_IP}/32` }, t.who);
    await lab.secgroup.command('rule.create', { groupId: metal.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, t.who);
    for (const [i, h] of ['hv1', 'hv2', 'hv3'].entries()) {
      const v = await vmOn(lab, t, `v${i + 1}`, 0, h);
      await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [metal.id] }, t.who);
      vms.push(v);
    }
    const ns = await EvpnSwitch.onUnderlay(lab.prefix, lab.fabric, 'ul0', SWITCH_VTEP);
    sw = await EvpnSwitch.start({ ns, dir: `/tmp/${lab.prefix}sw-frr`, prefix: lab.prefix, vtep: SWITCH_VTEP, asn: SWITCH_AS, peers: [{ address: GATEWAY_UNDERLAY_IP, asn: GATEWAY_AS }] });
    await sw.addVni(net.vni, '10.0.0.250/24');
    server = { ns: (await sw.addServer('srv', net.vni, SERVER_MAC, `${SERVER_IP}/24`)).name };
    const device = await lab.ipam.command('gatewaydevice.create', { name: 'leaf1', kind: 'evpn', vtepIp: SWITCH_VTEP, bgp: { address: SWITCH_VTEP, remoteAs: SWITCH_AS }, ports: [{ name: 'swp1', tenant: null }] }, ADMIN);
    deviceId = device.id;
  }, 240_000);

  afterAll(async () => {
    await sw?.stop().catch(() => undefined);
    await sh(['rm', '-rf', `/tmp/${lab?.prefix}sw-frr`]).catch(() => undefined);
    await lab?.destroy();
  });

  it('a binding: FRR\'s EVPN table has Strata\'s type-2 per VM and type-3 per hypervisor, and the switch installs them', async () => {
    bindingId = (await lab.ipam.command('gatewaybinding.create', { deviceId, port: 'swp1', vlan: 10, networkId: net.id }, ADMIN)).id;
    await eventually(async () => {
      const fdb = await sw.fdb(net.vni);
      return vms.every((v, i) => fdb.get(v.port.mac)?.join() === lab.host(`hv${i + 1}`).vtepIp) && fdb.get('00:00:00:00:00:00')?.length === 3;
    }, 'the switch FDB: each VM behind its hypervisor, every hypervisor in the flood list', CONVERGE).catch(async (err: Error) => {
      // What the switch saw: whether the session with the gateway was up, and which routes it had (a CI run timed out here once).
      const seen = await Promise.all(['show bgp summary', 'show bgp l2vpn evpn'].map((c) => sw.frr.vtysh(c).catch((e: Error) => e.message)));
      throw new Error(`${err.message}\n${seen.join('\n')}\nFDB: ${JSON.stringify([...(await sw.fdb(net.vni)).entries()])}`);
    });
    const evpn = await sw.frr.vtysh('show bgp l2vpn evpn');
    for (const v of vms) expect(evpn).toContain(`[2]:[0]:[48]:[${v.port.mac}]:[32]:[${v.port.fixedIps[0]!.ip}]`);
    for (const h of lab.hosts) expect(evpn).toContain(`[3]:[0]:[32]:[${h.vtepIp}]`);
    const macs = await sw.frr.vtysh(`show evpn mac vni ${net.vni}`);
    for (const v of vms) expect(macs).toMatch(new RegExp(`${v.port.mac}\\s+remote\\s+198\\.18\\.0\\.1[123]`));
  }, 5 * 60_000);

  it('Strata\'s host views and every hypervisor hold the server behind the switch; the server and the VMs ping each other', async () => {
    await sw.learnServer(SERVER_IP);
    const id = `phys-${deviceId}-${net.vni}-${SERVER_MAC.replaceAll(':', '')}`;
    // The switch sends the server's MAC-only route first and its MAC/IP route once it resolved the address:
    // wait for the endpoint with its address on every host (each host's view is written on its own).
    const endpoint = { id, ips: [SERVER_IP], mac: SERVER_MAC, networkId: net.id, vtep: SWITCH_VTEP };
    for (const h of ['hv1', 'hv2', 'hv3']) {
      await eventually(async () => ((await hostview(h, `${h}.ep.${id}`)) as { ips?: string[] } | undefined)?.ips?.includes(SERVER_IP) === true, `the server with its address in ${h}'s host view`, CONVERGE);
    }
    expect(await hostview('hv2', `hv2.ep.${id}`)).toEqual(endpoint);
    expect((await hostview('hv3', `hv3.net.${net.id}`)) as { floodVteps: string[] }).toMatchObject({ floodVteps: expect.arrayContaining([SWITCH_VTEP]) as unknown });
    // The server's endpoint and the network's flood list are two keys of the host view, applied as each
    // arrives: wait for both on every host.
    for (const h of ['hv1', 'hv2', 'hv3']) {
      await eventually(async () => (await hostFdb(h)).includes(`${SERVER_MAC} dst ${SWITCH_VTEP}`), `${h}: the server's MAC via the switch`, CONVERGE);
      await eventually(async () => (await hostFdb(h)).includes(`00:00:00:00:00:00 dst ${SWITCH_VTEP}`), `${h}: the segment flooded to the switch`, CONVERGE);
    }
    for (const v of vms) await v.pingEventually(SERVER_IP);
    for (const v of vms) expect(await serverPing(v.ip)).toBe(true);
  }, 5 * 60_000);

  it('no ARP request for a known address crosses the underlay (answered on the hypervisor and on the switch)', async () => {
    for (const v of vms) await v.ns.ip(['neigh', 'flush', 'dev', 'eth0']);
    await sh(['ip', '-n', server.ns, 'neigh', 'flush', 'dev', 'eth0']);
    const underlay = capture(lab.fabric.name, 'ul0', 'udp port 4789', 6);
    await underlay.started;
    for (const v of vms) expect(await v.pingOnce(SERVER_IP)).toBe(true);
    for (const v of vms) expect(await serverPing(v.ip)).toBe(true);
    const lines = await underlay.lines;
    expect(lines.some((l) => l.includes('ICMP echo request'))).toBe(true);
    expect(lines.filter((l) => l.includes('ARP, Request'))).toEqual([]);
  });

  // Bound as VLANs 10 and 20 of port swp1; in the lab each VLAN's server has its own access port (this kernel cannot tag).
  it('two tenants with the same addresses on two VLANs of one switch port stay apart', async () => {
    const b = await tenantWithRouter(lab, 'tenant-b');
    const netB = b.nets[0]!;
    await sw.addVni(netB.vni, '10.0.0.251/24');
    const serverB = (await sw.addServer('srvb', netB.vni, SERVER_B_MAC, `${SERVER_IP}/24`)).name;
    await lab.ipam.command('gatewaybinding.create', { deviceId, port: 'swp1', vlan: 20, networkId: netB.id }, ADMIN);
    const vb = await vmOn(lab, b, 'vb', 0, 'hv2');
    await vb.pingEventually(SERVER_IP);
    await expectEachTenantReachesItsOwnServer({ ip: SERVER_IP, a: { vms, serverMac: SERVER_MAC }, b: { vm: vb, serverMac: SERVER_B_MAC, serverNs: serverB } });
  });

  it('a route from the switch with a VNI Strata does not know is ignored, counted and not written', async () => {
    await sw.addVni(STRAY_VNI);
    await sw.addServer('stray', STRAY_VNI, '52:54:00:bb:00:99', '10.9.0.1/24');
    await eventually(async () => (await metric(lab.bgp!.gateway, 'strata_bgp_evpn_rejected_routes')) >= 2, 'the stray VNI\'s routes refused', CONVERGE);
    const store = await JetStreamEventStore.open(await lab.natsUsers.connect('api'));
    const stray: unknown[] = [];
    for await (const e of store.read({ fromSeq: 1 })) if (e.type.startsWith('bgp.Physical') && (e.data as { vni: number }).vni === STRAY_VNI) stray.push(e);
    expect(stray).toEqual([]);
    expect(await metric(lab.bgp!.gateway, 'strata_bgp_evpn_routes_rejected_total')).toBeGreaterThanOrEqual(2);
  });

  it('a VM moving to another hypervisor moves its MAC in the switch\'s FDB; the server follows it', async () => {
    const v1 = vms[0]!;
    await lab.ipam.command('port.bind', { id: v1.port.id, hostId: 'hv2' }, t.who);
    await lab.moveVm(v1, 'hv2');
    const subnet = t.subnets[0]!;
    await v1.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    await eventually(async () => (await sw.fdb(net.vni)).get(v1.port.mac)?.join() === lab.host('hv2').vtepIp, 'v1 behind hv2 at the switch', CONVERGE);
    await eventually(async () => serverPing(v1.ip), 'the server reaches v1 on hv2', CONVERGE);
    await v1.pingEventually(SERVER_IP);
  });

  it('unbinding removes every trace on both sides', async () => {
    await lab.ipam.command('gatewaybinding.delete', { id: bindingId }, ADMIN);
    await eventually(async () => {
      const fdb = await sw.fdb(net.vni);
      return vms.every((v) => !fdb.has(v.port.mac)) && !fdb.has('00:00:00:00:00:00');
    }, 'nothing of Strata in the switch FDB', CONVERGE);
    expect((await sw.evpnRoutes()).filter((r) => r.rd === `${GATEWAY_AS}:${net.vni}`)).toEqual([]);
    for (const h of ['hv1', 'hv2', 'hv3']) await eventually(async () => !(await hostFdb(h)).includes(SWITCH_VTEP), `${h}: nothing via the switch`, CONVERGE);
    const id = `phys-${deviceId}-${net.vni}-${SERVER_MAC.replaceAll(':', '')}`;
    expect(await hostview('hv1', `hv1.ep.${id}`)).toBeUndefined();
    const store = await JetStreamEventStore.open(await lab.natsUsers.connect('api'));
    const last = [];
    for await (const e of store.read({ subject: `strata.evt.bgp.physical.${physicalMacId(deviceId, net.vni, SERVER_MAC, SERVER_IP)}` })) last.push(e.type);
    expect(last).toEqual(['bgp.PhysicalMacLearned', 'bgp.PhysicalMacWithdrawn']);
    expect(await serverPing(vms[1]!.ip)).toBe(false);
  });
});
