/**
 * The overlay with real packets: 3 hypervisors, 2 tenants with overlapping
 * 10.0.0.0/24 + 10.0.1.0/24, distributed routing, local ARP, isolation,
 * moves, drift repair and clean deletion. Everything lives in namespaces
 * named with this run's prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Lab, sh, type Vm } from '@strata/lab';
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
    const captures = ['b1', 'b2', 'b3'].map((n) => vm[n]!.ns.exec(['timeout', '4', 'tcpdump', '-nn', '-e', '-c', '50', '-i', 'eth0', 'icmp or arp'], { timeoutMs: 10_000 }).catch((e: { stderr?: string }) => String(e)));
    await sh(['sleep', '0.5']);
    for (const target of [vm.a2!.ip, vm.a3!.ip, vm.a4!.ip]) await vm.a1!.pingOnce(target);
    const seen = (await Promise.all(captures)).join('\n');
    for (const n of ['a1', 'a2', 'a3', 'a4']) expect(seen).not.toContain(vm[n]!.port.mac);
  });

  it('answers ARP on the host: no ARP inside VXLAN for known destinations; BUM only to hosts with the network', async () => {
    for (const v of [vm.a1!, vm.a2!]) await v.ns.ip(['neigh', 'flush', 'dev', 'eth0']);
    const capture = lab.fabric.exec(['timeout', '4', 'tcpdump', '-nn', '-i', 'ul0', '-c', '200', 'udp port 4789'], { timeoutMs: 10_000 }).catch((e: { stdout?: string; message: string }) => e.message);
    await sh(['sleep', '0.5']);
    await vm.a1!.pingEventually(vm.a2!.ip);
    await vm.a1!.pingOnce('10.0.0.200'); // unknown: its ARP is flooded, but only to hv2 (the other host with ports on this network)
    const underlay = await capture;
    const lines = underlay.split('\n');
    const arpToKnown = lines.filter((l) => /ARP, Request who-has 10\.0\.0\.\d+ /.test(l) && !l.includes('who-has 10.0.0.200'));
    expect(arpToKnown).toEqual([]);
    const flooded = lines.filter((l) => l.includes('who-has 10.0.0.200'));
    expect(flooded.length).toBeGreaterThan(0);
    for (const l of flooded) expect(l).toMatch(/198\.18\.0\.11\.\d+ > 198\.18\.0\.12\.4789/);
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
