/**
 * Floating IPs and outbound PNAT end to end (NAT service → event log →
 * hostview → agents → kernel), with real TCP between VM namespaces, the
 * hypervisors and a client "on the internet" behind a border router
 * (infra/lab/src/external.ts). The border's routes for floating IPs are
 * static here (the lab sets them, as the fabric would); the H-IPs are routed
 * to their hypervisors.
 *
 *   tenant A (router, external gateway): a1 hv1 net0 (floating IP), a2 hv1 net0, a3 hv2 net1
 *   tenant B (router, external gateway): b1 hv1 net0 — the same addresses as tenant A
 *   internet client 203.0.113.200: "who am I" server on 8081
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloatingIpView, SecurityGroupView } from '@strata/contracts';
import { capture, eventually, INTERNET_CLIENT_IP, Lab, type ManagedProcess, type Vm } from '@strata/lab';
import { tenantWithRouter, vmOn, type TenantSetup } from '../overlay/scenario.js';
import { whoami, whoamiEventually, whoamiServer } from '../support/whoami.js';

const VM_PORT = 8080;
const INTERNET_PORT = 8081;

describe('floating IPs (1:1 NAT) and outbound PNAT on the hosting hypervisor', () => {
  let lab: Lab;
  let a: TenantSetup;
  let b: TenantSetup;
  const vm: Record<string, Vm> = {};
  const servers: ManagedProcess[] = [];
  let fip: FloatingIpView;
  let publicGroup: SecurityGroupView;
  const client = (): string => lab.external!.client.name;

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3, nat: true, external: true });
    a = await tenantWithRouter(lab, 'tenant-a');
    b = await tenantWithRouter(lab, 'tenant-b');
    const pool = await lab.ipam.command('pool.create', { name: 'public', cidr: '203.0.113.0/25', purpose: 'floating-ip' });
    fip = await lab.ipam.command('floatingip.create', { poolId: pool.id }, a.who);
    // VMs reachable from outside need a rule for it; the tenant's default group admits only its own members.
    publicGroup = await lab.secgroup.command('group.create', { name: 'public', description: 'tcp/8080 from anywhere' }, a.who);
    await lab.secgroup.command('rule.create', { groupId: publicGroup.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: VM_PORT, portMax: VM_PORT, remoteCidr: '0.0.0.0/0' }, a.who);
    for (const [name, t, net, host] of [['a1', a, 0, 'hv1'], ['a2', a, 0, 'hv1'], ['a3', a, 1, 'hv2'], ['b1', b, 0, 'hv1']] as const) {
      vm[name] = await vmOn(lab, t, name, net, host);
      servers.push(await whoamiServer(vm[name]!.ns.name, [VM_PORT]));
    }
    for (const name of ['a1', 'a3']) {
      const current = await lab.secgroup.query('port.get', { portId: vm[name]!.port.id }, a.who);
      await lab.secgroup.command('port.setGroups', { portId: vm[name]!.port.id, groupIds: [...current.groupIds, publicGroup.id] }, a.who);
    }
    servers.push(await whoamiServer(client(), [INTERNET_PORT]));
    await lab.nat!.command('router.setGateway', { routerId: a.routerId, enabled: true }, a.who);
    await lab.nat!.command('router.setGateway', { routerId: b.routerId, enabled: true }, b.who);
    await lab.nat!.command('floatingip.associate', { floatingIpId: fip.id, portId: vm.a1!.port.id }, a.who);
    await lab.routeFloatingIp(fip.address, 'hv1');
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop(2_000)));
    await lab?.destroy();
  });

  it('an external client reaches a VM through its floating IP; the VM sees the client; the reply leaves from the same host', async () => {
    const hv1 = lab.host('hv1').ns.name;
    expect(await whoamiEventually(client(), fip.address, VM_PORT)).toBe(INTERNET_CLIENT_IP);
    const cap = capture(hv1, 'eth0', `tcp and src host ${fip.address} and src port ${VM_PORT}`, 4);
    await cap.started;
    expect(await whoami(client(), fip.address, VM_PORT)).toBe(INTERNET_CLIENT_IP);
    // The replies come out of hv1 with the floating IP as source (translated there, not anywhere else).
    expect((await cap.lines).some((l) => l.includes(`${fip.address}.${VM_PORT} > ${INTERNET_CLIENT_IP}.`))).toBe(true);
  });

  it('VMs without a floating IP reach outside through PNAT: the server sees their hypervisor\'s H-IP, for VMs on one host, other hosts and other tenants at once', async () => {
    const seen = await Promise.all(['a2', 'a3', 'b1'].map((n) => whoamiEventually(vm[n]!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT)));
    expect(seen).toEqual([lab.publicIps.get('hv1'), lab.publicIps.get('hv2'), lab.publicIps.get('hv1')]);
    // a1 leaves with its floating IP.
    expect(await whoami(vm.a1!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT)).toBe(fip.address);
    // Overlapping tenants on one host: a2 and b1 use the same address, concurrently.
    expect(vm.a1!.ip).toBe(vm.b1!.ip);
    const both = await Promise.all([whoami(vm.a1!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT), whoami(vm.b1!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT)]);
    expect(both).toEqual([fip.address, lab.publicIps.get('hv1')]);
  });

  it('traffic between a tenant\'s own addresses is never translated', async () => {
    expect(await whoamiEventually(vm.a2!.ns.name, vm.a1!.ip, VM_PORT)).toBe(vm.a2!.ip);
    expect(await whoami(vm.a1!.ns.name, vm.a3!.ip, VM_PORT)).toBe(vm.a1!.ip);
  });

  it('hairpin: a VM of the same routing domain reaches the floating IP; the target sees the router', async () => {
    expect(await whoamiEventually(vm.a2!.ns.name, fip.address, VM_PORT)).toBe(a.subnets[0]!.gatewayIp);
  });

  it('disassociating stops inbound at once; re-associating with a VM on another host makes it reachable there', async () => {
    await lab.nat!.command('floatingip.disassociate', { floatingIpId: fip.id }, a.who);
    await eventually(async () => (await whoami(client(), fip.address, VM_PORT)) === null, 'floating IP to stop answering');
    // a1 is back to PNAT.
    expect(await whoamiEventually(vm.a1!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT)).toBe(lab.publicIps.get('hv1'));

    await lab.nat!.command('floatingip.associate', { floatingIpId: fip.id, portId: vm.a3!.port.id }, a.who);
    await lab.routeFloatingIp(fip.address, 'hv2');
    expect(await whoamiEventually(client(), fip.address, VM_PORT)).toBe(INTERNET_CLIENT_IP);
    expect(await whoami(vm.a3!.ns.name, INTERNET_CLIENT_IP, INTERNET_PORT)).toBe(fip.address);
    // hv1 no longer has a route for it.
    expect(await lab.host('hv1').ns.ip(['route', 'show', `${fip.address}/32`])).toBe('');
  });

  it('hairpin across hosts: a VM on another host reaches the floating IP through the fabric, seen as its hypervisor\'s H-IP', async () => {
    expect(await whoamiEventually(vm.a2!.ns.name, fip.address, VM_PORT)).toBe(lab.publicIps.get('hv1'));
  });

  it('a VM follows its floating IP when it moves to another host', async () => {
    // a3 (with the floating IP, on hv2) live-migrates to hv3.
    await lab.ipam.command('port.bind', { id: vm.a3!.port.id, hostId: 'hv3' }, a.who);
    await lab.moveVm(vm.a3!, 'hv3');
    await lab.routeFloatingIp(fip.address, 'hv3');
    // The VM's NIC is new on hv3: the image configures it again (as after DHCP).
    const subnet = a.subnets[1]!;
    await vm.a3!.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: a.nets[1]!.mtu } });
    const seen = await whoamiEventually(client(), fip.address, VM_PORT);
    expect(seen).toBe(INTERNET_CLIENT_IP);
    expect(await lab.host('hv2').ns.ip(['route', 'show', `${fip.address}/32`])).toBe('');
  });
});
