/**
 * The agent at 1,000 ports on one host, and what an agent hears about
 * ports that are none of its business.
 *
 *   npm run -w @strata/bench overlay-agent-scale
 *     (PORTS=1000 NETWORKS=10 NICS=50 WINDOW_S=60 RESYNC_S=30 TRIALS=10 by default)
 *   QUICK=1 npm run -w @strata/bench overlay-agent-scale
 *     (PORTS=200 NETWORKS=4 NICS=8 WINDOW_S=10 SETTLE_S=3 TRIALS=3 WINDOW_MS=1000; under 2 minutes)
 *
 * A namespace lab with three hypervisors and their agents; periodic resync
 * every RESYNC_S s (30: the agent's production default).
 *
 * Part 1, memory and CPU of hv1's agent process (the same process before
 * and after, so the 0-port figures are the baseline):
 *   - 0 ports: after a settle time, CPU (utime+stime from /proc/<pid>/stat,
 *     and cutime+cstime: the ip/bridge/nft batches it ran and waited for)
 *     over a WINDOW_S window, RSS (VmRSS from /proc/<pid>/status) sampled
 *     every 5 s in it;
 *   - PORTS ports bound to hv1 over NETWORKS networks (tenant "scale"),
 *     created through the lab's IpamClient (4 in flight), and a VM NIC
 *     (namespace + veth, static address) for NICS of them, spread over the
 *     networks: ports without a device are "down" but their networks,
 *     routing domains, DHCP hosts and neighbour entries are programmed all
 *     the same. CPU to absorb them (from the first create to convergence:
 *     the agent reports every port, NICS up, at a view revision that
 *     includes every port key) and time to converge;
 *   - the same window again after convergence.
 * hv3's agent (0 ports all along) is measured over the same windows: a
 * control for how much of a difference is the machine's other load.
 *
 * Part 2, messages and bytes an agent receives. Three watchers, one per
 * host, each watching its host's bucket exactly as an agent does
 * (hostviewBucket(host), `kv.watch({key: '<host>.>'})`, own connection).
 * Around each operation (from the command's send until the affected
 * host's own key has arrived and at least WINDOW_MS have passed) count,
 * per host, the KV entries delivered and their bytes (key + value), and
 * the connection's wire counters (which also carry the ordered consumer's
 * idle heartbeats). Operations:
 *   - quiet windows (no operation): the heartbeat baseline;
 *   - unrelated: a port on hv2 in a network only hv2 has ports on
 *     (hv1 and hv3 have nothing to do with it: expected 0 entries, 0 bytes);
 *   - related (contrast): a port on hv2 in one of hv1's networks; the first
 *     such port makes hv2 need that network (it gets the network, its
 *     routing domain and an endpoint per hv1 port on it) and changes hv1's
 *     flood list; later ones are one endpoint on hv1 and one port on hv2.
 *
 * Last line: hv1's agent RSS at PORTS ports ÷ the same process's RSS at 0
 * ports (medians of the window samples; the 0-port window is the same-run
 * baseline), with hv3's control ratio and the unrelated hosts' KV entries
 * (expected 0) beside it.
 */
import type { PortView } from '@strata/contracts';
import type { Lab, Vm } from '@strata/lab';
import { QUICK, fmt, intEnv, log, printRatio, runPool, table } from './support/common.js';
import { HostWatch, portsIn, StatusWatch } from './support/overlay-kv.js';
import {
  dnsmasqPids,
  httpAddress,
  median,
  procCpu,
  procMem,
  reachable,
  runHeader,
  scrape,
  series,
  sleep,
  staticConfig,
  tenantNet,
  uptime,
  withLab,
  type ProcCpu,
  type TenantNet,
} from './support/overlay.js';

