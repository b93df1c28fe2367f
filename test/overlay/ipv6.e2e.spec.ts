/**
 * IPv6 address configuration with real clients, served on each VM's own
 * hypervisor (Neutron's ipv6_ra_mode / ipv6_address_mode): a tenant router
 * joins a SLAAC, a DHCPv6-stateful and a DHCPv6-stateless subnet; VMs on two
 * hypervisors configure themselves — the kernel's own SLAAC from the
 * gateway's router advertisements, Debian's DHCPv6 client for the stateful
 * and stateless ones — get their default route from the RA (the gateway's
 * link-local address, the same on every host), and reach each other (ping
 * and TCP, bridged and routed, through the default security group, whose
 * member sets hold the EUI-64 addresses IPAM recorded). A VM live-migrated
 * to the other host keeps its router and addresses, and the new host's
 * DHCPv6 server answers it. A VM's forged router advertisement goes nowhere;
 * one from a VM without port security is dropped by the filtered receivers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gatewayMac, portDevice, type NetworkView, type PortView, type SubnetView } from '@strata/contracts';
import { capture, eventually, Lab, namespacesWithPrefix, sh, type Vm } from '@strata/lab';
import { eui64LinkLocal, parsePrefix, eui64Address } from '@strata/netaddr';
import { describeIf, kernel } from '@strata/testing/suites';
import { dhcpv6, dhcpv6Information } from './dhcpv6-client.js';

const d = describeIf(kernel(['dhclient', '--version'], ['dnsmasq', '--version'], ['iperf3', '--version'], ['tcpdump', '--version']));

d('IPv6: SLAAC and DHCPv6 from the VM’s own hypervisor', () => {
  let lab: Lab;
  const who = { tenant: 'tenant-v6', admin: false };
  let slaacNet: NetworkView;
  let statefulNet: NetworkView;
  let statelessNet: NetworkView;
  let slaac: SubnetView;
  let stateful: SubnetView;
  let stateless: SubnetView;
  const vm: Record<string, Vm> = {};

  const boot = async (name: string, net: NetworkView, hostId: string): Promise<Vm> => {
    const port: PortView = await lab.ipam.command('port.create', { networkId: net.id, name, hostId }, who);
    return (vm[name] = await lab.addVm(name, port, hostId));
  };

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 2 });
    slaacNet = await lab.ipam.command('network.create', { name: 'v6-slaac' }, who);
    statefulNet = await lab.ipam.command('network.create', { name: 'v6-stateful' }, who);
    slaac = await lab.ipam.command('subnet.create', { networkId: slaacNet.id, cidr: '2001:db8:1::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, who);
    stateful = await lab.ipam.command(
      'subnet.create',
      { networkId: statefulNet.id, cidr: '2001:db8:2::/64', ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' },
      who,
    );
    statelessNet = await lab.ipam.command('network.create', { name: 'v6-stateless' }, who);
    stateless = await lab.ipam.command(
      'subnet.create',
      { networkId: statelessNet.id, cidr: '2001:db8:3::/64', ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: 'dhcpv6-stateless', dnsNameservers: ['2001:db8:3::53'] },
      who,
    );
    const router = await lab.ipam.command('router.create', { name: 'v6-router' }, who);
    for (const s of [slaac, stateful, stateless]) await lab.ipam.command('router.addInterface', { id: router.id, subnetId: s.id }, who);
    await boot('s1', slaacNet, 'hv1');
    await boot('s2', slaacNet, 'hv2');
    await boot('f1', statefulNet, 'hv2');
    await boot('l1', statelessNet, 'hv1');
  }, 120_000);

  afterAll(async () => {
    await lab?.destroy();
  });

  it('records the EUI-64 address of the port’s MAC on the SLAAC subnet, and a pool address on the stateful one', () => {
    expect(slaac).toMatchObject({ ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' });
    for (const n of ['s1', 's2']) expect(vm[n]!.ip).toBe(eui64Address(parsePrefix(slaac.cidr), vm[n]!.port.mac));
    expect(vm.f1!.ip).toBe('2001:db8:2::2');
  });

  it('a VM on a SLAAC subnet configures that address and its default route from its own hypervisor’s RAs (the kernel’s SLAAC)', async () => {
    for (const n of ['s1', 's2']) {
      await eventually(async () => (await globalV6(vm[n]!)).includes(vm[n]!.ip), `${n} to autoconfigure ${vm[n]!.ip}`, 60, 500);
      // The router is the gateway's link-local address, derived from the gateway MAC: the same on every host.
      expect(await defaultRouter(vm[n]!)).toEqual({ via: eui64LinkLocal(gatewayMac(slaacNet.vni)), protocol: 'ra' });
    }
  });

  it('a VM on a DHCPv6-stateful subnet gets exactly its IPAM address from Debian’s DHCPv6 client, and its default route from the RA (M flag, no SLAAC)', async () => {
    const f1 = vm.f1!;
    await eventually(async () => (await defaultRouter(f1)) !== null, 'f1 to hear a router advertisement', 60, 500);
    expect(await defaultRouter(f1)).toEqual({ via: eui64LinkLocal(gatewayMac(statefulNet.vni)), protocol: 'ra' });
    const leased = await dhcpv6(f1);
    expect(leased).toBe(f1.ip);
    // The RA's prefix has no A flag: the only global address is the leased one.
    expect(await globalV6(f1)).toEqual([f1.ip]);
    // The solicit is multicast and crosses VXLAN, but only f1's own hypervisor answered: hv1's server does not know it.
    expect(repliedFrom(lab, f1.ip)).toEqual(new Set(['hv2']));
  });

  it('gives the anycast gateway the same usable link-local address on every host (no DAD across VXLAN)', async () => {
    for (const h of lab.hosts) {
      for (const net of [slaacNet, statefulNet, statelessNet]) {
        const [domainNs] = namespacesWithPrefix(`${lab.prefix}${h.id}-`);
        const out = await sh(['ip', '-n', domainNs!, '-6', 'addr', 'show', 'dev', `qr${net.vni}`, 'scope', 'link']);
        expect(out).toContain(`${eui64LinkLocal(gatewayMac(net.vni))}/64`);
        expect(out).not.toMatch(/tentative|dadfailed/);
      }
    }
  });

  it("a VM on a DHCPv6-stateless subnet configures its EUI-64 address by SLAAC and its information request is answered with the subnet's DNS servers", async () => {
    const l1 = vm.l1!;
    expect(l1.ip).toBe(eui64Address(parsePrefix(stateless.cidr), l1.port.mac));
    await eventually(async () => (await globalV6(l1)).includes(l1.ip), `l1 to autoconfigure ${l1.ip}`, 60, 500);
    expect(await defaultRouter(l1)).toEqual({ via: eui64LinkLocal(gatewayMac(statelessNet.vni)), protocol: 'ra' });
    expect(await dhcpv6Information(l1)).toEqual(['2001:db8:3::53']);
    await pingEventually(l1, vm.f1!.ip);
  });

  it('VMs on different hypervisors reach each other over IPv6: bridged (same subnet) and routed, ping and TCP', async () => {
    await pingEventually(vm.s1!, vm.s2!.ip);
    await pingEventually(vm.s1!, vm.f1!.ip);
    await pingEventually(vm.f1!, vm.s1!.ip);
    const server = spawn('ip', ['netns', 'exec', vm.f1!.ns.name, 'iperf3', '-s', '-1', '-p', '5201'], { stdio: 'ignore' });
    try {
      await eventually(() => vm.s1!.ns.ok(['iperf3', '-6', '-c', vm.f1!.ip, '-p', '5201', '-n', '256K'], 20_000), 's1 to send 256 KiB over TCP to f1', 20, 250);
    } finally {
      server.kill();
    }
  });

  it('a VM live-migrated to another hypervisor keeps its router and addresses, and the new host’s DHCPv6 server answers it', async () => {
    const f1 = vm.f1!;
    const router = await defaultRouter(f1);
    const before = await globalV6(f1);
    await lab.ipam.command('port.bind', { id: f1.port.id, hostId: 'hv1' }, who);
    // As a live migration does: the VM keeps running (its kernel state stays); only its NIC's host side moves.
    await sh(['ip', '-n', lab.host('hv2').ns.name, 'link', 'set', portDevice(f1.port.id), 'netns', lab.host('hv1').ns.name]);
    f1.host = lab.host('hv1');
    await pingEventually(f1, vm.s1!.ip);
    await pingEventually(f1, vm.s2!.ip);
    expect(await defaultRouter(f1)).toEqual(router);
    expect(await globalV6(f1)).toEqual(before);
    // A new solicit is answered by hv1 now, with the same address.
    expect(await dhcpv6(f1)).toBe(f1.ip);
    expect(repliedFrom(lab, f1.ip)).toEqual(new Set(['hv1', 'hv2']));
  });

  it('a VM’s forged router advertisement is dropped at its own port: it never reaches the underlay or the other VMs', async () => {
    const s2 = vm.s2!;
    const s1 = vm.s1!;
    const tap = lab.host('hv2');
    await pingEventually(s1, s2.ip);
    const sent = capture(tap.ns.name, portDevice(s2.port.id), 'icmp6', 6);
    const underlay = capture(lab.fabric.name, 'ul0', 'udp port 4789', 6);
    const victim = capture(s1.ns.name, 'eth0', 'icmp6', 6);
    await Promise.all([sent.started, underlay.started, victim.started]);
    await forgeRouterAdvertisements(s2, '2001:db8:bad::/64');
    // Markers that each capture works: echo requests and replies between the two VMs cross all three points.
    await pingEventually(s1, s2.ip);
    const [fromVm, overVxlan, atVictim] = await Promise.all([sent.lines, underlay.lines, victim.lines]);
    const forged = (l: string): boolean => l.includes(s2.port.mac) && l.includes('router advertisement');
    expect(fromVm.some(forged)).toBe(true);
    expect(overVxlan.some((l) => l.includes('ICMP6, echo'))).toBe(true);
    expect(atVictim.some((l) => l.includes('ICMP6, echo'))).toBe(true);
    expect(overVxlan.filter(forged)).toEqual([]);
    expect(atVictim.filter(forged)).toEqual([]);
    expect((await globalV6(s1)).filter((a) => a.startsWith('2001:db8:bad:'))).toEqual([]);
    expect(await defaultRouter(s1)).toEqual({ via: eui64LinkLocal(gatewayMac(slaacNet.vni)), protocol: 'ra' });
  });

  it('a VM without port security may send RAs, but a filtered VM accepts RAs only from its gateway', async () => {
    const rogue = await boot('r1', slaacNet, 'hv2');
    await lab.secgroup.command('port.setSecurity', { portId: rogue.port.id, enabled: false }, who);
    const s1 = vm.s1!;
    await eventually(async () => (await globalV6(rogue)).includes(rogue.ip), `r1 to autoconfigure ${rogue.ip}`, 60, 500);
    await pingEventually(s1, rogue.ip);
    const underlay = capture(lab.fabric.name, 'ul0', 'udp port 4789', 6);
    const victim = capture(s1.ns.name, 'eth0', 'icmp6', 6);
    await Promise.all([underlay.started, victim.started]);
    await forgeRouterAdvertisements(rogue, '2001:db8:bad2::/64');
    await pingEventually(s1, rogue.ip);
    const [overVxlan, atVictim] = await Promise.all([underlay.lines, victim.lines]);
    const forged = (l: string): boolean => l.includes(rogue.port.mac) && l.includes('router advertisement');
    // Nothing stops it at its own port now: it crosses the underlay ...
    expect(overVxlan.some(forged)).toBe(true);
    // ... and s1's ingress filter drops it (the echo marker shows the capture works).
    expect(atVictim.some((l) => l.includes('ICMP6, echo'))).toBe(true);
    expect(atVictim.filter(forged)).toEqual([]);
    expect((await globalV6(s1)).filter((a) => a.startsWith('2001:db8:bad2:'))).toEqual([]);
  });
});

/** The hypervisors whose dnsmasq sent a DHCPv6 Reply with `ip` (their logs). */
function repliedFrom(lab: Lab, ip: string): Set<string> {
  const hosts = new Set<string>();
  for (const h of lab.hosts) {
    const dir = join(lab.stateDir, h.id);
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.log'))) {
      if (readFileSync(join(dir, f), 'utf8').split('\n').some((l) => l.includes('DHCPREPLY') && l.includes(ip))) hosts.add(h.id);
    }
  }
  return hosts;
}

