/**
 * Security-group membership change latency, API ack → every affected agent
 * applied, at several sizes of the referenced group; the agents' own apply
 * cost; baselines from the same run.
 *
 *   npm run -w @strata/bench sg-membership
 *   QUICK=1 npm run -w @strata/bench sg-membership     (SIZES=10,1000 HOSTS=4 SAMPLES=10; under 2 minutes)
 *
 * Knobs: SIZES (group sizes, ascending, default 10,1000,10000), HOSTS
 * (hypervisors with an agent each, default 20), SAMPLES (joins and as many
 * leaves per size, default 30), MEMBERS (unbound, the default: member
 * ports bound to no hypervisor, so every host's own state is one app port
 * whatever the group size; bound: member ports bound round-robin to the
 * hypervisors, without a device, so each host also has (max size)/HOSTS
 * local ports, in web or idle, at every size), C (commands in flight while
 * building, default 32).
 *
 * Topology (support/secgroup.ts buildTopology): one network per hypervisor,
 * group web (the referenced group), group app with `ingress tcp 9000 from
 * group web` and one port on every hypervisor (so every agent holds web's
 * sets), group idle where pool ports wait. The whole pool (largest size +
 * SAMPLES spares) is created before the agents start. For each size N: web
 * gets N members (idle → web, with the agents stopped: set-up, not
 * measured), the agents are (re)started and converge, one first join and
 * leave runs the agents' cold code (reported on its own, not a sample),
 * then SAMPLES times one spare pool port joins web (idle → web) and leaves
 * it again (web → idle), one change at a time.
 *
 * "Applied" on a host = the kernel committed the member's address into (or
 * out of) `sg_<web>_v4` there, seen by `nft monitor elements` in each
 * hypervisor namespace: exact, no polling, independent of the agent. All
 * HOSTS agents are affected by every change (each has an app port), and the
 * member's own host also rewrites that port's chain when MEMBERS=bound.
 *
 * Per change it reports the command round trip, ack → all applied, ack →
 * the median host applied, the agents' own reconcile time for the pass that
 * applied it (their "applied" log line: read + plan + nft transaction +
 * DHCP sync + counter read), and CPU seconds (process + reaped children)
 * per agent and of the control plane (secgroup + hostview).
 *
 * Baselines, same run and size: a no-op round trip (secgroup query
 * group.get), `nft add/delete element` of one address into a scratch set
 * of N elements in a scratch namespace, `nft -j list table` of that set and
 * of a hypervisor's Strata tables (what an agent reads before each plan).
 *
 * Last line: ack → all agents applied, p99 at the largest size ÷ the same at
 * the smallest size (same run, same agents): "flat in group size" is a
 * ratio ≈ 1 (goal: p99 ≤ 20 ms, flat; agent cost ≤ 0.3 × OVN's 11 ms, both
 * printed beside it). With one size only, the agents' pass p50 ÷ the
 * scratch `nft add element` p50 of that size.
 */
import type { Hypervisor, Lab } from '@strata/lab';
import { QUICK, fmt, intEnv, intListEnv, log, printRatio, table } from './support/common.js';
import { appliedLines, bucketPercentile, histogram, histogramDelta, httpAddress, median, pct, runHeader, scrape, sleep, uptime, withLab } from './support/overlay.js';
import {
  agentsQuiet,
  buildTopology,
  cpuSeconds,
  cpuSplit,
  growWeb,
  readTablesMs,
  scratchNft,
  serviceChildPids,
  setName,
  startAgents,
  startMonitors,
  stopAgents,
  tableCounts,
  wall,
  webSetSizeEverywhere,
  type ElementMonitor,
  type MemberPlacement,
  type ScratchTiming,
  type Topology,
} from './support/secgroup.js';

const SIZES = intListEnv('SIZES', QUICK ? [10, 1000] : [10, 1000, 10_000], 1, 60_000);
if (SIZES.length === 0 || SIZES.some((n, i) => i > 0 && n <= SIZES[i - 1]!)) throw new Error('SIZES: ascending integers in [1, 60000], at least one');
const HOSTS = intEnv('HOSTS', QUICK ? 4 : 20, 1, 60);
const SAMPLES = intEnv('SAMPLES', QUICK ? 10 : 30, 1, 1000);
const C = intEnv('C', 32, 1, 256);
const MEMBERS = (process.env['MEMBERS'] ?? 'unbound') as MemberPlacement;
if (MEMBERS !== 'bound' && MEMBERS !== 'unbound') throw new Error('MEMBERS: bound or unbound');
const OVN_MS = 11;

