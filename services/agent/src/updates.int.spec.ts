/**
 * Updates of ports, subnets and routers on a real kernel, in namespaces:
 * two hypervisors, tenant router r joining net1 10.0.0.0/24 + fd00:1::/64
 * (VNI 100) and net2 10.0.1.0/24 + fd00:2::/64 (VNI 101; IPv6 static, no
 * DHCP); the agent core reconciles each hypervisor
 * against the host view the hostview derivation gives for the cloud (no NATS).
 *
 *   hv1: a (net1 .11), app (net2 .20, the appliance: port security off)
 *   hv2: b (net1 .12), c (net2 .12)
 *
 * What each update becomes in the kernel, checked with real packets and a
 * real DHCP client (busybox udhcpc, renewing while it runs).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gatewayMac, portDevice } from '@strata/contracts';
import { capture, DhcpClient } from '@strata/lab';
import { describeIf, kernel } from '@strata/testing/suites';
import { dnsmasqPaths } from './kernel/dnsmasq.js';
import { domainNamespace } from './core/names.js';
import { hostView, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { NetLab, sh, type LabHost, type LabVm } from './testkit/netlab.js';

const d = describeIf(kernel(['busybox', 'udhcpc', '--help']));

const r = randomUUID();
const net1 = randomUUID();
const net2 = randomUUID();
const ids = { a: randomUUID(), b: randomUUID(), c: randomUUID(), app: randomUUID() };

const base = (): Cloud => ({
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12' },
  networks: [
    { id: net1, tenant: 'T', vni: 100, domainId: r, subnets: [subnet('s1', '10.0.0.0/24', '10.0.0.1'), subnet('s1v6', 'fd00:1::/64', 'fd00:1::1', false)] },
    { id: net2, tenant: 'T', vni: 101, domainId: r, subnets: [subnet('s2', '10.0.1.0/24', '10.0.1.1'), subnet('s2v6', 'fd00:2::/64', 'fd00:2::1', false)] },
  ],
  domains: [{ id: r, tenant: 'T', kind: 'router' }],
  ports: [
    { id: ids.a, networkId: net1, mac: '02:aa:00:00:00:11', host: 'hv1', fixedIps: [{ subnetId: 's1', ip: '10.0.0.11' }] },
    { id: ids.b, networkId: net1, mac: '02:aa:00:00:00:12', host: 'hv2', fixedIps: [{ subnetId: 's1', ip: '10.0.0.12' }, { subnetId: 's1v6', ip: 'fd00:1::12' }] },
    { id: ids.c, networkId: net2, mac: '02:aa:00:00:01:12', host: 'hv2', fixedIps: [{ subnetId: 's2', ip: '10.0.1.12' }] },
    {
      id: ids.app,
      networkId: net2,
      mac: '02:aa:00:00:01:20',
      host: 'hv1',
      fixedIps: [{ subnetId: 's2', ip: '10.0.1.20' }, { subnetId: 's2v6', ip: 'fd00:2::20' }],
      portSecurity: false,
    },
  ],
});

let lab: NetLab;
let cloud: Cloud;
const vm: Record<string, LabVm> = {};
const hv = (n: number): LabHost => lab.host(n);
const portOf = (id: string): CloudPort => cloud.ports.find((p) => p.id === id)!;

async function reconcileAll(): Promise<void> {
  for (const h of lab.hosts) await h.dataplane.reconcile(hostView(cloud, h.name));
}

async function expectConverged(): Promise<void> {
  for (const h of lab.hosts) {
    const { plan } = await h.dataplane.plan(hostView(cloud, h.name));
    expect(plan, `${h.name} has left-over work`).toEqual({ batches: [] });
  }
}

d('updates in the data plane (real kernel, namespaces)', () => {
  beforeAll(async () => {
    cloud = base();
    lab = await NetLab.create(2);
    vm.a = await lab.addVm('a', hv(1), '02:aa:00:00:00:11', portDevice(ids.a));
    vm.b = await lab.addVm('b', hv(2), '02:aa:00:00:00:12', portDevice(ids.b));
    vm.c = await lab.addVm('c', hv(2), '02:aa:00:00:01:12', portDevice(ids.c));
    vm.app = await lab.addVm('app', hv(1), '02:aa:00:00:01:20', portDevice(ids.app));
    await lab.configure(vm.b, '10.0.0.12/24', '10.0.0.1');
    await lab.configure(vm.c, '10.0.1.12/24', '10.0.1.1');
    await lab.configure(vm.app, '10.0.1.20/24', '10.0.1.1');
    await lab.configure(vm.b, 'fd00:1::12/64', 'fd00:1::1');
    await lab.configure(vm.app, 'fd00:2::20/64', 'fd00:2::1');
    await reconcileAll();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it("a port's fixed IP moves: the renewing client gets the new address, the old one is unreachable, the new one reachable", async () => {
    const client = DhcpClient.start(vm.a!.ns);
    try {
      await client.leaseWhere((l) => l.ip === '10.0.0.11', 'the first lease');
      expect(await lab.pingEventually(vm.b!, '10.0.0.11')).toBe(64);
      expect(await lab.pingEventually(vm.c!, '10.0.0.11')).toBe(63);
      const pidFile = dnsmasqPaths(hv(1).stateDir, domainNamespace(hv(1).nsPrefix, r)).pid;
      const server = readFileSync(pidFile, 'utf8');

      portOf(ids.a).fixedIps = [{ subnetId: 's1', ip: '10.0.0.21' }];
      await reconcileAll();
      await expectConverged();
      // The old address is gone from every host: nobody answers for it, and a still holds it until it renews.
      expect(await lab.ping(vm.b!, '10.0.0.11')).toBeNull();
      expect(await lab.ping(vm.c!, '10.0.0.11')).toBeNull();
      client.renew();
      const lease = await client.leaseWhere((l) => l.ip === '10.0.0.21', 'the new address after a renewal');
      expect(lease.router).toBe('10.0.0.1');
      // The renewal of the old address reached the server (anti-spoofing lets a DHCP request to its server
      // through) and was refused at once, rather than going unanswered until the lease ran out.
      const log = readFileSync(dnsmasqPaths(hv(1).stateDir, domainNamespace(hv(1).nsPrefix, r)).log, 'utf8');
      expect(log, log).toMatch(/DHCPNAK\(qr100\) 10\.0\.0\.11 02:aa:00:00:00:11/);
      // The same server, which re-read its static leases (SIGHUP), handed it out and recorded the lease.
      expect(readFileSync(pidFile, 'utf8')).toBe(server);
      const leases = readFileSync(dnsmasqPaths(hv(1).stateDir, domainNamespace(hv(1).nsPrefix, r)).leases, 'utf8');
      expect(leases).toMatch(/ 02:aa:00:00:00:11 10\.0\.0\.21 /);
      expect(await lab.pingEventually(vm.b!, '10.0.0.21')).toBe(64);
      expect(await lab.pingEventually(vm.c!, '10.0.0.21')).toBe(63);
      expect(await lab.ping(vm.b!, '10.0.0.11')).toBeNull();
    } finally {
      await client.stop();
    }
  });

  it('the DHCP exception in anti-spoofing is narrow: a DHCP request from a foreign address reaches the server, not another VM; other traffic from it is dropped', async () => {
    // a sends from 10.0.0.99, an address it does not have (configured on its NIC, as a spoofer would).
    await sh(['ip', '-n', vm.a!.ns, 'addr', 'add', '10.0.0.99/32', 'dev', 'eth0']);
    // a knows b's and the gateway's MACs, so its packets leave without an ARP of its own (which anti-spoofing would drop).
    const known = [['10.0.0.12', '02:aa:00:00:00:12'], ['10.0.0.1', gatewayMac(100)]] as const;
    for (const [ip, mac] of known) await sh(['ip', '-n', vm.a!.ns, 'neigh', 'replace', ip, 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent']);
    const send = (dst: string, port: number): Promise<string> =>
      sh(['ip', 'netns', 'exec', vm.a!.ns, 'python3', '-c', `import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('10.0.0.99', 68))\nfor _ in range(3): s.sendto(b'strata-probe', ('${dst}', ${port}))\n`]);
    try {
      const atB = capture(vm.b!.ns, 'eth0', 'udp and src host 10.0.0.99', 3);
      await atB.started;
      await send('10.0.0.12', 67);
      await send('10.0.0.12', 53);
      expect(await atB.lines).toEqual([]);
      // The same request to the subnet's DHCP server passes a's port (it reaches hv1's bridge towards the gateway).
      const atServer = capture(domainNamespace(hv(1).nsPrefix, r), 'qr100', 'udp and src host 10.0.0.99', 3);
      await atServer.started;
      await send('10.0.0.1', 67);
      expect((await atServer.lines).length).toBeGreaterThan(0);
    } finally {
      await sh(['ip', '-n', vm.a!.ns, 'addr', 'del', '10.0.0.99/32', 'dev', 'eth0']);
      for (const [ip] of known) await sh(['ip', '-n', vm.a!.ns, 'neigh', 'del', ip, 'dev', 'eth0']).catch(() => '');
    }
  });

  it("a subnet's DNS servers and host routes reach the client (options 6 and 121, default route included); DHCP off serves nothing", async () => {
    const s1 = cloud.networks[0]!.subnets[0]!;
    s1.dnsNameservers = ['192.0.2.53', '192.0.2.54'];
    s1.hostRoutes = [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }];
    await reconcileAll();
    const client = DhcpClient.start(vm.a!.ns);
    try {
      const lease = await client.leaseWhere((l) => l.staticroutes !== '', 'a lease with static routes');
      expect(lease.dns.trim().split(/\s+/)).toEqual(['192.0.2.53', '192.0.2.54']);
      expect(lease.staticroutes.trim()).toBe('172.16.0.0/12 10.0.0.254 0.0.0.0/0 10.0.0.1');
      const routes = await sh(['ip', '-n', vm.a!.ns, '-4', 'route', 'show']);
      expect(routes).toMatch(/172\.16\.0\.0\/12 via 10\.0\.0\.254/);
      expect(routes).toMatch(/default via 10\.0\.0\.1/);
    } finally {
      await client.stop();
    }
    // DHCP off: the domain has no other DHCP subnet here, so no server runs on hv1 at all.
    s1.enableDhcp = false;
    cloud.networks[1]!.subnets[0]!.enableDhcp = false;
    await reconcileAll();
    await expectConverged();
    expect(Object.values(hv(1).dnsmasq.running()).filter((pid) => pid !== null)).toEqual([]);
    const out = await sh(['ip', 'netns', 'exec', vm.a!.ns, 'busybox', 'udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-t', '2', '-T', '1', '-s', '/bin/true']).catch((e: Error) => e.message);
    expect(out).not.toMatch(/lease of/);
    s1.enableDhcp = true;
    cloud.networks[1]!.subnets[0]!.enableDhcp = true;
    delete s1.dnsNameservers;
    delete s1.hostRoutes;
    await reconcileAll();
  });

  it("a network's MTU: its bridge, VXLAN device, gateway and plugged NICs take it, and DHCP offers it", async () => {
    cloud.networks[0]!.mtu = 1400;
    await reconcileAll();
    await expectConverged();
    const mtu = async (ns: string, dev: string): Promise<number> => (JSON.parse(await sh(['ip', '-n', ns, '-j', 'link', 'show', 'dev', dev])) as { mtu: number }[])[0]!.mtu;
    for (const dev of ['sbr100', 'svx100', 'sgw100', portDevice(ids.a)]) expect(await mtu(hv(1).ns, dev), dev).toBe(1400);
    expect(await mtu(domainNamespace(hv(1).nsPrefix, r), 'qr100')).toBe(1400);
    expect(readFileSync(dnsmasqPaths(hv(1).stateDir, domainNamespace(hv(1).nsPrefix, r)).conf, 'utf8')).toContain('option:mtu,1400');
    expect(await lab.pingEventually(vm.b!, '10.0.0.21')).toBe(64);
    delete cloud.networks[0]!.mtu;
    await reconcileAll();
    await expectConverged();
  });

  it('admin state down: the NIC stays plugged but down and nothing passes; up again: traffic again', async () => {
    await lab.configure(vm.a!, '10.0.0.21/24', '10.0.0.1').catch(() => undefined);
    expect(await lab.pingEventually(vm.b!, '10.0.0.21')).toBe(64);
    portOf(ids.a).adminStateUp = false;
    await reconcileAll();
    await expectConverged();
    const link = JSON.parse(await sh(['ip', '-n', hv(1).ns, '-j', 'link', 'show', 'dev', portDevice(ids.a)])) as { master?: string; flags: string[] }[];
    expect(link[0]!.master).toBe('sbr100');
    expect(link[0]!.flags).not.toContain('UP');
    expect(await lab.ping(vm.b!, '10.0.0.21')).toBeNull();
    expect(await lab.ping(vm.a!, '10.0.0.12')).toBeNull();
    expect(await lab.ping(vm.a!, '10.0.0.1')).toBeNull();
    const { ports } = await hv(1).dataplane.reconcile(hostView(cloud, 'hv1'));
    expect(ports.find((p) => p.portId === ids.a)).toEqual({ portId: ids.a, state: 'down', reason: 'administratively down' });

    portOf(ids.a).adminStateUp = true;
    await reconcileAll();
    await expectConverged();
    expect(await lab.pingEventually(vm.b!, '10.0.0.21')).toBe(64);
    expect(await lab.pingEventually(vm.a!, '10.0.0.1')).toBe(64);
  });

  it("a router's static routes (IPv4 and IPv6) send a prefix to an appliance VM, from every host realising the router", async () => {
    // The appliance answers for 192.168.50.1 (on its loopback), a prefix the router does not have.
    await sh(['ip', '-n', vm.app!.ns, 'addr', 'add', '192.168.50.1/32', 'dev', 'lo']);
    await sh(['ip', '-n', vm.app!.ns, 'addr', 'add', 'fd50::1/128', 'dev', 'lo']);
    expect(await lab.ping(vm.b!, '192.168.50.1')).toBeNull();
    cloud.routers = {
      [r]: [
        { destination: '192.168.50.0/24', nexthop: '10.0.1.20' },
        { destination: 'fd50::/64', nexthop: 'fd00:2::20' },
      ],
    };
    await reconcileAll();
    await expectConverged();
    for (const h of lab.hosts) {
      const routes = await sh(['ip', '-n', domainNamespace(h.nsPrefix, r), '-4', 'route', 'show', 'proto', '83']);
      expect(routes, h.name).toMatch(/192\.168\.50\.0\/24 via 10\.0\.1\.20 dev qr101/);
      const routes6 = await sh(['ip', '-n', domainNamespace(h.nsPrefix, r), '-6', 'route', 'show', 'proto', '83']);
      expect(routes6, h.name).toMatch(/fd50::\/64 via fd00:2::20 dev qr101/);
    }
    // b on hv2 (another subnet, another host) and a on hv1: one routed hop to the appliance.
    expect(await lab.pingEventually(vm.b!, '192.168.50.1')).toBe(63);
    expect(await lab.pingEventually(vm.a!, '192.168.50.1')).toBe(63);
    expect(await lab.pingEventually(vm.b!, 'fd50::1')).toBe(63);
    cloud.routers = {};
    await reconcileAll();
    await expectConverged();
    expect(await lab.ping(vm.b!, '192.168.50.1')).toBeNull();
    expect(await lab.ping(vm.b!, 'fd50::1')).toBeNull();
  });
});
