/**
 * The software L2 gateway at 1,000 bindings on one NIC (issue 19): the
 * gateway host's agent applying BINDINGS VLAN bindings of as many networks
 * (lone networks: L2 only, docs/architecture.md "Gateway devices, bindings
 * and the software gateway") on one trunk NIC, from nothing.
 *
 *   npm run -w @strata/bench gateway-vlans     (BINDINGS=1000 by default)
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
 */
import { randomUUID } from 'node:crypto';
import { ApplyError, applyPlan } from '@strata/agent';
import { hostView, NetLab, sh, type Cloud } from '@strata/agent/testkit';
import { fmt, intEnv, log, table } from './support/common.js';

const N = intEnv('BINDINGS', 1000, 1, 4094);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
}

const lab = await NetLab.create(1);
try {
  const gw = lab.host(1);
  await sh(['ip', '-n', gw.ns, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'sw0']);
  const cloud: Cloud = { hosts: { hv1: gw.vtepIp, hv2: '198.18.0.99' }, networks: [], domains: [], ports: [], bindings: [] };
  for (let i = 0; i < N; i++) {
    const id = randomUUID();
    cloud.networks.push({ id, tenant: `t${i % 50}`, vni: 1000 + i, domainId: id, subnets: [{ id: `s${i}`, ipVersion: 4, cidr: `10.${i >> 8}.${i & 255}.0/24`, gatewayIp: `10.${i >> 8}.${i & 255}.1`, enableDhcp: true }] });
    cloud.domains.push({ id, tenant: `t${i % 50}`, kind: 'network' });
    cloud.bindings!.push({ id: randomUUID(), host: 'hv1', nic: 'trunk0', vlan: i + 1, networkId: id });
    // A VM of each network on another hypervisor: the gateway floods to it and tunnels its MAC there.
    const mac = `02:cc:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    cloud.ports.push({ id: randomUUID(), networkId: id, mac, fixedIps: [{ subnetId: `s${i}`, ip: `10.${i >> 8}.${i & 255}.10` }], host: 'hv2' });
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
} finally {
  await lab.destroy();
}
