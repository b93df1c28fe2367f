/**
 * The overlay with real packets: 3 hypervisors, 2 tenants with overlapping
 * 10.0.0.0/24 + 10.0.1.0/24, distributed routing, local ARP, isolation,
 * moves, drift repair and clean deletion. Everything lives in namespaces
 * named with this run's prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, eventually, Lab, sh, type Vm } from '@strata/lab';
import { NOTHING, strataObjects } from './owned.js';
import { tenantWithRouter, vmOn, type TenantSetup } from './scenario.js';

describe('distributed L2/L3 overlay', () => {
  let lab: Lab;
  let a: TenantSetup;
  let b: TenantSetup;
  const vm: Record<string, Vm> = {};

  beforeAll(async () => {
    lab = await Lab.start({ hypervisors: 3 });
    a = await tenantWithRouter(lab, 'tenant-a');
    b = await tenantWithRouter(lab, 'tenant-b');
    vm.a1 = await vmOn(lab, a, 'a1', 0, 'hv1');
    vm.a2 = await vmOn(lab, a, 'a2', 0, 'hv2');
    vm.a3 = await vmOn(lab, a, 'a3', 1, 'hv1');
    vm.a4 = await vmOn(lab, a, 'a4', 1, 'hv3');
    vm.b1 = await vmOn(lab, b, 'b1', 0, 'hv1');
    vm.b2 = await vmOn(lab, b, 'b2', 0, 'hv2');
    vm.b3 = await vmOn(lab, b, 'b3', 1, 'hv3');
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('gives both tenants the same addresses (overlap is real)', () => {
    expect(vm.a1!.ip).toBe(vm.b1!.ip);
    expect(vm.a2!.ip).toBe(vm.b2!.ip);
  });

  it('bridges the same subnet across hosts over VXLAN', async () => {
    await vm.a1!.pingEventually(vm.a2!.ip);
    await vm.b1!.pingEventually(vm.b2!.ip);
  });

  it('routes between subnets on one host and across hosts in exactly one hop (the local gateway)', async () => {
    await vm.a1!.pingEventually(vm.a3!.ip);
    await vm.a1!.pingEventually(vm.a4!.ip);
    await vm.b1!.pingEventually(vm.b3!.ip);
    // Linux answers echo with TTL 64; one routed hop on the way back (the replying host's own gateway) makes it 63.
    expect(await vm.a1!.replyTtl(vm.a3!.ip)).toBe(63);
    expect(await vm.a1!.replyTtl(vm.a4!.ip)).toBe(63);
  });

  it('keeps tenants apart: nothing of tenant A reaches tenant B', async () => {
    const captures = ['b1', 'b2', 'b3'].map((n) => capture(vm[n]!.ns.name, 'eth0', 'icmp or arp', 4));
    await Promise.all(captures.map((c) => c.started));
    // Tenant A pings all its addresses, which tenant B's VMs also use; a marker ping in tenant B proves the captures work.
    for (const target of [vm.a2!.ip, vm.a3!.ip, vm.a4!.ip]) await vm.a1!.pingOnce(target);
    await vm.b1!.pingOnce(vm.b2!.ip);
    const seen = (await Promise.all(captures.map((c) => c.lines))).flat().join('\n');
    expect(seen).toContain(vm.b1!.port.mac);
    for (const n of ['a1', 'a2', 'a3', 'a4']) expect(seen).not.toContain(vm[n]!.port.mac);
  });

  it('answers ARP on the host: no ARP inside VXLAN for known destinations; BUM only to hosts with the network', async () => {
    for (const v of [vm.a1!, vm.a2!]) await v.ns.ip(['neigh', 'flush', 'dev', 'eth0']);
    const underlay = capture(lab.fabric.name, 'ul0', 'udp port 4789', 5);
    await underlay.started;
    await vm.a1!.pingEventually(vm.a2!.ip);
    await vm.a1!.pingOnce('10.0.0.200'); // unknown: its ARP is flooded, but only to hv2 (the other host with ports on this network)
    // tcpdump prints each VXLAN packet as two lines: the outer header (with a timestamp), then the inner frame.
    const lines = joinEncapsulated(await underlay.lines);
    expect(lines.some((l) => l.includes('ICMP echo request'))).toBe(true);
    const arpToKnown = lines.filter((l) => /ARP, Request who-has 10\.0\.0\.\d+ /.test(l) && !l.includes('who-has 10.0.0.200'));
    expect(arpToKnown).toEqual([]);
    const flooded = lines.filter((l) => l.includes('who-has 10.0.0.200'));
    expect(flooded.length).toBeGreaterThan(0);
    for (const l of flooded) expect(l).toMatch(new RegExp(`198\\.18\\.0\\.11\\.\\d+ > 198\\.18\\.0\\.12\\.4789: VXLAN.*vni ${a.nets[0]!.vni}`));
  });

  it('gives a VM its address by DHCP from its own hypervisor', async () => {
    const port = await lab.ipam.command('port.create', { networkId: a.nets[1]!.id, name: 'a5', hostId: 'hv3' }, a.who);
    const a5 = await lab.addVm('a5', port, 'hv3');
    vm.a5 = a5;
    // The agent plugs the NIC asynchronously; ask until a server answers (udhcpc itself retries 10 times).
    let lease: Awaited<ReturnType<typeof a5.dhcp>> | undefined;
    await eventually(async () => (lease = await a5.dhcp().catch(() => undefined)) !== undefined, 'a DHCP lease', 10, 500);
    expect(lease).toEqual({ ip: port.fixedIps[0]!.ip, mask: 24, router: a.subnets[1]!.gatewayIp, mtu: 1450 });
    // Only hv3's dnsmasq answered; the other hosts' servers ignore ports they do not host.
    const acks = await dhcpAcks(lab, port.mac);
    expect(acks.length).toBeGreaterThan(0);
    expect(new Set(acks.map((x) => x.host))).toEqual(new Set(['hv3']));
    await a5.pingEventually(vm.a1!.ip);
  });

  it('restores kernel state someone flushed, at the next reconcile', async () => {
    const hv1 = lab.host('hv1');
    const vni = a.nets[0]!.vni;
    await sh(['bridge', '-n', hv1.ns.name, 'fdb', 'flush', 'dev', `svx${vni}`]).catch(() => undefined);
    await hv1.ns.ip(['link', 'del', `svx${a.nets[1]!.vni}`]);
    await vm.a1!.pingEventually(vm.a2!.ip);
    await vm.a1!.pingEventually(vm.a4!.ip);
  });

  it('converges after the agent is killed with SIGKILL and its state is disturbed', async () => {
    const hv2 = lab.host('hv2');
    await hv2.agent!.kill9();
    await hv2.ns.ip(['link', 'del', `sbr${a.nets[0]!.vni}`]);
    await lab.startAgent(hv2);
    await vm.a1!.pingEventually(vm.a2!.ip);
  });

  it('follows a port moved to another host and leaves the old host clean', async () => {
    const moved = vm.a2!;
    await lab.ipam.command('port.bind', { id: moved.port.id, hostId: 'hv3' }, a.who);
    await lab.moveVm(moved, 'hv3');
    const subnet = a.subnets[0]!;
    await moved.configureStatic({ [subnet.id]: { prefixLength: 24, gatewayIp: subnet.gatewayIp, mtu: a.nets[0]!.mtu } });
    await vm.a1!.pingEventually(moved.ip);
    await vm.a4!.pingEventually(moved.ip);
    // hv2 still hosts b2 (tenant B) but nothing of tenant A any more.
    await eventually(async () => {
      const left = await strataObjects(lab, lab.host('hv2'));
      return ![...left.links, ...left.fdb, ...left.neigh].some((x) => x.includes(String(a.nets[0]!.vni)) || x.includes(moved.port.mac));
    }, 'hv2 to drop tenant A state');
  });

  it('removes every trace when everything is deleted', async () => {
    for (const [name, v] of Object.entries(vm)) {
      await lab.ipam.command('port.delete', { id: v.port.id }, name.startsWith('a') ? a.who : b.who);
    }
    for (const t of [a, b]) {
      for (const s of t.subnets) await lab.ipam.command('router.removeInterface', { id: t.routerId, subnetId: s.id }, t.who);
      await lab.ipam.command('router.delete', { id: t.routerId }, t.who);
      for (const n of t.nets) await lab.ipam.command('network.delete', { id: n.id }, t.who);
    }
    for (const h of lab.hosts) {
      await eventually(async () => JSON.stringify(await strataObjects(lab, h)) === JSON.stringify(NOTHING), `${h.id} to be clean`);
    }
  });
});

function joinEncapsulated(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (/^\d{2}:\d{2}:\d{2}\.\d{6} /.test(l) || out.length === 0) out.push(l);
    else out[out.length - 1] += ` | ${l}`;
  }
  return out;
}

/** DHCPACKs for `mac` in the dnsmasq logs of every hypervisor's agent. */
async function dhcpAcks(lab: Lab, mac: string): Promise<{ host: string; line: string }[]> {
  const out: { host: string; line: string }[] = [];
  for (const h of lab.hosts) {
    const dir = join(lab.stateDir, h.id);
    const logs = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.log'));
    for (const f of logs) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.includes('DHCPACK') && line.includes(mac)) out.push({ host: h.id, line });
    }
  }
  return out;
}
