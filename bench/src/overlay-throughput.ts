/**
 * VM-to-VM TCP throughput over the Strata overlay vs plain veth pairs, in one run.
 *
 *   npm run -w @strata/bench overlay-throughput            (SECONDS=10 ROUNDS=3 by default)
 *   QUICK=1 npm run -w @strata/bench overlay-throughput    (SECONDS=3 ROUNDS=1; under 2 minutes)
 *
 * A namespace lab (infra/lab) with two hypervisors and their agents; one
 * tenant network (10.20.0.0/24, MTU 1450) with VM a and VM c on hv1 and VM b
 * on hv2. iperf3 (1 TCP stream, SECONDS s) measures, interleaved, ROUNDS
 * times each (the order rotates every round):
 *
 *   overlay, across hosts   a (hv1) → b (hv2): veth → bridge → VXLAN → underlay (veth, switch, veth) → VXLAN → bridge → veth
 *   overlay, same host      a (hv1) → c (hv1): veth → bridge → veth, no VXLAN
 *   baseline veth 1450      two fresh namespaces joined by one veth pair, MTU 1450 (the VMs' MTU)
 *   baseline veth 1500      the same with MTU 1500
 *   underlay                hv1 eth0 → hv2 eth0 (198.18.0.11 → .12, MTU 1500): the lab's "physical"
 *                           network that VXLAN runs over, for what encapsulation itself costs
 *
 * The machine is shared, so only ratios against the baselines of the same
 * run mean anything: ratios are taken per round (paths measured minutes
 * apart see different load) and their median is reported. `uptime` and the
 * whole-machine CPU busy share are printed for each measurement.
 *
 * Last line: overlay VM→VM across hosts ÷ the underlay hv1→hv2 (the path
 * VXLAN runs over), median of per-round ratios; issue 21's goal is ≥ 0.95.
 */
import type { Lab, Vm } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';
import { iperfRounds, type Path, type Sample } from './support/iperf.js';
import { httpAddress, labNetns, scrape, median, reachable, runHeader, tenantNet, uptime, vmOn, withLab, type NsProcess } from './support/overlay.js';

const SECONDS = intEnv('SECONDS', QUICK ? 3 : 10, 1, 120);
const ROUNDS = intEnv('ROUNDS', QUICK ? 1 : 3, 1, 20);
const PORT = 5201;

/** Two fresh namespaces of the lab joined by one veth pair with `mtu`. */
async function vethPair(lab: Lab, tag: string, mtu: number, net: string): Promise<{ a: string; b: string; ipB: string }> {
  const a = await labNetns(lab, `${tag}a`);
  const b = await labNetns(lab, `${tag}b`);
  await a.ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.name]);
  for (const [ns, host] of [[a, 1], [b, 2]] as const) {
    await ns.ip(['link', 'set', 'eth0', 'mtu', String(mtu)]);
    await ns.ip(['addr', 'add', `${net}.${host}/24`, 'dev', 'eth0']);
    await ns.ip(['link', 'set', 'eth0', 'up']);
  }
  return { a: a.name, b: b.name, ipB: `${net}.2` };
}

