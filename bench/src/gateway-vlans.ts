/**
 * The software L2 gateway at 1,000 bindings on one NIC (issue 19): the
 * gateway host's agent applying BINDINGS VLAN bindings of as many networks
 * (lone networks: L2 only, docs/architecture.md "Gateway devices, bindings
 * and the software gateway") on one trunk NIC, from nothing.
 *
 *   npm run -w @strata/bench gateway-vlans            (BINDINGS=1000 by default)
 *   QUICK=1 npm run -w @strata/bench gateway-vlans    (BINDINGS=200; under 2 minutes)
 *
 * A namespace lab with one host (the gateway) and a trunk veth; the host
 * view is derived by hostview's own derivation (agent testkit). Measured:
 * the plan (desired state + diff), the apply of everything but the VLAN
 * devices, the apply of the VLAN devices (their own phase), a second plan
 * (the kernel read back), and the kernel objects in the host's namespace.
 * Each network also has a VM on another hypervisor (hv2): the gateway host
 * floods each network to it and has its MAC (tunnel and bridge entries, a
 * neighbour entry), as it would in a cloud.
 * On a kernel without 802.1Q (CONFIG_VLAN_8021Q unset) the VLAN phase
 * fails and is reported so; the rest is measured all the same.
 *
 * Baseline in the same run: the same kernel objects written directly by
 * the bench into a second, empty host namespace of the same lab (same
 * underlay, its own trunk veth), with no plan, no read-back and no diff:
 * one `ip -batch` (per network: bridge, VXLAN device with learning off and
 * neighbour suppression on, both up, the binding's VLAN device in the bridge,
 * the remote VM's permanent neighbour entry) and one `bridge -batch` (the
 * flood entry, the remote MAC's tunnel entry and its static bridge entry),
 * the VLAN devices in their own `ip -batch` so that a kernel without 802.1Q
 * fails only them, as in the agent. It is fair as the least any agent must
 * do to get these objects: the same kernel work, from processes the
 * same size, without Strata's planning or bookkeeping.
 *
 * Last line: the agent from nothing (plan + apply, VLAN devices included
 * when the kernel has them) ÷ the direct batches (the same objects).
 */
import { randomUUID } from 'node:crypto';
import { ApplyError, applyPlan } from '@strata/agent';
import { hostView, NetLab, sh, type Cloud } from '@strata/agent/testkit';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';

const N = intEnv('BINDINGS', QUICK ? 200 : 1000, 1, 4094);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}