const PORTS = intEnv('PORTS', QUICK ? 200 : 1_000, 10, 5_000);
const NETWORKS = intEnv('NETWORKS', QUICK ? 4 : 10, 1, 50);
const NICS = intEnv('NICS', QUICK ? 8 : 50, 0, 500);
const WINDOW_S = intEnv('WINDOW_S', QUICK ? 10 : 60, 5, 600);
const SETTLE_S = intEnv('SETTLE_S', QUICK ? 3 : 10, 0, 120);
const RESYNC_S = intEnv('RESYNC_S', 30, 1, 600);
const TRIALS = intEnv('TRIALS', QUICK ? 3 : 10, 1, 100);
const WINDOW_MS = intEnv('WINDOW_MS', QUICK ? 1_000 : 3_000, 500, 30_000);
const CREATE_CONCURRENCY = 4;

interface WindowReading {
  label: string;
  seconds: number;
  cpu: ProcCpu;
  rssMedian: number;
  rssMax: number;
  hwm: number;
  heapUsedMiB: number;
  uptime: string;
}

/** CPU and RSS of one agent over `seconds` (RSS sampled every 5 s). */
async function window(label: string, pids: Record<string, number>, http: Record<string, string>, seconds: number): Promise<Record<string, WindowReading>> {
  const c0 = Object.fromEntries(Object.entries(pids).map(([h, pid]) => [h, procCpu(pid)]));
  const rss: Record<string, number[]> = Object.fromEntries(Object.keys(pids).map((h) => [h, []]));
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (const [h, pid] of Object.entries(pids)) rss[h]!.push(procMem(pid).rssMiB);
    await sleep(Math.min(5000, Math.max(0, seconds * 1000 - (performance.now() - t0))));
  }
  const elapsed = (performance.now() - t0) / 1000;
  const out: Record<string, WindowReading> = {};
  for (const [h, pid] of Object.entries(pids)) {
    rss[h]!.push(procMem(pid).rssMiB);
    const c1 = procCpu(pid);
    const m = await scrape(http[h]!).catch(() => new Map<string, number>());
    out[h] = {
      label,
      seconds: elapsed,
      cpu: { self: c1.self - c0[h]!.self, children: c1.children - c0[h]!.children },
      rssMedian: median(rss[h]!),
      rssMax: Math.max(...rss[h]!),
      hwm: procMem(pid).hwmMiB,
      heapUsedMiB: series(m, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      uptime: uptime(),
    };
  }
  return out;
}

interface Count {
  entries: number;
  bytes: number;
  wireMsgs: number;
  wireBytes: number;
  kinds: Map<string, number>;
}

const kindOf = (key: string): string => key.split('.')[1] ?? '?';

/** Run `op` (or nothing), wait for `until` on the affected watcher and at least WINDOW_MS, count what each watcher got. */
async function observe(watches: HostWatch[], op: () => Promise<(() => Promise<unknown>) | null>): Promise<Record<string, Count>> {
  const marks = watches.map((w) => ({ i: w.entries.length, wire: w.wire() }));
  const t0 = performance.now();
  const until = await op();
  if (until) await until();
  const left = WINDOW_MS - (performance.now() - t0);
  if (left > 0) await sleep(left);
  const out: Record<string, Count> = {};
  watches.forEach((w, k) => {
    const got = w.entries.slice(marks[k]!.i);
    const kinds = new Map<string, number>();
    for (const e of got) kinds.set(`${e.op === 'PUT' ? '' : `${e.op} `}${kindOf(e.key)}`, (kinds.get(`${e.op === 'PUT' ? '' : `${e.op} `}${kindOf(e.key)}`) ?? 0) + 1);
    const wire = w.wire();
    out[w.hostId] = {
      entries: got.length,
      bytes: got.reduce((n, e) => n + Buffer.byteLength(e.key) + e.valueBytes, 0),
      wireMsgs: wire.msgs - marks[k]!.wire.msgs,
      wireBytes: wire.bytes - marks[k]!.wire.bytes,
      kinds,
    };
  });
  return out;
}