interface Sample {
  size: number;
  kind: 'join' | 'leave';
  /** t0 → ack (ms). */
  rtt: number;
  /** ack → the last host's kernel commit (ms). */
  ackToAll: number;
  /** ack → the median host's commit (ms). */
  ackToMedian: number;
  /** send → the last host's commit (ms). */
  sendToAll: number;
  /** Wall seconds of the agent pass that applied it, per host (from its "applied" log line). */
  applySeconds: number[];
  /** Reconcile passes that changed the kernel, all hosts together. */
  passes: number;
  /** CPU seconds of all agents together / of secgroup + hostview. */
  agentCpu: number;
  /** Of agentCpu: the agents' child processes (ip, bridge, nft, ...). */
  agentChildCpu: number;
  controlCpu: number;
  /** Element events for the address, all hosts together (one per host expected). */
  kernelEvents: number;
}

interface Baseline {
  size: number;
  queryMs: number[];
  scratch: ScratchTiming;
  readHvMs: number[];
  counts: { rules: number; setElements: number; chains: number };
  histo: { p50: number; p99: number; count: number; meanMs: number };
  idleShare: number;
  uptime: string;
  /** The first join after the agents started (cold code), kept out of the samples. */
  first: { ackToAll: number; applyMs: number };
}

async function change(lab: Lab, t: Topology, monitors: Map<string, ElementMonitor>, control: number[], size: number, kind: 'join' | 'leave', portIdx: number): Promise<Sample> {
  const port = t.pool[portIdx]!;
  const ip = port.fixedIps[0]!.ip;
  const set = setName(t.web.id);
  const from = new Map([...monitors].map(([h, m]) => [h, m.events.length]));
  const agentCpu0 = lab.hosts.reduce((s, h) => s + cpuSeconds(h.agent!.pid), 0);
  const childCpu0 = lab.hosts.reduce((s, h) => s + cpuSplit(h.agent!.pid).children, 0);
  const controlCpu0 = control.reduce((s, pid) => s + cpuSeconds(pid), 0);
  const t0 = wall();
  await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [kind === 'join' ? t.web.id : t.idle.id] }, t.who);
  const tAck = wall();
  const events = await Promise.all(lab.hosts.map((h) => monitors.get(h.id)!.waitFor(kind === 'join' ? 'add' : 'delete', set, ip, from.get(h.id)!, 180_000)));
  // The agents log "applied" (ms timestamps) when their whole pass is done, after the transaction: wait for it on every host.
  const since = Math.floor(t0);
  const after = (h: Hypervisor): Array<{ seconds: number; time: number }> => appliedLines(h.agent!).filter((l) => l.time >= since);
  const deadline = Date.now() + 60_000;
  while (lab.hosts.some((h) => after(h).length === 0)) {
    if (Date.now() > deadline) throw new Error(`no "applied" log line from ${lab.hosts.filter((h) => after(h).length === 0).map((h) => h.id).join(',')}`);
    await sleep(20);
  }
  await sleep(300); // a coalesced second pass, if any, shows in CPU and passes
  const applySeconds: number[] = [];
  let passes = 0;
  for (const h of lab.hosts) {
    const lines = after(h);
    passes += lines.length;
    applySeconds.push(lines[0]!.seconds);
  }
  const at = events.map((e) => e.at).sort((a, b) => a - b);
  return {
    size,
    kind,
    rtt: tAck - t0,
    ackToAll: at[at.length - 1]! - tAck,
    ackToMedian: median(at) - tAck,
    sendToAll: at[at.length - 1]! - t0,
    applySeconds,
    passes,
    agentCpu: lab.hosts.reduce((s, h) => s + cpuSeconds(h.agent!.pid), 0) - agentCpu0,
    agentChildCpu: lab.hosts.reduce((s, h) => s + cpuSplit(h.agent!.pid).children, 0) - childCpu0,
    controlCpu: control.reduce((s, pid) => s + cpuSeconds(pid), 0) - controlCpu0,
    kernelEvents: [...monitors].reduce((s, [h, m]) => s + m.count(set, ip, from.get(h)!), 0),
  };
}

async function applyHistogram(lab: Lab): Promise<Array<ReturnType<typeof histogram>>> {
  return Promise.all(lab.hosts.map(async (h) => histogram(await scrape(httpAddress(h.agent!)), 'strata_agent_apply_duration_seconds')));
}