async function globalV6(v: Vm): Promise<string[]> {
  const out = JSON.parse(await v.ns.exec(['ip', '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])) as { addr_info?: { local?: string }[] }[];
  // `ip -j` lists the link's other (non-matching) address entries as empty objects.
  return out.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local === undefined ? [] : [a.local])));
}

async function defaultRouter(v: Vm): Promise<{ via: string | null; protocol: string } | null> {
  const routes = JSON.parse(await v.ns.exec(['ip', '-6', '-j', 'route', 'show', 'default'])) as { gateway?: string; protocol?: string }[];
  const r = routes[0];
  return r === undefined ? null : { via: r.gateway ?? null, protocol: r.protocol ?? '' };
}

async function pingEventually(from: Vm, to: string): Promise<void> {
  await eventually(() => from.ns.ok(['ping', '-6', '-c', '1', '-W', '1', to], 5_000), `${from.name} to reach ${to}`, 40, 250);
}

/** Run a router-advertisement daemon in the VM (dnsmasq, RA only) announcing `prefix` with itself as router. */
async function forgeRouterAdvertisements(v: Vm, prefix: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `strata-forged-ra-${v.name}-`));
  const [network, length] = prefix.split('/');
  await v.ns.ip(['addr', 'add', `${network}1/${length}`, 'dev', 'eth0', 'nodad']);
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(
    conf,
    ['port=0', 'no-resolv', 'no-hosts', 'bind-interfaces', 'interface=eth0', 'user=root', `pid-file=${join(dir, 'pid')}`, `dhcp-leasefile=${join(dir, 'leases')}`, `dhcp-range=${network},ra-only,${length}`, ''].join('\n'),
  );
  // It daemonises; the lab stops every process in its namespaces at teardown.
  await v.ns.exec(['dnsmasq', `--conf-file=${conf}`]);
}