function sum(counts: Array<Record<string, Count>>, host: string): Count {
  const kinds = new Map<string, number>();
  let entries = 0;
  let bytes = 0;
  let wireMsgs = 0;
  let wireBytes = 0;
  for (const c of counts) {
    const x = c[host]!;
    entries += x.entries;
    bytes += x.bytes;
    wireMsgs += x.wireMsgs;
    wireBytes += x.wireBytes;
    for (const [k, v] of x.kinds) kinds.set(k, (kinds.get(k) ?? 0) + v);
  }
  return { entries, bytes, wireMsgs, wireBytes, kinds };
}

async function main(): Promise<void> {
  runHeader('overlay-agent-scale', { PORTS, NETWORKS, NICS, WINDOW_S, SETTLE_S, RESYNC_S, TRIALS, WINDOW_MS, QUICK: QUICK ? 1 : 0 });
  await withLab({ hypervisors: 3, resyncSeconds: RESYNC_S }, async (lab) => {
    const status = await StatusWatch.start(lab.natsUsers.options('admin'), ['hv1', 'hv2', 'hv3']);
    const watches: HostWatch[] = [];
    try {
      const agents = { hv1: lab.host('hv1').agent!, hv3: lab.host('hv3').agent! };
      const pids = { hv1: agents.hv1.pid, hv3: agents.hv3.pid };
      const http = { hv1: httpAddress(agents.hv1), hv3: httpAddress(agents.hv3) };
      log(`agents: hv1 pid ${pids.hv1} (${http.hv1}), hv3 pid ${pids.hv3} (${http.hv3}); settling ${SETTLE_S} s`);
      await sleep(SETTLE_S * 1000);

      // ---------------------------------------------------------------- part 1
      log(`0 ports: ${WINDOW_S} s window`);
      const idle0 = await window('0 ports', pids, http, WINDOW_S);
      const hv1Watch = await HostWatch.start(lab.natsUsers.options('admin'), 'hv1');
      watches.push(hv1Watch);

      const nets: TenantNet[] = [];
      for (let n = 0; n < NETWORKS; n++) nets.push(await tenantNet(lab, 'scale', `scale-${n}`, `10.${40 + n}.0.0/20`));
      const perNet = Math.ceil(PORTS / NETWORKS);
      const ports: PortView[] = new Array(PORTS);
      const cpuStart = procCpu(pids.hv1);
      const t0 = performance.now();
      log(`creating ${PORTS} ports bound to hv1 over ${NETWORKS} networks (${CREATE_CONCURRENCY} in flight)`);
      await runPool(PORTS, CREATE_CONCURRENCY, async (i) => {
        // Port i goes to network i % NETWORKS, so the first NICS ports are spread over every network.
        const t = nets[i % NETWORKS]!;
        ports[i] = await lab.ipam.command('port.create', { networkId: t.net.id, name: `s${i}`, hostId: 'hv1' }, t.who);
      });
      const tCreated = performance.now();
      log(`${PORTS} ports created in ${((tCreated - t0) / 1000).toFixed(1)} s; booting ${NICS} VM NICs`);
      const vms: Vm[] = [];
      for (let i = 0; i < NICS; i++) {
        const vm = await lab.addVm(`s${i}`, ports[i]!, 'hv1');
        await vm.configureStatic(staticConfig(nets[i % NETWORKS]!));
        vms.push(vm);
      }
      const tNics = performance.now();
      const ids = new Set(ports.map((p) => p.id));
      // Every port key reached hv1's view; then the agent must have applied a revision that includes them all.
      const seenPorts = new Set<string>();
      let lastRevision = 0;
      await hv1Watch.waitFor((e) => {
        const id = e.key.startsWith('hv1.port.') ? e.key.slice('hv1.port.'.length) : '';
        if (ids.has(id)) seenPorts.add(id);
        lastRevision = Math.max(lastRevision, e.revision);
        return seenPorts.size === ids.size;
      }, 0, 600_000);
      const converged = await status.waitFor(
        'hv1',
        (s) => s.error === null && s.viewRevision >= lastRevision && portsIn(s, 'up').length === NICS && s.ports.length === PORTS,
        600_000,
      );
      const cpuAbsorb = procCpu(pids.hv1);
      const convergeS = (converged.at - t0) / 1000;
      log(`converged ${convergeS.toFixed(1)} s after the first create (generation ${converged.status.generation}, view revision ${converged.status.viewRevision})`);
      // Real: VMs on the same network reach each other through the bridge hv1's agent built.
      for (let n = 0; n < Math.min(NETWORKS, Math.floor(NICS / NETWORKS) > 1 ? NETWORKS : 0); n++) await reachable(vms[n]!, vms[n + NETWORKS]!.ip, 40);
      log(`ping checks passed; settling ${SETTLE_S} s, then a ${WINDOW_S} s window`);
      await sleep(SETTLE_S * 1000);
      const idle1 = await window(`${PORTS} ports`, pids, http, WINDOW_S);
      const metrics = await scrape(http.hv1);
      const dns = dnsmasqPids(lab, 'hv1').map((pid) => procMem(pid).rssMiB);

      // ---------------------------------------------------------------- part 2
      log('part 2: messages per host around operations');
      const hv2Watch = await HostWatch.start(lab.natsUsers.options('admin'), 'hv2');
      const hv3Watch = await HostWatch.start(lab.natsUsers.options('admin'), 'hv3');
      watches.push(hv2Watch, hv3Watch);
      // A fresh watch of hv1 gives the size of hv1's whole view: what its agent reads at start-up or after a reconnect.
      const fresh = await HostWatch.start(lab.natsUsers.options('admin'), 'hv1');
      const hv1View = { entries: fresh.initial, bytes: fresh.initialBytes, wire: fresh.wire() };
      await fresh.stop();
      const initial = { hv1: fresh.initial, hv2: hv2Watch.initial, hv3: hv3Watch.initial };
      const all = [hv1Watch, hv2Watch, hv3Watch];
      const other = await tenantNet(lab, 'other', 'other-0', '10.90.0.0/24');
      const createOn = (t: TenantNet, name: string, host: 'hv2'): (() => Promise<() => Promise<unknown>>) => async () => {
        const w = all.find((x) => x.hostId === host)!;
        const from = w.entries.length;
        const p = await lab.ipam.command('port.create', { networkId: t.net.id, name, hostId: host }, t.who);
        return () => w.waitFor((e) => e.key === `${host}.port.${p.id}` && e.op === 'PUT', from, 30_000);
      };
      // hv2 gets the unrelated network first (its net and domain keys), outside the measurement.
      await observe(all, createOn(other, 'u-warm', 'hv2'));

      const quiet: Array<Record<string, Count>> = [];
      for (let i = 0; i < TRIALS; i++) quiet.push(await observe(all, async () => null));
      const unrelated: Array<Record<string, Count>> = [];
      for (let i = 0; i < TRIALS; i++) unrelated.push(await observe(all, createOn(other, `u${i}`, 'hv2')));
      const relatedFirst = await observe(all, createOn(nets[0]!, 'r0', 'hv2'));
      const related: Array<Record<string, Count>> = [];
      for (let i = 1; i < TRIALS; i++) related.push(await observe(all, createOn(nets[0]!, `r${i}`, 'hv2')));

      report({
        idle0,
        idle1,
        absorb: { self: cpuAbsorb.self - cpuStart.self, children: cpuAbsorb.children - cpuStart.children },
        createS: (tCreated - t0) / 1000,
        nicsS: (tNics - tCreated) / 1000,
        convergeS,
        metrics,
        dns,
        initial,
        hv1View,
        quiet,
        unrelated,
        relatedFirst,
        related,
      });
    } finally {
      for (const w of watches) await w.stop().catch(() => undefined);
      await status.stop();
    }
  });
}