function sumHistograms(hs: Array<ReturnType<typeof histogram>>): ReturnType<typeof histogram> {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const h of hs) {
    for (const [le, v] of h.buckets) buckets.set(le, (buckets.get(le) ?? 0) + v);
    sum += h.sum;
    count += h.count;
  }
  return { buckets: [...buckets].sort((a, b) => a[0] - b[0]), sum, count };
}

async function measureSize(lab: Lab, t: Topology, size: number, spareFrom: number, samples: Sample[], baselines: Baseline[]): Promise<void> {
  const uptimeAtStart = uptime();
  log(`size ${size}: ${uptimeAtStart}`);
  const hv1 = lab.hosts[0]!;
  // The agents' CPU while nothing changes (the fixed background the changes are measured against).
  const idle0 = lab.hosts.reduce((s, h) => s + cpuSeconds(h.agent!.pid), 0);
  await sleep(5000);
  const idleShare = (lab.hosts.reduce((s, h) => s + cpuSeconds(h.agent!.pid), 0) - idle0) / 5;
  log(`  agents idle: ${fmt(idleShare * 100, 1)} % of one core, all ${HOSTS} together`);
  // Baselines first (the agents are idle): no-op round trip, kernel alone, a hypervisor's tables read.
  const queryMs: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    await lab.secgroup.query('group.get', { id: t.web.id }, t.who);
    queryMs.push(performance.now() - t0);
  }
  const scratch = await scratchNft(lab, `s${size}`, size, SAMPLES);
  const readHvMs = await readTablesMs(hv1, 5);
  const inet = await tableCounts(hv1.ns.name, 'inet');
  const bridge = await tableCounts(hv1.ns.name, 'bridge');
  log(
    `  baselines: query p50 ${fmt(median(queryMs), 2)} ms; scratch nft add p50 ${fmt(median(scratch.addMs), 2)} ms, delete ${fmt(median(scratch.deleteMs), 2)} ms, list ${fmt(median(scratch.listMs), 1)} ms; ` +
      `hv1 tables read ${fmt(median(readHvMs), 1)} ms (${inet.rules + bridge.rules} rules, ${inet.setElements} set elements)`,
  );

  const control = [...serviceChildPids(['secgroup', 'hostview']).values()];
  const monitors = await startMonitors(lab.hosts);
  const mine: Sample[] = [];
  let first: Sample;
  let h0: Awaited<ReturnType<typeof applyHistogram>>;
  try {
    // The first change after the agents start runs code V8 has not compiled yet (one pass took ~50 ms,
    // 40 ms of CPU, where later ones take ~2): measured on its own, not as one of the samples.
    first = await change(lab, t, monitors, control, size, 'join', spareFrom);
    await sleep(100);
    await change(lab, t, monitors, control, size, 'leave', spareFrom);
    await sleep(100);
    log(`  first join after start: ack→all ${fmt(first.ackToAll, 1)} ms, agent apply median ${fmt(median(first.applySeconds) * 1000, 1)} ms (not a sample)`);
    h0 = await applyHistogram(lab);
    for (let s = 0; s < SAMPLES; s++) {
      const idx = spareFrom + s;
      for (const kind of ['join', 'leave'] as const) {
        const x = await change(lab, t, monitors, control, size, kind, idx);
        mine.push(x);
        if (s < 2 || (s + 1) % 10 === 0 || s === SAMPLES - 1) {
          log(`  ${kind} #${s + 1}: rtt ${fmt(x.rtt, 1)} ms, ack→all ${fmt(x.ackToAll, 1)} ms, agent apply median ${fmt(median(x.applySeconds) * 1000, 1)} ms, agent CPU ${fmt((x.agentCpu / HOSTS) * 1000, 1)} ms/agent`);
        }
        await sleep(100);
      }
    }
  } finally {
    await Promise.all([...monitors.values()].map((m) => m.stop()));
  }
  const h1 = await applyHistogram(lab);
  const d = histogramDelta(sumHistograms(h0), sumHistograms(h1));
  samples.push(...mine);
  baselines.push({
    size,
    queryMs,
    scratch,
    readHvMs,
    counts: { rules: inet.rules + bridge.rules, setElements: inet.setElements, chains: inet.chains + bridge.chains },
    histo: { p50: bucketPercentile(d, 50), p99: bucketPercentile(d, 99), count: d.count, meanMs: d.count ? (d.sum / d.count) * 1000 : NaN },
    idleShare,
    uptime: uptimeAtStart,
    first: { ackToAll: first.ackToAll, applyMs: median(first.applySeconds) * 1000 },
  });
}

