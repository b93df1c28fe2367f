/**
 * A floating IP reached from outside through a route learned by BGP, end to
 * end: NAT service → event log → BGP gateway → gobgpd → FRR border (kernel
 * route) and → hostview → agent (DNAT/SNAT on the hosting hypervisor), with
 * real TCP from the internet client behind the border.
 *
 *   hv1, hv2: tenant VM v (floating IP), later moved to hv2
 *   border: FRR, peers with the gateway's gobgpd (198.18.0.2), default-originate
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloatingIpView } from '@strata/contracts';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLIANCE_AS, applianceConfig, eventually, Frr, GATEWAY_UNDERLAY_IP, INTERNET_CLIENT_IP, kernelRoute, LAB_APPLIANCE_PASSWORD, Lab, type ManagedProcess, type Vm } from '@strata/lab';
import { applianceKey } from '@strata/bgp-gateway';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { whoami, whoamiEventually, whoamiServer } from '../support/whoami.js';

const VM_PORT = 8080;

describe('floating IP through BGP-learned routes at the border', () => {
  let lab: Lab;
  let t: TenantSetup;
  let v: Vm;
  let fip: FloatingIpView;
  let openGroup: string;
  const servers: ManagedProcess[] = [];
  const border = (): string => lab.external!.border.name;
  const client = (): string => lab.external!.client.name;

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2, nat: true, external: true, bgp: true });
    t = await tenantWithRouter(lab, 'tenant-a');
    const pool = await lab.ipam.command('pool.create', { name: 'public', cidr: '203.0.113.0/25', purpose: 'floating-ip' });
    fip = await lab.ipam.command('floatingip.create', { poolId: pool.id }, t.who);
    const open = await lab.secgroup.command('group.create', { name: 'public', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: open.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: VM_PORT, portMax: VM_PORT, remoteCidr: '0.0.0.0/0' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: open.id, direction: 'egress', ethertype: 'IPv4', protocol: 'any' }, t.who);
    openGroup = open.id;
    v = await vmOn(lab, t, 'v', 0, 'hv1');
    await lab.secgroup.command('port.setGroups', { portId: v.port.id, groupIds: [open.id] }, t.who);
    servers.push(await whoamiServer(v.ns.name, [VM_PORT]));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
  });

  it('the border and the gateway are in session; the border\'s routes are not recorded (only accepted appliance routes are)', async () => {
    await eventually(async () => (await lab.bgp!.frr.sessionState(GATEWAY_UNDERLAY_IP)) === 'Established', 'border session with the gateway', 120);
    expect((await lab.bgp!.client.query('route.list', {})).items.some((r) => r.prefix === '0.0.0.0/0')).toBe(false);
  });

  it('the border installs the floating IP with the hosting hypervisor as next hop, and the client reaches the VM through it', async () => {
    await lab.nat!.command('floatingip.associate', { floatingIpId: fip.id, portId: v.port.id }, t.who);
    await eventually(async () => (await kernelRoute(border(), fip.address)).includes(`via ${lab.host('hv1').vtepIp}`), 'BGP route at the border via hv1', 120);
    expect(await kernelRoute(border(), fip.address)).toContain('proto bgp');
    expect(await whoamiEventually(client(), fip.address, VM_PORT)).toBe(INTERNET_CLIENT_IP);
  });

  it('a move re-advertises with the new next hop, and the client follows', async () => {
    await lab.ipam.command('port.bind', { id: v.port.id, hostId: 'hv2' }, t.who);
    await lab.moveVm(v, 'hv2');
    const subnet = t.subnets[0]!;
    await v.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: t.nets[0]!.mtu } });
    await eventually(async () => (await kernelRoute(border(), fip.address)).includes(`via ${lab.host('hv2').vtepIp}`), 'BGP route at the border via hv2', 120);
    expect(await whoamiEventually(client(), fip.address, VM_PORT)).toBe(INTERNET_CLIENT_IP);
  });

  it('outbound PNAT returns through the H-IP route the gateway advertises', async () => {
    await lab.nat!.command('router.setGateway', { routerId: t.routerId, enabled: true }, t.who);
    const other = await vmOn(lab, t, 'o', 1, 'hv1');
    const hip = lab.publicIps.get('hv1')!;
    await eventually(async () => (await kernelRoute(border(), hip)).includes(`via ${lab.host('hv1').vtepIp}`), 'H-IP route at the border via hv1', 120);
    servers.push(await whoamiServer(client(), [8081]));
    expect(await whoamiEventually(other.ns.name, INTERNET_CLIENT_IP, 8081)).toBe(hip);
  });

  it('a routed network (no NAT): the border routes its VM\'s address to the hosting hypervisor; the client reaches the VM at its own address, and the VM goes out with it', async () => {
    await lab.ipam.command('pool.create', { name: 'routed-web', cidr: '203.0.113.128/27', purpose: 'routed' });
    const net = await lab.ipam.command('network.create', { name: 'public-web', routed: true }, t.who);
    const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: '203.0.113.128/27' }, t.who);
    await lab.ipam.command('router.addInterface', { id: t.routerId, subnetId: subnet.id }, t.who);
    const port = await lab.ipam.command('port.create', { networkId: net.id, name: 'pub', hostId: 'hv2' }, t.who);
    await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [openGroup] }, t.who);
    const pub = await lab.addVm('pub', port, 'hv2');
    await pub.configureStatic({ [subnet.id]: { prefixLength: 27, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    servers.push(await whoamiServer(pub.ns.name, [VM_PORT]));
    servers.push(await whoamiServer(client(), [8082]));
    await eventually(async () => (await kernelRoute(border(), pub.ip)).includes(`via ${lab.host('hv2').vtepIp}`), 'host route at the border via hv2', 120);
    expect(await whoamiEventually(client(), pub.ip, VM_PORT)).toBe(INTERNET_CLIENT_IP);
    expect(await whoamiEventually(pub.ns.name, INTERNET_CLIENT_IP, 8082)).toBe(pub.ip);
  });

  // The route server end to end: an appliance VM on a routed network peers (MD5, EBGP multihop) with the
  // gateway, its assigned /32 is accepted, reaches the border via the appliance's hypervisor, and the
  // fabric delivers traffic for it into the overlay: the hypervisor and the tenant router route it to the
  // appliance, whose anti-spoofing admits the accepted prefix as a source.
  it('an appliance VM announces its prefix over BGP: accepted, at the border via its hypervisor, and the client reaches the appliance through it', async () => {
    const APP_PREFIX = '203.0.113.160/32';
    await lab.ipam.command('pool.create', { name: 'routed-appliances', cidr: '203.0.113.176/28', purpose: 'routed' });
    const net = await lab.ipam.command('network.create', { name: 'appliances', routed: true }, t.who);
    const subnet = await lab.ipam.command('subnet.create', { networkId: net.id, cidr: '203.0.113.176/28' }, t.who);
    await lab.ipam.command('router.addInterface', { id: t.routerId, subnetId: subnet.id }, t.who);
    const pool = await lab.ipam.command('pool.create', { name: 'app-prefixes', cidr: '203.0.113.160/28', purpose: 'application-prefix' });
    const prefix = await lab.ipam.command('appprefix.create', { poolId: pool.id, prefix: APP_PREFIX }, t.who);
    await lab.bgp!.client.command('peergroup.create', { name: 'appliances', listenRange: '203.0.113.176/28', remoteAs: APPLIANCE_AS, passwordRef: 'appliances', maxPrefixes: 4 });
    await lab.bgp!.client.command('appliance.assign', { prefixId: prefix.id, deviceId: 'fw-1' });
    const port = await lab.ipam.command('port.create', { networkId: net.id, name: 'fw', hostId: 'hv2', deviceId: 'fw-1' }, t.who);
    // The appliance's group must admit the route server's sessions (tcp/179 from the gateway).
    const bgpGroup = await lab.secgroup.command('group.create', { name: 'route-server', description: '' }, t.who);
    await lab.secgroup.command('rule.create', { groupId: bgpGroup.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 179, portMax: 179, remoteCidr: `${GATEWAY_UNDERLAY_IP}/32` }, t.who);
    await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [openGroup, bgpGroup.id] }, t.who);
    const fw = await lab.addVm('fw', port, 'hv2');
    await fw.configureStatic({ [subnet.id]: { prefixLength: 28, gatewayIp: subnet.gatewayIp, mtu: net.mtu } });
    await fw.ns.ip(['addr', 'add', APP_PREFIX, 'dev', 'lo']);
    servers.push(await whoamiServer(fw.ns.name, [VM_PORT]));
    const dir = join(tmpdir(), `${lab.prefix}fw-frr`);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const frr = await Frr.start(fw.ns.name, dir, applianceConfig(fw.ip, [GATEWAY_UNDERLAY_IP], applianceKey(LAB_APPLIANCE_PASSWORD, t.who.tenant, 'fw-1'), [APP_PREFIX]));
    try {
      await eventually(async () => (await lab.bgp!.client.query('route.list', {})).items.some((r) => r.prefix === APP_PREFIX && r.status === 'learned'), 'appliance route accepted', 240);
      await eventually(async () => (await kernelRoute(border(), '203.0.113.160')).includes('proto bgp'), 'appliance prefix at the border', 120);
      const atBorder = await lab.external!.border.exec(['vtysh', '--vty_socket', lab.bgp!.frr.dir, '-c', `show bgp ipv4 unicast ${APP_PREFIX} json`]);
      // Via the hypervisor hosting the appliance (Strata's own knowledge), not an address the appliance chose.
      expect(atBorder).toContain(`"ip":"${lab.hosts.find((h) => h.id === 'hv2')!.vtepIp}"`);
      expect(await whoamiEventually(client(), '203.0.113.160', VM_PORT)).toBe(INTERNET_CLIENT_IP);
    } finally {
      await frr.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('disassociation withdraws the route: the border forgets the address and the client gets nowhere', async () => {
    await lab.nat!.command('floatingip.disassociate', { floatingIpId: fip.id }, t.who);
    await eventually(async () => (await kernelRoute(border(), fip.address)) === '', 'route withdrawn at the border', 120);
    expect(await whoami(client(), fip.address, VM_PORT)).toBeNull();
  });
});
