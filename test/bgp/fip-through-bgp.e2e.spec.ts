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
import { eventually, INTERNET_CLIENT_IP, kernelRoute, Lab, type ManagedProcess, type Vm } from '@strata/lab';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { whoami, whoamiEventually, whoamiServer } from '../nat/whoami.js';

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

  it('the gateway learns the border\'s default route and records it as an event', async () => {
    await eventually(async () => (await lab.bgp!.client.query('route.list', {})).items.some((r) => r.prefix === '0.0.0.0/0'), 'default route learned', 120);
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

  it('disassociation withdraws the route: the border forgets the address and the client gets nowhere', async () => {
    await lab.nat!.command('floatingip.disassociate', { floatingIpId: fip.id }, t.who);
    await eventually(async () => (await kernelRoute(border(), fip.address)) === '', 'route withdrawn at the border', 120);
    expect(await whoami(client(), fip.address, VM_PORT)).toBeNull();
  });
});
