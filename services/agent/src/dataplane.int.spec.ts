/**
 * The data plane on a real kernel, in namespaces: three hypervisors on a
 * 198.18.0.0/24 underlay, VMs as namespaces, the agent core reconciling each
 * hypervisor against a static host view (no NATS here).
 *
 *   tenant A, router rA:  netA1 10.0.0.0/24 + fd00:a1::/64 (VNI 100), netA2 10.0.1.0/24 + fd00:a2::/64 (VNI 101)
 *   tenant B, lone net:   netB  10.0.0.0/24 (VNI 200) — overlaps netA1
 *
 *   hv1: a1 (netA1 .11), a3 (netA2 .11), b1 (netB .11)
 *   hv2: a2 (netA1 .12), a4 (netA2 .12), b2 (netB .12)
 *   hv3: b3 (netB .13)       — has no port of tenant A
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf, kernel } from '@strata/testing/suites';
import { portDevice } from '@strata/contracts';
import { diff } from './core/diff.js';
import { emptySnapshot, type HostViewSnapshot } from './core/snapshot.js';
import { hostDataplane } from './dataplane/managers.js';
import { startLinkMonitor } from './kernel/monitor.js';
import type { CurrentView } from './view/current.js';
import type { ViewChange } from './view/store.js';
import { planSize, type Plan } from './core/types.js';
import { applyPlan } from './kernel/apply.js';
import { dnsmasqPaths } from './kernel/dnsmasq.js';
import { hostView, sgRule, subnet, type Cloud, type CloudPort } from './testkit/cloud.js';
import { NetLab, sh, type LabHost, type LabVm } from './testkit/netlab.js';

const d = describeIf(kernel());

const rA = randomUUID();
const netA1 = randomUUID();
const netA2 = randomUUID();
const netB = randomUUID();

const port = (name: string, networkId: string, host: string, ips: [string, string][], mac: string): CloudPort & { name: string } => ({
  name,
  id: randomUUID(),
  networkId,
  mac,
  host,
  fixedIps: ips.map(([subnetId, ip]) => ({ subnetId, ip })),
});

const PORTS = [
  port('a1', netA1, 'hv1', [['sA1', '10.0.0.11'], ['sA1v6', 'fd00:a1::11']], '02:aa:00:00:00:11'),
  port('a2', netA1, 'hv2', [['sA1', '10.0.0.12'], ['sA1v6', 'fd00:a1::12']], '02:aa:00:00:00:12'),
  port('a3', netA2, 'hv1', [['sA2', '10.0.1.11'], ['sA2v6', 'fd00:a2::11']], '02:aa:00:00:01:11'),
  port('a4', netA2, 'hv2', [['sA2', '10.0.1.12'], ['sA2v6', 'fd00:a2::12']], '02:aa:00:00:01:12'),
  port('b1', netB, 'hv1', [['sB', '10.0.0.11']], '02:bb:00:00:00:11'),
  port('b2', netB, 'hv2', [['sB', '10.0.0.12']], '02:bb:00:00:00:12'),
  port('b3', netB, 'hv3', [['sB', '10.0.0.13']], '02:bb:00:00:00:13'),
];

const cloud: Cloud = {
  hosts: { hv1: '198.18.0.11', hv2: '198.18.0.12', hv3: '198.18.0.13' },
  networks: [
    { id: netA1, tenant: 'A', vni: 100, domainId: rA, subnets: [subnet('sA1', '10.0.0.0/24', '10.0.0.1'), subnet('sA1v6', 'fd00:a1::/64', 'fd00:a1::1', false)] },
    { id: netA2, tenant: 'A', vni: 101, domainId: rA, subnets: [subnet('sA2', '10.0.1.0/24', '10.0.1.1'), subnet('sA2v6', 'fd00:a2::/64', 'fd00:a2::1', false)] },
    { id: netB, tenant: 'B', vni: 200, domainId: netB, subnets: [subnet('sB', '10.0.0.0/24', '10.0.0.1')] },
  ],
  domains: [
    { id: rA, tenant: 'A', kind: 'router' },
    { id: netB, tenant: 'B', kind: 'network' },
  ],
  ports: PORTS.map(({ name: _n, ...p }) => p),
};

let lab: NetLab;
const vm: Record<string, LabVm> = {};
const hv = (n: number): LabHost => lab.host(n);

async function reconcileAll(c: Cloud = cloud): Promise<void> {
  for (const h of lab.hosts) await h.dataplane.reconcile(hostView(c, h.name));
}

/** A second reconcile plans nothing: the first was exact and complete. */
async function expectConverged(c: Cloud = cloud): Promise<void> {
  for (const h of lab.hosts) {
    const { plan } = await h.dataplane.plan(hostView(c, h.name));
    expect(plan, `${h.name} has left-over work`).toEqual({ batches: [] });
  }
}