async function main(): Promise<void> {
  runHeader('sg-membership', { SIZES: SIZES.join(','), HOSTS, SAMPLES, MEMBERS, C, QUICK: QUICK ? 1 : 0 });
  const maxSize = SIZES[SIZES.length - 1]!;
  const started = performance.now();
  const samples: Sample[] = [];
  const baselines: Baseline[] = [];
  await withLab({ hypervisors: HOSTS, agents: false, resyncSeconds: 3600 }, async (lab) => {
    // Pool: maxSize members + SAMPLES spares (the ports that join and leave).
    const t = await buildTopology(lab, { poolSize: maxSize + SAMPLES, initialInWeb: SIZES[0]!, placement: MEMBERS, concurrency: C });
    // Set-up, not measured: the agents are down while the pool is created and while web grows between sizes
    // (HOSTS agents chasing thousands of puts on 2 cores took minutes); each restarted agent applies the
    // bulk change in its first reconcile, a diff against the kernel it left.
    for (const [i, size] of SIZES.entries()) {
      if (i > 0) {
        await stopAgents(lab);
        await growWeb(lab, t, size, C);
      }
      const t0 = performance.now();
      await startAgents(lab);
      await webSetSizeEverywhere(lab, t, size);
      await agentsQuiet(lab, 3000);
      log(`size ${size}: ${HOSTS} agents (re)started and converged in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await measureSize(lab, t, size, maxSize, samples, baselines);
    }
  });
  report(samples, baselines);
  console.log(`\nuptime at the end: ${uptime()}\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  headline(samples, baselines);
}

/** The last line: p99 ack → all applied at the largest size ÷ at the smallest (flat = 1). */
function headline(samples: Sample[], baselines: Baseline[]): void {
  const first = SIZES[0]!;
  const last = SIZES[SIZES.length - 1]!;
  const of = (size: number): Sample[] => samples.filter((s) => s.size === size);
  const p99 = (size: number): number => pct(of(size).map((s) => s.ackToAll), 99);
  const applyP50 = (size: number): number => pct(of(size).flatMap((s) => s.applySeconds.map((v) => v * 1000)), 50);
  const cpuMs = (size: number): number => (of(size).reduce((a, s) => a + s.agentCpu, 0) / of(size).length / HOSTS) * 1000;
  const also = `p99 ${fmt(p99(last), 1)} ms at ${last}, ${fmt(p99(first), 1)} ms at ${first}; agent CPU ${fmt(cpuMs(last), 1)} ms/change = ${fmt(cpuMs(last) / OVN_MS, 2)} × OVN ${OVN_MS} ms`;
  const goal = `p99 ≤ 20 ms flat in group size (ratio ≈ 1); agent cost ≤ 0.3 × OVN ${OVN_MS} ms`;
  if (SIZES.length > 1) {
    printRatio(p99(last) / p99(first), { measured: `ack → all ${HOSTS} agents applied p99, group of ${last}`, baseline: `the same with a group of ${first}, same run`, goal, also });
  } else {
    const nft = median(baselines.find((b) => b.size === last)!.scratch.addMs);
    printRatio(applyP50(last) / nft, { measured: `agent pass p50, group of ${last}`, baseline: `scratch nft add element p50 into a set of ${last}, same run`, goal, also });
  }
}

/** A histogram percentile as the bucket bound it falls under (> the largest finite bound when it is past it). */
const bucket = (le: number): string => (Number.isFinite(le) ? `≤${le}` : '>10');

function report(samples: Sample[], baselines: Baseline[]): void {
  const p = (xs: number[], q: number, digits = 1): string => fmt(pct(xs, q), digits);
  console.log(`\n## Membership change: API ack → all ${HOSTS} agents applied (nft monitor), ${SAMPLES} joins + ${SAMPLES} leaves per size, members ${MEMBERS}\n`);
  const rows: string[][] = [];
  for (const size of SIZES) {
    for (const kind of ['join', 'leave'] as const) {
      const xs = samples.filter((s) => s.size === size && s.kind === kind);
      const apply = xs.flatMap((s) => s.applySeconds.map((v) => v * 1000));
      rows.push([
        String(size),
        kind,
        `${p(xs.map((s) => s.rtt), 50)} / ${p(xs.map((s) => s.rtt), 99)}`,
        `${p(xs.map((s) => s.ackToAll), 50)} / ${p(xs.map((s) => s.ackToAll), 99)}`,
        p(xs.map((s) => s.ackToMedian), 50),
        `${p(xs.map((s) => s.sendToAll), 50)} / ${p(xs.map((s) => s.sendToAll), 99)}`,
        `${p(apply, 50)} / ${p(apply, 99)}`,
        `${fmt((xs.reduce((a, s) => a + s.agentCpu, 0) / xs.length / HOSTS) * 1000, 1)} (${fmt((100 * xs.reduce((a, s) => a + s.agentChildCpu, 0)) / xs.reduce((a, s) => a + s.agentCpu, 0), 0)} %)`,
        fmt((xs.reduce((a, s) => a + s.controlCpu, 0) / xs.length) * 1000, 1),
        fmt(xs.reduce((a, s) => a + s.passes, 0) / xs.length / HOSTS, 2),
        fmt(xs.reduce((a, s) => a + s.kernelEvents, 0) / xs.length / HOSTS, 2),
      ]);
    }
  }
  table(
    ['group size', 'change', 'command RTT p50/p99 ms', 'ack → all applied p50/p99 ms', 'ack → median host p50 ms', 'send → all applied p50/p99 ms', 'agent pass p50/p99 ms (all hosts)', 'agent CPU ms / change / agent (% in child processes)', 'secgroup+hostview CPU ms / change', 'passes / host', 'kernel events / host'],
    rows,
  );

  console.log('\n## Baselines (same run, same size)\n');
  table(
    ['group size', 'no-op query RTT p50/p99 ms', 'scratch nft add elem p50 ms', 'scratch nft delete elem p50 ms', 'scratch nft -j list p50 ms', 'hv1 Strata tables read p50 ms', 'hv1 rules / chains / set elements', 'apply histogram (all agents, sampling window) p50/p99 bucket s, mean ms, n', 'agents idle CPU (% of a core, all)', 'first join after start: ack → all / agent pass ms (not a sample)', 'load before'],
    baselines.map((b) => [
      String(b.size),
      `${p(b.queryMs, 50, 2)} / ${p(b.queryMs, 99, 2)}`,
      p(b.scratch.addMs, 50, 2),
      p(b.scratch.deleteMs, 50, 2),
      p(b.scratch.listMs, 50, 1),
      p(b.readHvMs, 50, 1),
      `${b.counts.rules} / ${b.counts.chains} / ${b.counts.setElements}`,
      `${bucket(b.histo.p50)} / ${bucket(b.histo.p99)}, ${fmt(b.histo.meanMs, 1)}, ${b.histo.count}`,
      fmt(b.idleShare * 100, 1),
      `${fmt(b.first.ackToAll, 1)} / ${fmt(b.first.applyMs, 1)}`,
      b.uptime.replace(/^.*load average: /, ''),
    ]),
  );

  console.log('\n## Ratios\n');
  const first = SIZES[0]!;
  const applyP50 = (size: number, kind: 'join' | 'leave'): number => pct(samples.filter((s) => s.size === size && s.kind === kind).flatMap((s) => s.applySeconds.map((v) => v * 1000)), 50);
  const cpuPer = (size: number, kind: 'join' | 'leave'): number => {
    const xs = samples.filter((s) => s.size === size && s.kind === kind);
    return (xs.reduce((a, s) => a + s.agentCpu, 0) / xs.length / HOSTS) * 1000;
  };
  table(
    ['group size', 'change', 'agent pass p50 / scratch nft elem p50', 'ack→all p50 / no-op query p50', `agent pass p50 / size ${first}`, `agent CPU / size ${first}`, `agent pass p50 / OVN ${OVN_MS} ms`, `agent CPU / OVN ${OVN_MS} ms`],
    SIZES.flatMap((size) => {
      const b = baselines.find((x) => x.size === size)!;
      return (['join', 'leave'] as const).map((kind) => {
        const xs = samples.filter((s) => s.size === size && s.kind === kind);
        const nft = median(kind === 'join' ? b.scratch.addMs : b.scratch.deleteMs);
        return [
          String(size),
          kind,
          fmt(applyP50(size, kind) / nft, 1),
          fmt(pct(xs.map((s) => s.ackToAll), 50) / median(b.queryMs), 1),
          fmt(applyP50(size, kind) / applyP50(first, kind), 2),
          fmt(cpuPer(size, kind) / cpuPer(first, kind), 2),
          fmt(applyP50(size, kind) / OVN_MS, 2),
          fmt(cpuPer(size, kind) / OVN_MS, 2),
        ];
      });
    }),
  );
  console.log(`\nOVN anchor: ovn-controller ~${OVN_MS} ms per address-set deletion at 10k members (design brief §7), another machine: an order-of-magnitude comparison only.`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
