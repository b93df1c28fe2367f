/**
 * Updates with real packets, the whole loop (issue 15): a `port.update`,
 * `subnet.update` or `router.update` through IPAM, hostview, each agent's
 * host view, into the kernels of the hypervisors, checked from the VMs.
 * Two hypervisors, one tenant router joining net0 10.0.0.0/24 and net1
 * 10.0.1.0/24; every port in the tenant's default security group. Also the
 * anti-spoofing of VLAN-tagged frames a VM writes itself:
 *
 *   hv1: a (net0, DHCP client), c (net1)       hv2: b (net0), app (net1, an appliance)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { portDevice, type PortView } from '@strata/contracts';
import { capture, DhcpClient, eventually, Lab, type Vm } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { tenantWithRouter, vmOn, type TenantSetup } from './scenario.js';

const d = describeIf(kernel(['busybox', 'udhcpc', '--help'], ['tcpdump', '--version']));

d('updates in the data plane (port, subnet, router)', () => {
  let lab: Lab;
  let t: TenantSetup;
  let client: DhcpClient | undefined;
  const vm: Record<string, Vm> = {};

  const reaches = (from: Vm, ip: string, source?: string): Promise<boolean> =>
    from.ns.ok(['ping', '-c', '1', '-W', '1', ...(source ? ['-I', source] : []), ip], 5_000);
  const until = (probe: () => Promise<boolean>, what: string): Promise<void> => eventually(probe, what, 80, 250);
  const port = (v: Vm): Promise<PortView> => lab.ipam.query('port.get', { id: v.port.id }, t.who);
  /** The files of hv1's DHCP servers ending in `suffix` (`.leases`, `.conf`), concatenated. */
  const dnsmasqFiles = (suffix: string): string => {
    const dir = join(lab.stateDir, 'hv1', 'dnsmasq');
    return readdirSync(dir)
      .filter((f) => f.endsWith(suffix))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
    t = await tenantWithRouter(lab, 'tenant-u');
    const aPort: PortView = await lab.ipam.command('port.create', { networkId: t.nets[0]!.id, name: 'a', hostId: 'hv1' }, t.who);
    vm.a = await lab.addVm('a', aPort, 'hv1');
    client = DhcpClient.start(vm.a.ns.name);
    vm.b = await vmOn(lab, t, 'b', 0, 'hv2');
    vm.c = await vmOn(lab, t, 'c', 1, 'hv1');
    vm.app = await vmOn(lab, t, 'app', 1, 'hv2');
    await client.leaseWhere((l) => l.ip === aPort.fixedIps[0]!.ip, "a's first lease");
    await vm.b.pingEventually(vm.a.ip);
    await vm.c.pingEventually(vm.a.ip);
  });

  afterAll(async () => {
    await client?.stop();
    await lab?.destroy();
  });

  it("a port's fixed IP changes: the old address is unreachable, the renewing DHCP client gets the new one, which is reachable from both hosts", async () => {
    const old = vm.a!.ip;
    const updated: PortView = await lab.ipam.command('port.update', { id: vm.a!.port.id, fixedIps: [{ subnetId: t.subnets[0]!.id, ip: '10.0.0.77' }] }, t.who);
    expect(updated.fixedIps.map((f) => f.ip)).toEqual(['10.0.0.77']);
    // a still holds the old address until it renews: anti-spoofing and every host's neighbour entries have moved on.
    await until(async () => !(await reaches(vm.b!, old)) && !(await reaches(vm.c!, old)), 'the old address to be unreachable from b (hv2) and c (hv1)');
    client!.renew();
    const lease = await client!.leaseWhere((l) => l.ip === '10.0.0.77', 'the new address after a renewal');
    expect(lease.router).toBe(t.subnets[0]!.gatewayIp);
    expect(dnsmasqFiles('.leases')).toMatch(new RegExp(` ${vm.a!.port.mac} 10\\.0\\.0\\.77 `));
    await until(() => reaches(vm.b!, '10.0.0.77'), 'b (hv2, same subnet) to reach the new address');
    await until(() => reaches(vm.c!, '10.0.0.77'), 'c (hv1, routed) to reach the new address');
    expect(await reaches(vm.b!, old)).toBe(false);
    vm.a!.port = updated;
  });

  it("a subnet's DNS servers and host routes reach the VM's DHCP client on its next renewal", async () => {
    const hostRoutes = [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }];
    await lab.ipam.command('subnet.update', { id: t.subnets[0]!.id, dnsNameservers: ['192.0.2.53'], hostRoutes }, t.who);
    // hv1's server has the options (its agent applied the update; the server was restarted with them), then a renews.
    await until(async () => dnsmasqFiles('.conf').includes('option:dns-server,192.0.2.53'), "hv1's DHCP server to have the new options");
    client!.renew();
    const lease = await client!.leaseWhere((l) => l.staticroutes !== '', 'a renewal with the new options');
    expect(lease.dns.trim()).toBe('192.0.2.53');
    // Option 121 replaces the router option for a client that takes it: the default route comes with it.
    expect(lease.staticroutes.trim()).toBe(`172.16.0.0/12 10.0.0.254 0.0.0.0/0 ${t.subnets[0]!.gatewayIp}`);
    expect(await vm.a!.ns.ip(['-4', 'route', 'show'])).toMatch(/172\.16\.0\.0\/12 via 10\.0\.0\.254/);
  });

  it("a port's allowed address pairs: a packet from the pair address passes; after removal it is dropped (anti-spoofing)", async () => {
    // b (hv2) pings a (hv1) on its own subnet from a second address: a's ARP for it floods and b answers.
    // (Routed to another subnet, the reply would need the address's owner, learned from b's GARP: address-pairs.e2e.)
    const pairIp = '10.0.0.200';
    await vm.b!.ns.ip(['addr', 'add', `${pairIp}/32`, 'dev', 'eth0']);
    expect(await reaches(vm.b!, vm.a!.ip, pairIp)).toBe(false);
    await lab.ipam.command('port.update', { id: vm.b!.port.id, allowedAddressPairs: [{ ipAddress: pairIp }] }, t.who);
    await until(() => reaches(vm.b!, vm.a!.ip, pairIp), 'a ping from the pair address to pass');
    await lab.ipam.command('port.update', { id: vm.b!.port.id, allowedAddressPairs: [] }, t.who);
    await until(async () => !(await reaches(vm.b!, vm.a!.ip, pairIp)), 'a ping from the former pair address to be dropped');
    // b's own address still passes: only the pair went.
    expect(await reaches(vm.b!, vm.a!.ip)).toBe(true);
    await vm.b!.ns.ip(['addr', 'del', `${pairIp}/32`, 'dev', 'eth0']);
  });

  it("a VM's VLAN-tagged frames (802.1Q and 802.1ad) are dropped at its port: they leave its NIC and reach no other VM", async () => {
    // This kernel has no VLAN devices (docs/architecture.md, "OVSDB hardware_vtep"): b writes the tagged frames itself,
    // unicast to a (hv1, same network), from its own MAC so that only the tag can stop them.
    const tags = [
      { tpid: 0x8100, vid: 100 },
      { tpid: 0x88a8, vid: 200 },
    ];
    const send = [
      'import socket, struct, sys',
      's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))',
      'dst, src = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[1:3])',
      `for tpid, vid in (${tags.map((t) => `(${t.tpid}, ${t.vid})`).join(', ')}):`,
      '    for _ in range(3): s.send(dst + src + struct.pack("!HHH", tpid, vid, 0x88b5) + b"strata-vlan".ljust(46, b"\\0"))',
    ].join('\n');
    // tcpdump's `vlan` matches both tag types; the untagged echo is the captures' marker (`icmp` first: `vlan`
    // shifts the offsets of every test after it).
    const sent = capture(lab.host('hv2').ns.name, portDevice(vm.b!.port.id), 'icmp or vlan', 8);
    const received = capture(vm.a!.ns.name, 'eth0', 'icmp or vlan', 8);
    await Promise.all([sent.started, received.started]);
    await vm.b!.ns.exec(['python3', '-c', send, vm.a!.port.mac, vm.b!.port.mac]);
    expect(await reaches(vm.b!, vm.a!.ip)).toBe(true);
    const [fromB, atA] = await Promise.all([sent.lines, received.lines]);
    for (const t of tags) expect(fromB.filter((l) => l.includes(`vlan ${t.vid},`))).toHaveLength(3);
    expect(atA.some((l) => l.includes('ICMP echo request'))).toBe(true);
    expect(atA.filter((l) => l.includes('vlan'))).toEqual([]);
  });

  it('admin state down: the port passes no traffic (its NIC plugged but down); up: traffic again', async () => {
    const ip = vm.a!.ip;
    await lab.ipam.command('port.update', { id: vm.a!.port.id, adminStateUp: false }, t.who);
    expect((await port(vm.a!)).adminStateUp).toBe(false);
    await until(async () => !(await reaches(vm.b!, ip)) && !(await reaches(vm.a!, t.subnets[0]!.gatewayIp!)), 'a to be cut off');
    // Its NIC stays plugged into the network's bridge, down.
    const [tap] = JSON.parse(await lab.host('hv1').ns.ip(['-j', 'link', 'show', 'dev', portDevice(vm.a!.port.id)])) as { flags: string[]; master?: string }[];
    expect(tap!.master).toBe(`sbr${t.nets[0]!.vni}`);
    expect(tap!.flags).not.toContain('UP');
    await lab.ipam.command('port.update', { id: vm.a!.port.id, adminStateUp: true }, t.who);
    await until(() => reaches(vm.b!, ip), 'b to reach a again');
    await until(() => reaches(vm.a!, t.subnets[0]!.gatewayIp!), 'a to reach its gateway again');
  });

  it("a router's static route sends a prefix to an appliance VM on another host, from every host realising the router", async () => {
    // The appliance answers for 192.168.50.1 and may send from its prefix (an allowed address pair).
    await vm.app!.ns.ip(['addr', 'add', '192.168.50.1/32', 'dev', 'lo']);
    await lab.ipam.command('port.update', { id: vm.app!.port.id, allowedAddressPairs: [{ ipAddress: '192.168.50.0/24' }] }, t.who);
    expect(await reaches(vm.a!, '192.168.50.1')).toBe(false);
    await lab.ipam.command('router.update', { id: t.routerId, routes: [{ destination: '192.168.50.0/24', nexthop: vm.app!.ip }] }, t.who);
    await until(() => reaches(vm.a!, '192.168.50.1'), 'a (hv1, net0) to reach the prefix behind the appliance (hv2)');
    await until(() => reaches(vm.c!, '192.168.50.1'), 'c (hv1, net1) too');
    await until(() => reaches(vm.b!, '192.168.50.1'), "b (hv2, the appliance's own host) too");
    await lab.ipam.command('router.update', { id: t.routerId, routes: [] }, t.who);
    await until(async () => !(await reaches(vm.a!, '192.168.50.1')), 'the route to be gone');
  });
});