async function main(): Promise<void> {
  runHeader('overlay-throughput', { SECONDS, ROUNDS, streams: 1, QUICK: QUICK ? 1 : 0 });
  await withLab({ hypervisors: 2, resyncSeconds: 30 }, async (lab) => {
    const t = await tenantNet(lab, 'bench', 'bench-tput', '10.20.0.0/24');
    const a: Vm = await vmOn(lab, t, 'a', 'hv1');
    const b: Vm = await vmOn(lab, t, 'b', 'hv2');
    const c: Vm = await vmOn(lab, t, 'c', 'hv1');
    await reachable(a, b.ip);
    await reachable(a, c.ip);
    log(`overlay up: a ${a.ip} (hv1), b ${b.ip} (hv2), c ${c.ip} (hv1), MTU ${t.net.mtu}, VNI ${t.net.vni}`);
    // What the packets cross besides bridges and VXLAN: the security-group filter the agents installed.
    for (const h of ['hv1', 'hv2']) {
      const m = await scrape(httpAddress(lab.host(h).agent!));
      const obj = (kind: string): number => [...m].find(([k]) => k.startsWith('strata_agent_objects{') && k.includes(`kind="${kind}"`))?.[1] ?? NaN;
      log(`${h} agent: ${obj('nft_rule')} nft rules, ${obj('nft_set_element')} nft set elements, ${obj('plug')} plugged ports`);
    }
    const v1450 = await vethPair(lab, 'v1450', 1450, '192.168.145');
    const v1500 = await vethPair(lab, 'v1500', 1500, '192.168.150');
    const hv1 = lab.host('hv1');
    const hv2 = lab.host('hv2');

    const paths: Path[] = [
      { key: 'vxlan', label: 'overlay VM→VM across hosts (VXLAN)', clientNs: a.ns.name, serverNs: b.ns.name, serverIp: b.ip, mtu: t.net.mtu },
      { key: 'bridge', label: 'overlay VM→VM same host (bridge)', clientNs: a.ns.name, serverNs: c.ns.name, serverIp: c.ip, mtu: t.net.mtu },
      { key: 'veth1450', label: 'baseline: veth pair, MTU 1450', clientNs: v1450.a, serverNs: v1450.b, serverIp: v1450.ipB, mtu: 1450 },
      { key: 'veth1500', label: 'baseline: veth pair, MTU 1500', clientNs: v1500.a, serverNs: v1500.b, serverIp: v1500.ipB, mtu: 1500 },
      { key: 'underlay', label: 'underlay hv1→hv2 (veth, switch, veth)', clientNs: hv1.ns.name, serverNs: hv2.ns.name, serverIp: hv2.vtepIp, mtu: 1500 },
    ];

    const servers: NsProcess[] = [];
    try {
      const samples = await iperfRounds(paths, { rounds: ROUNDS, seconds: SECONDS, port: PORT, servers }, (s) => `${s.gbps.toFixed(2)} Gbit/s, ${s.retransmits} retransmits, machine busy ${(s.busy * 100).toFixed(0)}%`);
      report(paths, samples);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
}

function report(paths: Path[], samples: Sample[]): void {
  const of = (key: string): Sample[] => samples.filter((s) => s.path === key);
  const perRoundRatio = (key: string, base: string): number[] => {
    const out: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const x = samples.find((s) => s.path === key && s.round === r);
      const y = samples.find((s) => s.path === base && s.round === r);
      if (x && y && y.gbps > 0) out.push(x.gbps / y.gbps);
    }
    return out;
  };
  const ratio = (key: string, base: string): string => {
    const rs = perRoundRatio(key, base);
    return rs.length ? `${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})` : 'n/a';
  };
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`TCP throughput, 1 stream, ${SECONDS} s per run, ${ROUNDS} round(s); Gbit/s median (min–max); ratio = median of per-round ratios (min–max)\n`);
  table(
    ['path', 'MTU', 'Gbit/s', 'vs veth 1450', 'vs veth 1500', 'vs underlay', 'retransmits (median)', 'iperf3 CPU snd/rcv % (median)', 'machine busy % (median)'],
    paths.map((p) => {
      const s = of(p.key);
      const g = s.map((x) => x.gbps);
      return [
        p.label,
        String(p.mtu),
        `${fmt(median(g), 2)} (${fmt(Math.min(...g), 2)}–${fmt(Math.max(...g), 2)})`,
        p.key === 'veth1450' ? '1' : ratio(p.key, 'veth1450'),
        p.key === 'veth1500' ? '1' : ratio(p.key, 'veth1500'),
        p.key === 'underlay' ? '1' : ratio(p.key, 'underlay'),
        fmt(median(s.map((x) => x.retransmits))),
        `${fmt(median(s.map((x) => x.senderCpu)))} / ${fmt(median(s.map((x) => x.receiverCpu)))}`,
        fmt(median(s.map((x) => x.busy * 100))),
      ];
    }),
  );
  const vsUnderlay = perRoundRatio('vxlan', 'underlay');
  printRatio(vsUnderlay.length ? median(vsUnderlay) : NaN, {
    measured: 'overlay VM→VM across hosts (VXLAN) iperf3 throughput',
    baseline: 'underlay hv1→hv2 (median of per-round ratios)',
    goal: '≥ 0.95',
    also: `range ${ratio('vxlan', 'underlay').replace(/^[^ ]+ /, '')}; vs veth 1450 ${ratio('vxlan', 'veth1450')}`,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
