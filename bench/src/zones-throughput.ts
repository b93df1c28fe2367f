/**
 * VM-to-VM TCP throughput across availability zones against the same zone, in one run (issue 20).
 *
 *   npm run -w @strata/bench zones-throughput            (SECONDS=10 ROUNDS=3 by default)
 *   QUICK=1 npm run -w @strata/bench zones-throughput    (SECONDS=3 ROUNDS=2; under 2 minutes)
 *
 * Two zones (infra/lab `Zones`): az1 with hv1 and hv2, az2 with hv3, each a
 * complete Strata with its BGP gateway, federated through an FRR route
 * reflector. One tenant stretches one network (10.30.0.0/24, MTU 1450) across
 * both: VM a on hv1, VM b on hv2 (az1), VM c on hv3 (az2). iperf3 (1 TCP
 * stream, SECONDS s) measures, interleaved, ROUNDS times each (the order
 * rotates every round):
 *
 *   same zone     a (hv1) → b (hv2): VXLAN between two hypervisors of az1
 *   cross-zone    a (hv1) → c (hv3): VXLAN from an az1 hypervisor straight to an az2 one
 *   underlay      hv1 → hv2 and hv1 → hv3 (eth0, MTU 1500): what both ride on
 *
 * Cross-zone traffic is hypervisor to hypervisor too (no gateway, reflector
 * or central box on the path), so the expected ratio is about 1: what
 * differs is only which control plane programmed the far end. Ratios are
 * taken per round and their median reported; the last line is the ratio.
 */
import { stretchedSide, type StretchedSide, type Vm, type Zone } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';
import { iperfRounds, type Path, type Sample } from './support/iperf.js';
import { median, reachable, runHeader, type NsProcess } from './support/overlay.js';
import { withZones } from './support/zones.js';

const SECONDS = intEnv('SECONDS', QUICK ? 3 : 10, 1, 120);
const ROUNDS = intEnv('ROUNDS', QUICK ? 2 : 3, 1, 20);
const PORT = 5201;
const WHO = { tenant: 'bench', admin: false };
const POOLS = { az1: { start: '10.30.0.10', end: '10.30.0.99' }, az2: { start: '10.30.0.100', end: '10.30.0.199' } } as const;

/** The stretched network in one zone (az2 joins az1's VNI) with the zone's pool. */
function side(zone: Zone, vni?: number): Promise<StretchedSide> {
  return stretchedSide(zone, WHO, { name: 'bench-stretched', cidr: '10.30.0.0/24', gatewayIp: '10.30.0.1', pool: POOLS[zone.spec.name as keyof typeof POOLS] }, vni);
}

/** A VM on the zone's side of the network, in a group admitting the whole segment (other zones' VMs are addresses to it). */
async function vm(zone: Zone, s: StretchedSide, name: string, hostId: string): Promise<Vm> {
  const group = await zone.lab.secgroup.command('group.create', { name: `${name}-segment`, description: '', egressRules: true }, WHO);
  await zone.lab.secgroup.command('rule.create', { groupId: group.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', remoteCidr: '10.30.0.0/24' }, WHO);
  const port = await zone.lab.ipam.command('port.create', { networkId: s.net.id, name, hostId }, WHO);
  await zone.lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [group.id] }, WHO);
  const v = await zone.lab.addVm(name, port, hostId);
  await v.configureStatic({ [s.subnet.id]: { prefixLength: 24, gatewayIp: s.subnet.gatewayIp, mtu: s.net.mtu } });
  return v;
}

async function main(): Promise<void> {
  runHeader('zones-throughput', { SECONDS, ROUNDS, streams: 1, QUICK: QUICK ? 1 : 0 });
  await withZones(async (zones) => {
    const servers: NsProcess[] = [];
    try {
      const [az1, az2] = [zones.zone('az1'), zones.zone('az2')];
      const one = await side(az1);
      const two = await side(az2, one.net.vni);
      const a = await vm(az1, one, 'a', 'hv1');
      const b = await vm(az1, one, 'b', 'hv2');
      const c = await vm(az2, two, 'c', 'hv3');
      const t1 = performance.now();
      await reachable(a, b.ip);
      await reachable(a, c.ip);
      await reachable(c, a.ip);
      log(`a ${a.ip} (hv1), b ${b.ip} (hv2), c ${c.ip} (hv3, az2) reach each other (${((performance.now() - t1) / 1000).toFixed(1)} s after the last VM), VNI ${one.net.vni}, MTU ${one.net.mtu}`);
      const [hv1, hv2, hv3] = [az1.lab.host('hv1'), az1.lab.host('hv2'), az2.lab.host('hv3')];
      const paths: Path[] = [
        { key: 'same', label: 'same zone: VM hv1 → VM hv2 (VXLAN)', clientNs: a.ns.name, serverNs: b.ns.name, serverIp: b.ip, mtu: one.net.mtu },
        { key: 'cross', label: 'cross-zone: VM hv1 (az1) → VM hv3 (az2) (VXLAN)', clientNs: a.ns.name, serverNs: c.ns.name, serverIp: c.ip, mtu: one.net.mtu },
        { key: 'ul-same', label: 'underlay hv1 → hv2', clientNs: hv1.ns.name, serverNs: hv2.ns.name, serverIp: hv2.vtepIp, mtu: 1500 },
        { key: 'ul-cross', label: 'underlay hv1 → hv3', clientNs: hv1.ns.name, serverNs: hv3.ns.name, serverIp: hv3.vtepIp, mtu: 1500 },
      ];
      const samples = await iperfRounds(paths, { rounds: ROUNDS, seconds: SECONDS, port: PORT, servers }, (s) => `${s.gbps.toFixed(2)} Gbit/s, ${s.retransmits} retransmits, machine busy ${(s.busy * 100).toFixed(0)}%`);
      report(paths, samples);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
}

function perRound(samples: Sample[], key: string, base: string): number[] {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = samples.find((s) => s.path === key && s.round === r);
    const y = samples.find((s) => s.path === base && s.round === r);
    if (x && y && y.gbps > 0) out.push(x.gbps / y.gbps);
  }
  return out;
}

function report(paths: Path[], samples: Sample[]): void {
  const range = (rs: number[]): string => (rs.length ? `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})` : 'n/a');
  console.log(`\nTCP throughput, 1 stream, ${SECONDS} s per run, ${ROUNDS} round(s); Gbit/s median (min–max)\n`);
  table(
    ['path', 'MTU', 'Gbit/s', 'retransmits (median)', 'machine busy % (median)'],
    paths.map((p) => {
      const s = samples.filter((x) => x.path === p.key);
      const g = s.map((x) => x.gbps);
      return [p.label, String(p.mtu), `${fmt(median(g), 2)} (${fmt(Math.min(...g), 2)}–${fmt(Math.max(...g), 2)})`, fmt(median(s.map((x) => x.retransmits))), fmt(median(s.map((x) => x.busy * 100)))];
    }),
  );
  console.log(`\nsame zone vs its underlay: ${range(perRound(samples, 'same', 'ul-same'))}; cross-zone vs its underlay: ${range(perRound(samples, 'cross', 'ul-cross'))}`);
  const crossOverSame = perRound(samples, 'cross', 'same');
  printRatio(crossOverSame.length ? median(crossOverSame) : NaN, {
    measured: 'cross-zone iperf3 throughput',
    baseline: 'same-zone, cross-hypervisor (median of per-round ratios)',
    goal: '≈ 1 (issue 20: hypervisor to hypervisor, nothing central)',
    also: `range ${range(crossOverSame)}`,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