/** Capture VXLAN traffic on the underlay switch while `during` runs; returns tcpdump's decoded lines. */
async function captureUnderlay(during: () => Promise<void>): Promise<string[]> {
  const child = spawn('ip', ['netns', 'exec', lab.fabric, 'tcpdump', '--immediate-mode', '-l', '-n', '-e', '-i', 'ul0', 'udp', 'port', '4789'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await listening;
    await during();
  } finally {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGINT');
    await exited;
  }
  // tcpdump prints a VXLAN packet on two lines: outer, then the decapsulated frame.
  const lines = out.split('\n');
  const packets: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/VXLAN/.test(lines[i]!)) packets.push(`${lines[i]} || ${lines[i + 1] ?? ''}`);
  }
  return packets;
}

d('agent data plane (real kernel, namespaces)', () => {
  beforeAll(async () => {
    lab = await NetLab.create(3);
    for (const p of PORTS) {
      vm[p.name] = await lab.addVm(p.name, hv(Number(p.host.slice(2))), p.mac, portDevice(p.id));
    }
    const gw: Record<string, [string, string]> = { [netA1]: ['10.0.0.1', 'fd00:a1::1'], [netA2]: ['10.0.1.1', 'fd00:a2::1'], [netB]: ['10.0.0.1', ''] };
    for (const p of PORTS) {
      const [gw4, gw6] = gw[p.networkId]!;
      for (const f of p.fixedIps) {
        const v6 = f.ip.includes(':');
        await lab.configure(vm[p.name]!, `${f.ip}/${v6 ? 64 : 24}`, v6 ? gw6 || undefined : gw4);
      }
    }
    await reconcileAll();
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('converges: a second reconcile plans nothing', async () => {
    await expectConverged();
  });

  it('(1) same subnet across hosts over VXLAN, IPv4 and IPv6', async () => {
    expect(await lab.pingEventually(vm.a1!, '10.0.0.12')).toBe(64);
    expect(await lab.pingEventually(vm.a2!, '10.0.0.11')).toBe(64);
    expect(await lab.pingEventually(vm.a1!, 'fd00:a1::12')).toBe(64);
  });

  it('(2) routes between subnets in one hop on the source host: same host and across hosts', async () => {
    // a1 → a3: both on hv1. a1 → a4: a4 on hv2. The reply TTL counts the routed hops of the reply path (one: hv2's gateway).
    expect(await lab.pingEventually(vm.a1!, '10.0.1.11')).toBe(63);
    expect(await lab.pingEventually(vm.a1!, '10.0.1.12')).toBe(63);
    expect(await lab.pingEventually(vm.a4!, '10.0.0.11')).toBe(63);
    expect(await lab.pingEventually(vm.a1!, 'fd00:a2::12')).toBe(63);
    // The gateway answers locally.
    expect(await lab.pingEventually(vm.a2!, '10.0.0.1')).toBe(64);
  });

  it('(3) overlapping tenants stay apart', async () => {
    // b1 and a1 share 10.0.0.11 on hv1; b2 and a2 share 10.0.0.12 on hv2.
    expect(await lab.pingEventually(vm.b1!, '10.0.0.12')).toBe(64);
    expect(await lab.pingEventually(vm.b3!, '10.0.0.11')).toBe(64);
    // The address 10.0.0.12 resolves to tenant B's VM for b1, to tenant A's for a1.
    const macOf = async (from: LabVm, ip: string): Promise<string> => {
      const out = await sh(['ip', '-n', from.ns, '-j', 'neigh', 'show', ip, 'dev', 'eth0']);
      return (JSON.parse(out) as { lladdr?: string }[])[0]?.lladdr ?? '';
    };
    expect(await macOf(vm.b1!, '10.0.0.12')).toBe(vm.b2!.mac);
    expect(await macOf(vm.a1!, '10.0.0.12')).toBe(vm.a2!.mac);
    // Tenant B has no route to tenant A's other subnet; tenant A's router has no leg in tenant B.
    expect(await lab.ping(vm.b1!, '10.0.1.11')).toBeNull();
    // No frame of tenant A reaches a tenant B VM: b2 sees nothing from a1's MAC while a1 pings a2.
    const seen = await captureOn(vm.b2!, async () => {
      for (let i = 0; i < 3; i++) await lab.pingEventually(vm.a1!, '10.0.0.12');
      await lab.pingEventually(vm.b1!, '10.0.0.12');
    });
    expect(seen.some((l) => l.includes(vm.b1!.mac)), 'the capture works').toBe(true);
    expect(seen.filter((l) => l.includes(vm.a1!.mac) || l.includes('02:53:47:00:00:64'))).toEqual([]);
  });

  it('(4) no ARP crosses the underlay for known addresses; BUM goes only to VTEPs with the network', async () => {
    // Flush the VMs' ARP caches so every ping has to resolve first.
    for (const name of ['a1', 'a2', 'b1']) await sh(['ip', '-n', vm[name]!.ns, 'neigh', 'flush', 'dev', 'eth0']);
    const known = await captureUnderlay(async () => {
      await lab.pingEventually(vm.a1!, '10.0.0.12');
      await lab.pingEventually(vm.a1!, '10.0.1.12');
      await lab.pingEventually(vm.b1!, '10.0.0.13');
    });
    expect(known.some((l) => /ICMP echo request/.test(l)), 'the pings crossed VXLAN').toBe(true);
    expect(known.filter((l) => /ARP/.test(l))).toEqual([]);

    // ARP for an address nobody has: flooded to hv2 (has netA1), never to hv3 (does not).
    const unknown = await captureUnderlay(async () => {
      await lab.ping(vm.a1!, '10.0.0.99');
    });
    const arps = unknown.filter((l) => /ARP.*Request who-has 10\.0\.0\.99 /.test(l));
    expect(arps.length).toBeGreaterThan(0);
    expect(arps.every((l) => l.includes('198.18.0.11.') && l.includes('> 198.18.0.12.'))).toBe(true);
    // hv3 carries tenant B (VNI 200) only: nothing of VNI 100 reaches it.
    expect(unknown.filter((l) => l.includes('198.18.0.13.') && /vni 100\b/.test(l))).toEqual([]);
  });

  it('(5) DHCP: a VM gets its address, router and MTU from its own host', async () => {
    const c = structuredClone(cloud);
    const p = port('a5', netA1, 'hv1', [['sA1', '10.0.0.15']], '02:aa:00:00:00:15');
    c.ports.push({ id: p.id, networkId: p.networkId, mac: p.mac, host: p.host, fixedIps: p.fixedIps });
    const v = await lab.addVm('a5', hv(1), p.mac, portDevice(p.id));
    const script = join(tmpdir(), `${lab.prefix}udhcpc.sh`);
    try {
      await reconcileAll(c);
      writeFileSync(script, '#!/bin/sh\necho "event=$1 ip=$ip mask=$mask router=$router mtu=$mtu server=$serverid"\n');
      chmodSync(script, 0o755);
      const out = await sh(['ip', 'netns', 'exec', v.ns, 'busybox', 'udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-O', 'mtu', '-t', '10', '-T', '1', '-s', script]);
      expect(out).toMatch(/event=bound ip=10\.0\.0\.15 mask=24 router=10\.0\.0\.1 mtu=1450/);
      const log1 = readFileSync(dnsmasqPaths(hv(1).stateDir, domainNs(hv(1), rA)).log, 'utf8');
      const log2 = readFileSync(dnsmasqPaths(hv(2).stateDir, domainNs(hv(2), rA)).log, 'utf8');
      expect(log1).toMatch(new RegExp(`DHCPACK\\(qr100\\) 10\\.0\\.0\\.15 ${p.mac}`));
      expect(log2).not.toMatch(/DHCPACK\(qr100\) 10\.0\.0\.15/);

      // A new port on a running server: the hosts file is re-read on SIGHUP, no restart.
      const pid = Number(readFileSync(dnsmasqPaths(hv(1).stateDir, domainNs(hv(1), rA)).pid, 'utf8'));
      c.ports.find((x) => x.id === p.id)!.fixedIps = [{ subnetId: 'sA1', ip: '10.0.0.25' }];
      await reconcileAll(c);
      const again = await sh(['ip', 'netns', 'exec', v.ns, 'busybox', 'udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-O', 'mtu', '-t', '10', '-T', '1', '-s', script]);
      expect(again).toMatch(/event=bound ip=10\.0\.0\.25 /);
      expect(Number(readFileSync(dnsmasqPaths(hv(1).stateDir, domainNs(hv(1), rA)).pid, 'utf8'))).toBe(pid);
    } finally {
      rmSync(script, { force: true });
      await sh(['ip', 'netns', 'del', v.ns]);
      await reconcileAll();
    }
  });

  it('plugging a port whose MAC is lower than every other leaves the bridge (and its neighbour table) alone', async () => {
    // Left to itself a bridge takes its lowest port MAC; the address change would flush its permanent neighbours.
    const c = structuredClone(cloud);
    const p = port('a6', netA1, 'hv1', [['sA1', '10.0.0.16']], '02:aa:00:00:00:16');
    c.ports.push({ id: p.id, networkId: p.networkId, mac: p.mac, host: p.host, fixedIps: p.fixedIps });
    const v = await lab.addVm('a6', hv(1), p.mac, portDevice(p.id));
    try {
      await sh(['ip', '-n', hv(1).ns, 'link', 'set', 'dev', portDevice(p.id), 'address', '00:00:00:00:00:01']);
      await reconcileAll(c);
      await expectConverged(c);
      const neigh = JSON.parse(await sh(['ip', '-n', hv(1).ns, '-j', 'neigh', 'show', 'dev', 'sbr100', 'nud', 'permanent'])) as unknown[];
      expect(neigh.length).toBeGreaterThanOrEqual(5);
    } finally {
      await sh(['ip', 'netns', 'del', v.ns]);
      lab.vms.delete('a6');
      await reconcileAll();
    }
  });

  it('(6) drift is repaired by the next reconcile', async () => {
    const h = hv(1);
    await sh(['bridge', '-n', h.ns, 'fdb', 'del', vm.a2!.mac, 'dev', 'svx100', 'self']);
    await sh(['ip', '-n', h.ns, 'neigh', 'flush', 'dev', 'sbr100', 'nud', 'permanent']);
    await sh(['ip', '-n', h.ns, 'link', 'del', 'svx200']);
    await sh(['ip', '-n', domainNs(h, rA), 'neigh', 'flush', 'dev', 'qr101', 'nud', 'permanent']);
    await sh(['ip', '-n', h.ns, 'link', 'set', portDevice(PORTS[0]!.id), 'nomaster']);
    const { plan } = await h.dataplane.plan(hostView(cloud, 'hv1'));
    const ops = plan.batches.flatMap((b) => b.ops.map((o) => o.op));
    expect(ops).toContain('link-add');
    expect(ops).toContain('fdb-add');
    expect(ops).toContain('neigh-replace');
    expect(ops).toContain('plug');
    await reconcileAll();
    await expectConverged();
    expect(await lab.pingEventually(vm.a1!, '10.0.0.12')).toBe(64);
    expect(await lab.pingEventually(vm.b1!, '10.0.0.12')).toBe(64);
    expect(await lab.pingEventually(vm.a2!, '10.0.1.11')).toBe(63);
  });

  it('(7) an apply interrupted half-way is finished exactly by the next reconcile', async () => {
    const h = hv(2);
    // Take hv2 down to nothing, then build it again but stop after half of the batches.
    await h.dataplane.reconcile(emptySnapshot());
    const { plan } = await h.dataplane.plan(hostView(cloud, 'hv2'));
    expect(plan.batches.length).toBeGreaterThan(3);
    const half: Plan = { batches: plan.batches.slice(0, Math.ceil(plan.batches.length / 2)) };
    await applyPlan(h.exec, half);
    const rest = await h.dataplane.plan(hostView(cloud, 'hv2'));
    expect(planSize(rest.plan)).toBe(planSize(plan) - planSize(half));
    // Half of one batch too: the kernel model agrees with the kernel at any cut.
    const cut = rest.plan.batches[0]!;
    await applyPlan(h.exec, { batches: [{ phase: cut.phase, ops: cut.ops.slice(0, Math.ceil(cut.ops.length / 2)) }] });
    await h.dataplane.reconcile(hostView(cloud, 'hv2'));
    await expectConverged();
    expect(await lab.pingEventually(vm.a2!, '10.0.0.11')).toBe(64);
    expect(await lab.pingEventually(vm.a4!, '10.0.0.11')).toBe(63);
  });

  it('(9) a port moved to another host: connectivity follows, the old host is left clean', async () => {
    // a3 (netA2) moves hv1 → hv3. hv1 keeps tenant A (a1), hv3 gains it.
    const c = structuredClone(cloud);
    const a3 = PORTS.find((p) => p.name === 'a3')!;
    c.ports.find((p) => p.id === a3.id)!.host = 'hv3';
    await lab.move(vm.a3!, hv(3));
    await lab.configure(vm.a3!, '10.0.1.11/24', '10.0.1.1');
    await lab.configure(vm.a3!, 'fd00:a2::11/64', 'fd00:a2::1');
    await reconcileAll(c);
    await expectConverged(c);
    expect(await lab.pingEventually(vm.a3!, '10.0.1.12')).toBe(64);
    expect(await lab.pingEventually(vm.a3!, '10.0.0.11')).toBe(63);
    expect(await lab.pingEventually(vm.a1!, '10.0.1.11')).toBe(63);
    // hv1 no longer has a3's device nor anything pointing at it as local.
    const links = JSON.parse(await sh(['ip', '-n', hv(1).ns, '-j', 'link', 'show'])) as { ifname: string }[];
    expect(links.map((l) => l.ifname)).not.toContain(portDevice(a3.id));
    const fdb = JSON.parse(await sh(['bridge', '-n', hv(1).ns, '-j', 'fdb', 'show', 'dev', 'svx101'])) as { mac: string; dst?: string }[];
    expect(fdb.filter((f) => f.mac === a3.mac).map((f) => f.dst ?? 'bridge').sort()).toEqual(['198.18.0.13', 'bridge']);
  });

  it('(10) kept passes (no kernel read) through a membership change, a new port and its NIC, a leave: the kernel is exactly what a read then finds', async () => {
    // hv3 (b3 on netB) with a dataplane told of every link by a real `ip monitor link`, as the agent runs it.
    const h = hv(3);
    const web = { id: randomUUID(), tenant: 'B', rules: [sgRule('from-web', 'ingress', { remoteGroupId: '' }), sgRule('out', 'egress')] };
    web.rules[0]!.remoteGroupId = web.id;
    const b5 = { id: randomUUID(), networkId: netB, mac: '02:bb:00:00:00:15', host: 'hv3', fixedIps: [{ subnetId: 'sB', ip: '10.0.0.15' }], groupIds: [web.id] };
    const inWeb = (c: Cloud, names: string[]): Cloud => ({
      ...c,
      groups: [web],
      ports: c.ports.map((p) => {
        const name = PORTS.find((q) => q.id === p.id)?.name ?? '';
        return names.includes(name) || p.id === b5.id ? { ...p, groupIds: [web.id] } : { ...p, groupIds: [] };
      }),
    });
    const c0 = inWeb(cloud, ['b2', 'b3']);
    const c1 = inWeb(cloud, ['b1', 'b2', 'b3']);
    const c2 = inWeb({ ...cloud, ports: [...cloud.ports, b5] }, ['b1', 'b2', 'b3']);
    const c3 = inWeb({ ...cloud, ports: [...cloud.ports, b5] }, ['b2', 'b3']);
    const dp = hostDataplane({ exec: h.exec, nsPrefix: h.nsPrefix, stateDir: h.stateDir, followsLinks: true });
    const seen: string[] = [];
    const monitor = startLinkMonitor(h.exec, (name, gone) => {
      dp.linkChanged(name, gone);
      if (!gone) seen.push(name);
    });
    const journal: ViewChange[] = [];
    let view = hostView(c0, 'hv3');
    const current = (): CurrentView => ({ view, revision: journal.length, viewPosition: journal.length, journal: { epoch: 1, position: journal.length, changesSince: (from) => journal.slice(from), trim: () => undefined } });
    const to = (c: Cloud): void => {
      const next = hostView(c, 'hv3');
      journal.push(...changesBetween(view, next));
      view = next;
    };
    const readAgain = async (): Promise<void> => expect((await dp.plan(view)).plan, 'the model and the kernel differ').toEqual({ batches: [] });
    let b5vm: LabVm | undefined;
    try {
      for (const h2 of [hv(1), hv(2)]) await h2.dataplane.reconcile(hostView(c2, h2.name));
      expect(await dp.sync(current())).toMatchObject({ kind: 'full', result: { read: true } });
      // b1 joins web: a fast pass (set elements only), which also patches the model.
      to(c1);
      expect(await dp.sync(current())).toMatchObject({ kind: 'fast', changed: true });
      // b5 is bound here before its NIC exists: a kept pass, its filter and DHCP host made, nothing plugged.
      to(c2);
      const before = await dp.sync(current());
      expect(before).toMatchObject({ kind: 'full', result: { read: false } });
      expect(before.kind === 'full' && before.result.ports.find((p) => p.portId === b5.id)?.state).toBe('down');
      await readAgain();
      // Its NIC appears (Nova): the monitor tells the dataplane, and the next kept pass plugs it.
      b5vm = await lab.addVm('b5', h, b5.mac, portDevice(b5.id));
      for (let i = 0; i < 100 && !seen.includes(portDevice(b5.id)); i++) await new Promise((r) => setTimeout(r, 20));
      const after = await dp.sync(current(), { full: true });
      expect(after).toMatchObject({ kind: 'full', result: { read: false } });
      expect(after.kind === 'full' && after.result.plan.batches.flatMap((b) => b.ops.map((o) => o.op))).toEqual(['plug']);
      expect(after.kind === 'full' && after.result.ports.find((p) => p.portId === b5.id)?.state).toBe('up');
      await lab.configure(b5vm, '10.0.0.15/24', '10.0.0.1');
      expect(await lab.pingEventually(b5vm, '10.0.0.13')).toBe(64);
      // b1 leaves web: a fast pass deletes its address from the set, in the kernel and in the model.
      to(c3);
      expect(await dp.sync(current())).toMatchObject({ kind: 'fast', changed: true });
      await readAgain();
      expect(await dp.sync(current(), { full: true })).toMatchObject({ kind: 'full', result: { read: false, plan: { batches: [] } } });
    } finally {
      monitor.stop();
      dp.close();
      if (b5vm) await sh(['ip', 'netns', 'del', b5vm.ns]).catch(() => undefined);
    }
  });

  it('(8) an empty view leaves no Strata object behind', async () => {
    for (const h of lab.hosts) {
      await h.dataplane.reconcile(emptySnapshot());
      const { plan, actual } = await h.dataplane.plan(emptySnapshot());
      expect(plan.batches).toEqual([]);
      // (The br_netfilter sysctls are left as they are: they were on by default.)
      expect({ ...actual, devices: [], hostSysctls: {} }).toEqual({ namespaces: {}, links: {}, plugs: {}, addrs: {}, fdb: {}, neighs: {}, routes: {}, rules: {}, nft: { tables: {} }, nsNft: {}, hostSysctls: {}, devices: [] });
      expect(await sh(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'tables'])).not.toMatch(/strata/);
      // Independently of the agent's own reader:
      const links = JSON.parse(await sh(['ip', '-n', h.ns, '-j', 'link', 'show'])) as { ifname: string; master?: string }[];
      expect(links.filter((l) => /^(sbr|svx|sgw)/.test(l.ifname) || l.master !== undefined)).toEqual([]);
      const neigh = JSON.parse((await sh(['ip', '-n', h.ns, '-j', 'neigh', 'show', 'nud', 'permanent'])) || '[]') as unknown[];
      expect(neigh).toEqual([]);
      const namespaces = (await sh(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith(h.nsPrefix));
      expect(namespaces).toEqual([]);
      const servers = h.dnsmasq.running();
      expect(Object.values(servers).filter((pid) => pid !== null)).toEqual([]);
    }
    // The VMs' devices are the hypervisor's: still there, just unplugged.
    const taps = JSON.parse(await sh(['ip', '-n', hv(2).ns, '-j', 'link', 'show'])) as { ifname: string }[];
    expect(taps.map((l) => l.ifname)).toContain(vm.a2!.device);
  });
});

/** The journal hostview's writes would give the agent between two views of a host. */
function changesBetween(a: HostViewSnapshot, b: HostViewSnapshot): ViewChange[] {
  const fields = ['networks', 'ports', 'endpoints', 'domains', 'groups', 'members', 'chains', 'l2gateways'] as const;
  if (JSON.stringify(a.host) !== JSON.stringify(b.host)) throw new Error('the host changed');
  return fields.flatMap((field) => {
    const ids = [...new Set([...Object.keys(a[field]), ...Object.keys(b[field])])].sort();
    return ids.flatMap((id): ViewChange[] => {
      const before = (a[field] as Record<string, unknown>)[id];
      const after = (b[field] as Record<string, unknown>)[id];
      return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ field, id, before, after }];
    });
  });
}

function domainNs(h: LabHost, domainId: string): string {
  return `${h.nsPrefix}d${domainId.replaceAll('-', '').slice(0, 12)}`;
}

/** Capture on a VM's eth0 while `during` runs. */
async function captureOn(v: LabVm, during: () => Promise<void>): Promise<string[]> {
  const child = spawn('ip', ['netns', 'exec', v.ns, 'tcpdump', '--immediate-mode', '-l', '-n', '-e', '-i', 'eth0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await listening;
    await during();
  } finally {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGINT');
    await exited;
  }
  return out.split('\n').filter((l) => l.trim() !== '');
}