function report(r: {
  idle0: Record<string, WindowReading>;
  idle1: Record<string, WindowReading>;
  absorb: ProcCpu;
  createS: number;
  nicsS: number;
  convergeS: number;
  metrics: Map<string, number>;
  dns: number[];
  initial: Record<string, number>;
  hv1View: { entries: number; bytes: number; wire: { msgs: number; bytes: number } };
  quiet: Array<Record<string, Count>>;
  unrelated: Array<Record<string, Count>>;
  relatedFirst: Record<string, Count>;
  related: Array<Record<string, Count>>;
}): void {
  console.log(`\nuptime at the end: ${uptime()}\n`);
  console.log(`Part 1: hv1's agent, 0 vs ${PORTS} ports (${NETWORKS} networks, ${NICS} VM NICs); hv3's agent (0 ports throughout) as control\n`);
  const pctCore = (w: WindowReading, k: keyof ProcCpu): string => `${fmt((w.cpu[k] / w.seconds) * 100, 2)}%`;
  const a0 = r.idle0['hv1']!;
  const a1 = r.idle1['hv1']!;
  const c0 = r.idle0['hv3']!;
  const c1 = r.idle1['hv3']!;
  table(
    ['measure', 'hv1, 0 ports', `hv1, ${PORTS} ports`, 'ratio', 'hv3 (control), same windows', 'control ratio'],
    [
      ['RSS MiB (median of samples)', fmt(a0.rssMedian, 1), fmt(a1.rssMedian, 1), fmt(a1.rssMedian / a0.rssMedian, 2), `${fmt(c0.rssMedian, 1)} → ${fmt(c1.rssMedian, 1)}`, fmt(c1.rssMedian / c0.rssMedian, 2)],
      ['RSS MiB (max of samples)', fmt(a0.rssMax, 1), fmt(a1.rssMax, 1), fmt(a1.rssMax / a0.rssMax, 2), `${fmt(c0.rssMax, 1)} → ${fmt(c1.rssMax, 1)}`, fmt(c1.rssMax / c0.rssMax, 2)],
      ['peak RSS so far (VmHWM) MiB', fmt(a0.hwm, 1), fmt(a1.hwm, 1), fmt(a1.hwm / a0.hwm, 2), `${fmt(c0.hwm, 1)} → ${fmt(c1.hwm, 1)}`, fmt(c1.hwm / c0.hwm, 2)],
      ['V8 heap used MiB (nodejs_heap_size_used_bytes)', fmt(a0.heapUsedMiB, 1), fmt(a1.heapUsedMiB, 1), fmt(a1.heapUsedMiB / a0.heapUsedMiB, 2), `${fmt(c0.heapUsedMiB, 1)} → ${fmt(c1.heapUsedMiB, 1)}`, fmt(c1.heapUsedMiB / c0.heapUsedMiB, 2)],
      [`CPU utime+stime over ${WINDOW_S} s (% of one core)`, pctCore(a0, 'self'), pctCore(a1, 'self'), fmt(a1.cpu.self / Math.max(a0.cpu.self, 0.01), 1), `${pctCore(c0, 'self')} → ${pctCore(c1, 'self')}`, fmt(c1.cpu.self / Math.max(c0.cpu.self, 0.01), 1)],
      [`children's CPU (cutime+cstime: ip/bridge/nft runs) over ${WINDOW_S} s`, pctCore(a0, 'children'), pctCore(a1, 'children'), fmt(a1.cpu.children / Math.max(a0.cpu.children, 0.01), 1), `${pctCore(c0, 'children')} → ${pctCore(c1, 'children')}`, fmt(c1.cpu.children / Math.max(c0.cpu.children, 0.01), 1)],
    ],
  );
  console.log(`\nwindows: 0 ports ${a0.uptime}\n         ${PORTS} ports ${a1.uptime}`);
  console.log(`\nabsorbing ${PORTS} ports: ${fmt(r.createS, 1)} s to create them (IPAM, ${CREATE_CONCURRENCY} in flight), ${fmt(r.nicsS, 1)} s to boot ${NICS} NICs, converged ${fmt(r.convergeS, 1)} s after the first create`);
  console.log(`hv1 agent CPU from the first create to convergence: ${fmt(r.absorb.self, 2)} s own (utime+stime) + ${fmt(r.absorb.children, 2)} s children (cutime+cstime)`);
  const objs = [...r.metrics].filter(([k]) => k.startsWith('strata_agent_objects{')).map(([k, v]) => `${/kind="([^"]+)"/.exec(k)?.[1]} ${v}`);
  console.log(`hv1 desired kernel objects (strata_agent_objects): ${objs.join(', ')}`);
  console.log(`dnsmasq on hv1: ${r.dns.length} processes, RSS ${fmt(r.dns.reduce((a, b) => a + b, 0), 1)} MiB in total`);
  console.log(`hv1's whole view (a fresh watch's snapshot: what its agent reads at start or after a reconnect): ${r.hv1View.entries} entries, ${fmt(r.hv1View.bytes / 1024, 1)} KiB of values`);

  console.log(`\nPart 2: what each host's watch receives, per operation (window ≥ ${WINDOW_MS} ms from the send; ${TRIALS} quiet windows, ${TRIALS} unrelated ports, 1 + ${TRIALS - 1} related ports)\n`);
  const row = (label: string, counts: Array<Record<string, Count>>, host: string): string[] => {
    const s = sum(counts, host);
    const n = counts.length;
    return [
      label,
      host,
      `${fmt(s.entries / n, 1)}`,
      `${fmt(s.bytes / n, 0)}`,
      `${fmt(s.wireMsgs / n, 1)}`,
      [...s.kinds].map(([k, v]) => `${k} ×${fmt(v / n, 1)}`).join(', ') || '—',
    ];
  };
  const rows: string[][] = [];
  for (const h of ['hv1', 'hv2', 'hv3']) rows.push(row('quiet window (no operation)', r.quiet, h));
  for (const h of ['hv1', 'hv2', 'hv3']) rows.push(row('port on hv2, network only hv2 has', r.unrelated, h));
  for (const h of ['hv1', 'hv2', 'hv3']) rows.push(row("first port on hv2 in one of hv1's networks", [r.relatedFirst], h));
  for (const h of ['hv1', 'hv2', 'hv3']) rows.push(row("further ports on hv2 in that network", r.related, h));
  table(['operation', 'host', 'KV entries', 'KV bytes (key+value)', 'msgs on the watch connection', 'keys'], rows);
  const u1 = sum(r.unrelated, 'hv1');
  const u3 = sum(r.unrelated, 'hv3');
  console.log('(msgs on the watch connection: everything the connection received, KV entries plus the ordered consumer\'s idle heartbeats, one per 5 s when idle; bytes exclude protocol framing: subject, reply subject, headers)');
  console.log(`\nunrelated hosts over all ${TRIALS} unrelated ports: hv1 ${u1.entries} entries / ${u1.bytes} bytes, hv3 ${u3.entries} entries / ${u3.bytes} bytes (expected 0 / 0)`);
  console.log(`watch snapshots at the start of part 2: hv1 ${r.initial['hv1']} keys, hv2 ${r.initial['hv2']}, hv3 ${r.initial['hv3']}`);
  printRatio(a1.rssMedian / a0.rssMedian, {
    measured: `hv1 agent RSS at ${PORTS} ports (${fmt(a1.rssMedian, 1)} MiB)`,
    baseline: `the same process at 0 ports (${fmt(a0.rssMedian, 1)} MiB)`,
    goal: 'recorded (docs/performance.md: 2.31 at 1,000 ports)',
    also: `hv3 control ${fmt(c1.rssMedian / c0.rssMedian, 2)}; unrelated ports reached hv1/hv3 as ${u1.entries}/${u3.entries} KV entries, expected 0`,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