const mac = (i: number): string => `02:cc:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

/**
 * The baseline: the objects the agent makes for N bindings, written straight
 * into `ns` (names, MTU and flags as the agent's; see the header comment).
 * Returns the ms for the overlay part and for the VLAN devices (or their error).
 */
async function direct(ns: string, local: string): Promise<{ overlayMs: number; vlanMs: number; vlanError: string | null }> {
  const ip: string[] = [];
  const bridge: string[] = [];
  const vlans: string[] = [];
  for (let i = 0; i < N; i++) {
    const [br, vx, vl] = [`dbr${1000 + i}`, `dvx${1000 + i}`, `dgl${i + 1}`];
    ip.push(
      `link add name ${br} mtu 1450 type bridge`,
      `link set dev ${br} addrgenmode none`,
      `link set dev ${br} up`,
      `link add name ${vx} mtu 1450 type vxlan id ${1000 + i} local ${local} dstport 4789 nolearning`,
      `link set dev ${vx} addrgenmode none`,
      `link set dev ${vx} down master ${br}`,
      `link set dev ${vx} type bridge_slave learning off neigh_suppress on`,
      `link set dev ${vx} up`,
      `neigh replace 10.${i >> 8}.${i & 255}.10 lladdr ${mac(i)} dev ${br} nud permanent`,
    );
    bridge.push(`fdb append 00:00:00:00:00:00 dev ${vx} dst 198.18.0.99 self static`, `fdb replace ${mac(i)} dev ${vx} dst 198.18.0.99 self static`, `fdb replace ${mac(i)} dev ${vx} master static sticky`);
    vlans.push(`link add name ${vl} mtu 1450 link trunk0 type vlan id ${i + 1}`, `link set dev ${vl} addrgenmode none`, `link set dev ${vl} master ${br} up`);
  }
  const t0 = performance.now();
  await sh(['ip', '-n', ns, '-batch', '-'], `${ip.join('\n')}\n`);
  await sh(['bridge', '-n', ns, '-batch', '-'], `${bridge.join('\n')}\n`);
  const t1 = performance.now();
  const vlanError = await sh(['ip', '-n', ns, '-batch', '-'], `${vlans.join('\n')}\n`).then(() => null, (e: unknown) => String(e instanceof Error ? e.message : e).split('\n')[0]!);
  return { overlayMs: t1 - t0, vlanMs: performance.now() - t1, vlanError };
}

const lab = await NetLab.create(2);
try {
  const gw = lab.host(1);
  const base = lab.host(2);
  await sh(['ip', '-n', base.ns, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'sw0']);
  await sh(['ip', '-n', gw.ns, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'sw0']);
  const cloud: Cloud = { hosts: { hv1: gw.vtepIp, hv2: '198.18.0.99' }, networks: [], domains: [], ports: [], bindings: [] };
  for (let i = 0; i < N; i++) {
    const id = randomUUID();
    cloud.networks.push({ id, tenant: `t${i % 50}`, vni: 1000 + i, domainId: id, subnets: [{ id: `s${i}`, ipVersion: 4, cidr: `10.${i >> 8}.${i & 255}.0/24`, gatewayIp: `10.${i >> 8}.${i & 255}.1`, enableDhcp: true }] });
    cloud.domains.push({ id, tenant: `t${i % 50}`, kind: 'network' });
    cloud.bindings!.push({ id: randomUUID(), host: 'hv1', nic: 'trunk0', vlan: i + 1, networkId: id });
    // A VM of each network on another hypervisor: the gateway floods to it and tunnels its MAC there.
    cloud.ports.push({ id: randomUUID(), networkId: id, mac: mac(i), fixedIps: [{ subnetId: `s${i}`, ip: `10.${i >> 8}.${i & 255}.10` }], host: 'hv2' });
  }
  const view = hostView(cloud, 'hv1');
  log(`${N} bindings: planning`);
  const [{ plan }, planMs] = await timed(() => gw.dataplane.plan(view));
  const rest = { batches: plan.batches.filter((b) => b.phase !== 'gateway-vlans') };
  const vlans = { batches: plan.batches.filter((b) => b.phase === 'gateway-vlans') };
  const [, restMs] = await timed(() => applyPlan(gw.exec, rest));
  const [vlanError, vlanMs] = await timed(() => applyPlan(gw.exec, vlans).then(() => null, (e: unknown) => (e instanceof ApplyError ? e.message.split('\n')[0]! : String(e))));
  const [again, replanMs] = await timed(() => gw.dataplane.plan(view));
  const links = JSON.parse(await sh(['ip', '-n', gw.ns, '-j', '-d', 'link', 'show'])) as { linkinfo?: { info_kind?: string } }[];
  const kinds = (k: string) => links.filter((l) => l.linkinfo?.info_kind === k).length;
  const fdb = (await sh(['bridge', '-n', gw.ns, 'fdb', 'show'])).split('\n');
  const flood = fdb.filter((l) => l.startsWith('00:00:00:00:00:00')).length;
  const tunnels = fdb.filter((l) => l.startsWith('02:cc:') && l.includes(' dst ')).length;
  const neighs = (await sh(['ip', '-n', gw.ns, 'neigh', 'show', 'nud', 'permanent'])).split('\n').filter(Boolean).length;
  const namespaces = (await sh(['ip', 'netns', 'list'])).split('\n').filter((l) => l.startsWith(gw.nsPrefix)).length;
  log(`${N} bindings: the same objects written directly (baseline)`);
  const d = await direct(base.ns, base.vtepIp);
  const baseLinks = JSON.parse(await sh(['ip', '-n', base.ns, '-j', '-d', 'link', 'show'])) as { linkinfo?: { info_kind?: string } }[];
  const baseKinds = (k: string) => baseLinks.filter((l) => l.linkinfo?.info_kind === k).length;
  table(
    ['bindings', 'plan ms', 'apply (overlay) ms', 'apply (VLAN devices) ms', 're-plan ms', 'bridges', 'vxlan', 'vlan', 'flood', 'tunnel', 'neigh', 'namespaces', 'left to do'],
    [
      [
        fmt(N),
        fmt(planMs),
        fmt(restMs),
        vlanError ? `failed: ${vlanError}` : fmt(vlanMs),
        fmt(replanMs),
        fmt(kinds('bridge')),
        fmt(kinds('vxlan')),
        fmt(kinds('vlan')),
        fmt(flood),
        fmt(tunnels),
        fmt(neighs),
        fmt(namespaces),
        again.plan.batches.map((b) => `${b.phase}: ${b.ops.length}`).join(', ') || 'nothing',
      ],
    ],
  );
  console.log(`\nbaseline, the same objects by one ip -batch and one bridge -batch (VLAN devices: one more ip -batch) in an empty host namespace: ${fmt(d.overlayMs)} ms overlay, VLAN devices ${d.vlanError ? `failed: ${d.vlanError}` : `${fmt(d.vlanMs)} ms`}; ${fmt(baseKinds('bridge'))} bridges, ${fmt(baseKinds('vxlan'))} vxlan, ${fmt(baseKinds('vlan'))} vlan`);
  // VLAN devices count on both sides only where the kernel made them on both.
  const withVlans = !vlanError && !d.vlanError;
  const strata = planMs + restMs + (withVlans ? vlanMs : 0);
  const raw = d.overlayMs + (withVlans ? d.vlanMs : 0);
  printRatio(strata / raw, {
    measured: `the agent from nothing, plan + apply of ${N} bindings (${fmt(strata)} ms)`,
    baseline: `the same objects by direct ip/bridge batches (${fmt(raw)} ms)`,
    goal: 'recorded (docs/performance.md)',
    also: withVlans ? 'VLAN devices included' : 'VLAN devices left out on both sides: this kernel refused them',
  });
} finally {
  await lab.destroy();
}
