/**
 * The scale simulation (issue 18): 100, 500 and 1,000 simulated
 * hypervisors against the real control plane, in one command.
 *
 *   npm run -w @strata/bench scale-sim
 *   SIZES=100,500,1000 PORTS_PER_HOST=10 SAMPLES=20 npm run -w @strata/bench scale-sim
 *   SIZES=1000 PORTS_PER_HOST=100 npm run -w @strata/bench scale-sim      (100,000 ports, 10,000 groups)
 *
 * Knobs: SIZES (hosts per run, default 100,500,1000), PORTS_PER_HOST
 * (default 10: 10,000 ports at 1,000 hosts, OVN's figure), SPAN (hosts a
 * network spans, default 10), SAMPLES (port creates and membership changes
 * per size, default 20), C (commands in flight while building, default
 * 32), SETTLE_MS (quiet time after a change before counting what each host
 * received, default 500), QUIET_S (the idle window, default 10),
 * PROFILE=1 (a V8 CPU profile of this process, the simulated hypervisors,
 * during the cold start, the changes and the storm: its top functions).
 *
 * Per size, a fresh control plane (startControlPlane with hostview:
 * nats-server with the production users, one per simulated host, ipam x2,
 * secgroup, nat, chaining, status, audit, api, hostview as processes), the
 * cloud built through the services' commands before the hypervisors start
 * (infra/lab scale-cloud.ts: a tenant per network, each network spanning a
 * block of SPAN hosts with 2 ports on each, groups of 10 ports with
 * Neutron's default rules), then in this process one simulated hypervisor
 * per host (services/agent/src/sim: its own NATS connection as its own
 * user `agent-<host>`, its own host-view watch, the real agent loop and
 * dataplane on an in-memory kernel):
 *
 * - cold start: every hypervisor connects, loads its view and applies it
 *   (time until every host has all its ports plugged);
 * - quiet: CPU of hostview, nats-server and the simulation with nothing
 *   happening (heartbeats, reports, the 30 s resync);
 * - port create → applied on every affected host (the port's block: its
 *   own host plugged it, the others have its neighbour entry, the hosts
 *   of its group have its address in the group's set), SAMPLES times, one
 *   at a time; the clock starts at the create command and includes the
 *   port.setGroups that follows it (Neutron's create is one request);
 * - membership change → applied on every affected host (a port moved to
 *   the other group of its network: its address in the new group's set
 *   and out of the old one's on every host of those groups, its own
 *   chain jumping to the new group's), SAMPLES times;
 * - for every change, the host-view entries and bytes each host received
 *   (key + value; and its connection's wire bytes): the affected hosts',
 *   and the others', which must be zero (counted, and the run says so);
 * - a reconnect storm: every hypervisor's connection dropped at once
 *   (nats.js reconnect()), until every host has watched its view again
 *   and applied it;
 * - CPU seconds and RSS of hostview, nats-server and this process per
 *   phase; JetStream streams and consumers.
 *
 * Baseline in the same run: a query round trip (ipam network.get) at the
 * same size, and the 100-host figures for the ratios of the larger sizes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { connect, type NatsConnection } from 'nats';
import { portDevice } from '@strata/contracts';
import { portChainName, sgChainName, sgSetName } from '@strata/agent';
import { startFleet, type Fleet, type SimKernel } from '@strata/agent/sim';
import {
  buildScaleCloud,
  createScalePort,
  IpamClient,
  moveScalePort,
  registerScaleHosts,
  scaleHostId,
  SecgroupClient,
  SeqTracker,
  startControlPlane,
  type ControlPlane,
  type ScaleClients,
  type ScaleCloud,
  type ScalePort,
} from '@strata/lab';
import { commandSignerFrom } from '@strata/runtime';
import { freePort } from '@strata/testing';
import { fmt, intEnv, log, table } from './support/common.js';
import { median, pct, procCpu, procMem, runHeader, sleep } from './support/overlay.js';

const SIZES = (process.env['SIZES'] ?? '100,500,1000').split(',').map((s) => Number(s.trim()));
const PORTS_PER_HOST = intEnv('PORTS_PER_HOST', 10, 2, 1000);
const SPAN = intEnv('SPAN', 10, 1, 100);
const SAMPLES = intEnv('SAMPLES', 20, 1, 1000);
const C = intEnv('C', 32, 1, 256);
const SETTLE_MS = intEnv('SETTLE_MS', 500, 0, 60_000);
const QUIET_S = intEnv('QUIET_S', 10, 1, 600);
const PROFILE = process.env['PROFILE'] === '1';
for (const n of SIZES) if (!Number.isInteger(n) || n < SPAN || n % SPAN !== 0) throw new Error(`SIZES: ${n} is not a multiple of SPAN=${SPAN}`);

// ------------------------------------------------------------------ processes

interface Proc {
  name: string;
  pid: number;
}

/** nats-server started by this process (startControlPlane's), found as our child. */
function natsServerPid(): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'nats-server' && ppid === process.pid) return Number(d);
    } catch {
      /* gone */
    }
  }
  throw new Error('no nats-server child of this process');
}

interface Usage {
  cpu: number;
  rssMiB: number;
}

function usage(p: Proc): Usage {
  if (p.pid === process.pid) {
    const u = process.cpuUsage();
    return { cpu: (u.user + u.system) / 1e6, rssMiB: process.memoryUsage().rss / 2 ** 20 };
  }
  const c = procCpu(p.pid);
  return { cpu: c.self, rssMiB: procMem(p.pid).rssMiB };
}

/** CPU seconds each process used during `body`, its share of one core, and its RSS after. */
async function measured<T>(procs: Proc[], body: () => Promise<T>): Promise<{ value: T; seconds: number; use: Record<string, { cpu: number; share: number; rssMiB: number }> }> {
  const before = procs.map(usage);
  const t0 = performance.now();
  const value = await body();
  const seconds = (performance.now() - t0) / 1000;
  const use: Record<string, { cpu: number; share: number; rssMiB: number }> = {};
  procs.forEach((p, i) => {
    const after = usage(p);
    const cpu = after.cpu - before[i]!.cpu;
    use[p.name] = { cpu, share: cpu / seconds, rssMiB: after.rssMiB };
  });
  return { value, seconds, use };
}

// ------------------------------------------------------------------ what "applied" means on a host

const hasNeighbour = (k: SimKernel, mac: string, ip: string): boolean => Object.values(k.peek().neighs).some((n) => n.mac === mac && n.ip === ip);
const inSet = (k: SimKernel, groupId: string, ip: string): boolean => k.peek().nft.tables.inet?.sets[sgSetName(groupId, 4)]?.elements.includes(ip) ?? false;
const jumpsTo = (k: SimKernel, portId: string, groupId: string): boolean =>
  k.peek().nft.tables.inet?.chains[portChainName(portId, 'in')]?.rules.some((r) => r.refs.includes(`chain:${sgChainName(groupId, 'in')}`)) ?? false;

/** The conditions under which each affected host has applied a new port. */
function portApplied(cloud: ScaleCloud, p: ScalePort): Map<string, (k: SimKernel) => boolean> {
  const groupHosts = cloud.hostsWithMembers(p.groupId);
  return new Map(
    cloud.hostsOfNetwork(p.networkId).map((h) => [
      h,
      (k: SimKernel) => (h === p.host ? k.peek().plugs[portDevice(p.id)] !== undefined : hasNeighbour(k, p.mac, p.ip)) && (!groupHosts.has(h) || inSet(k, p.groupId, p.ip)),
    ]),
  );
}

/** The conditions under which each affected host has applied a port's move from one group to another. */
function moveApplied(cloud: ScaleCloud, p: ScalePort, from: string): Map<string, (k: SimKernel) => boolean> {
  const newHosts = cloud.hostsWithMembers(p.groupId);
  const oldHosts = cloud.hostsWithMembers(from);
  const out = new Map<string, (k: SimKernel) => boolean>();
  for (const h of new Set([...newHosts, ...oldHosts, p.host])) {
    out.set(h, (k) => (!newHosts.has(h) || inSet(k, p.groupId, p.ip)) && (!oldHosts.has(h) || !inSet(k, from, p.ip)) && (h !== p.host || jumpsTo(k, p.id, p.groupId)));
  }
  return out;
}

// ------------------------------------------------------------------ one change, observed

interface ChangeReading {
  /** ms from the first command to the last affected host applied. */
  allMs: number;
  /** ms to the median affected host. */
  medianHostMs: number;
  affected: number;
  /** Mean host-view entries and bytes an affected host received. */
  entriesPerAffected: number;
  bytesPerAffected: number;
  wireBytesPerAffected: number;
  /** Unaffected hosts that received any host-view entry (must be 0), and their entries and wire bytes in all. */
  unaffectedReceiving: number;
  unaffectedEntries: number;
  unaffectedWireBytes: number;
}

async function observe(fleet: Fleet, command: () => Promise<Map<string, (k: SimKernel) => boolean>>): Promise<ChangeReading> {
  const before = fleet.received();
  const t0 = performance.now();
  const conditions = await command();
  const times = await Promise.all([...conditions].map(([h, until]) => fleet.get(h).when(until)));
  const done = performance.now();
  // Whatever hostview still sends for this change arrives in this window (nothing else happens meanwhile).
  await sleep(SETTLE_MS);
  const after = fleet.received();
  let entries = 0;
  let bytes = 0;
  let wire = 0;
  let unaffectedReceiving = 0;
  let unaffectedEntries = 0;
  let unaffectedWire = 0;
  for (const [h, a] of after) {
    const b = before.get(h)!;
    if (conditions.has(h)) {
      entries += a.entries - b.entries;
      bytes += a.bytes - b.bytes;
      wire += a.wireBytes - b.wireBytes;
    } else {
      if (a.entries > b.entries) unaffectedReceiving++;
      unaffectedEntries += a.entries - b.entries;
      unaffectedWire += a.wireBytes - b.wireBytes;
    }
  }
  const n = conditions.size;
  return {
    allMs: done - t0,
    medianHostMs: median(times.map((t) => t - t0)),
    affected: n,
    entriesPerAffected: entries / n,
    bytesPerAffected: bytes / n,
    wireBytesPerAffected: wire / n,
    unaffectedReceiving,
    unaffectedEntries,
    unaffectedWireBytes: unaffectedWire,
  };
}

// ------------------------------------------------------------------ CPU profiles

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** The functions with the most self time in a V8 CPU profile. */
function topFunctions(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }, n = 12): Array<{ fn: string; share: number }> {
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(services|libs|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + hits);
    total += hits;
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([fn, hits]) => ({ fn, share: hits / total }));
}

async function profiled<T>(label: string, body: () => Promise<T>): Promise<T> {
  if (!PROFILE) return body();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    console.log(`\ntop self time in this process (the simulated hypervisors) during ${label}:`);
    table(['function', 'share'], topFunctions(profile as never).map((t) => [t.fn, `${fmt(t.share * 100, 1)} %`]));
  }
}

// ------------------------------------------------------------------ one size

interface SizeResult {
  hosts: number;
  ports: number;
  groups: number;
  events: number;
  buildS: number;
  coldS: number;
  queryMs: number;
  create: ChangeReading[];
  move: ChangeReading[];
  stormS: number;
  stormMedianS: number;
  phases: Record<string, Awaited<ReturnType<typeof measured>>['use'] & { seconds?: never }>;
  phaseSeconds: Record<string, number>;
  streams: number;
  consumers: number;
  failedPasses: number;
  simErrors: number;
}

async function runSize(hostsN: number): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-scale-bench-'));
  const hosts = Array.from({ length: hostsN }, (_, i) => scaleHostId(i + 1));
  let cp: ControlPlane | undefined;
  let fleet: Fleet | undefined;
  const conns: NatsConnection[] = [];
  try {
    log(`${hostsN} hosts: starting the control plane (${hostsN} agent users and host-view buckets)`);
    const t0 = performance.now();
    cp = await startControlPlane(dir, [], () => undefined, { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}`, agents: hosts, hostview: true });
    log(`control plane up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const procs: Proc[] = [
      { name: 'hostview', pid: cp.processes.find((p) => p.name === 'hostview')!.pid },
      { name: 'nats-server', pid: natsServerPid() },
      { name: 'simulation', pid: process.pid },
      { name: 'secgroup', pid: cp.processes.find((p) => p.name === 'secgroup')!.pid },
      { name: 'ipam-1', pid: cp.processes.find((p) => p.name === 'ipam-1')!.pid },
    ];
    const nc = await connect({ servers: cp.natsUrl, user: 'api', pass: cp.passwords['api']!, inboxPrefix: '_INBOX_api' });
    const admin = await connect({ servers: cp.natsUrl, user: 'admin', pass: cp.passwords['admin']! });
    conns.push(nc, admin);
    const signer = commandSignerFrom({ STRATA_COMMAND_SIGNING_KEY: cp.commandKeys.signingKey });
    const seq = new SeqTracker();
    const clients: ScaleClients = { ipam: new IpamClient(nc, 60_000, seq, signer), secgroup: new SecgroupClient(nc, 60_000, seq, signer) };
    const phases: SizeResult['phases'] = {};
    const phaseSeconds: Record<string, number> = {};

    const build = await measured(procs, async () => {
      await registerScaleHosts(clients, hostsN, C);
      return buildScaleCloud(clients, hosts, { hosts: hostsN, portsPerHost: PORTS_PER_HOST, span: SPAN, concurrency: C }, log);
    });
    const cloud = build.value;
    phases['build'] = build.use;
    phaseSeconds['build'] = build.seconds;
    const events = (await (await admin.jetstreamManager()).streams.info('STRATA_EVENTS')).state.last_seq;
    log(`built: ${cloud.ports.size} ports, ${cloud.groupNetwork.size} groups, ${events} events in ${build.seconds.toFixed(1)} s`);

    // Cold start: every hypervisor connects and applies its whole view.
    const cold = await profiled('the cold start', () =>
      measured(procs, async () => {
        fleet = await startFleet({ hosts, passwords: cp!.passwords, servers: cp!.natsUrl });
        const perHost = new Map<string, number>();
        for (const p of cloud.ports.values()) perHost.set(p.host, (perHost.get(p.host) ?? 0) + 1);
        await Promise.all(hosts.map((h) => fleet!.get(h).when((k) => Object.keys(k.peek().plugs).length === perHost.get(h))));
      }),
    );
    phases['cold start'] = cold.use;
    phaseSeconds['cold start'] = cold.seconds;
    log(`cold start: every host applied its view in ${cold.seconds.toFixed(1)} s`);

    const quiet = await measured(procs, () => sleep(QUIET_S * 1000));
    phases['quiet'] = quiet.use;
    phaseSeconds['quiet'] = quiet.seconds;

    // Baseline: a query round trip through the same client.
    const some = cloud.networks[0]!;
    const q: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await clients.ipam.query('network.get', { id: some.id }, cloud.who(some));
      q.push(performance.now() - t);
    }

    const create: ChangeReading[] = [];
    const move: ChangeReading[] = [];
    const changes = await profiled('the changes', () =>
      measured(procs, async () => {
        for (let i = 0; i < SAMPLES; i++) {
          const n = cloud.networks[Math.floor(Math.random() * cloud.networks.length)]!;
          const host = n.hosts[Math.floor(Math.random() * n.hosts.length)]!;
          const group = n.groups[Math.floor(Math.random() * n.groups.length)]!;
          create.push(await observe(fleet!, async () => portApplied(cloud, await createScalePort(clients, cloud, n, host, group, `bench-${i}`))));
        }
        const ports = [...cloud.ports.values()];
        for (let i = 0; i < SAMPLES; i++) {
          const p = ports[Math.floor(Math.random() * ports.length)]!;
          const n = cloud.groupNetwork.get(p.groupId)!;
          const to = n.groups.find((g) => g !== p.groupId)!;
          move.push(await observe(fleet!, async () => moveApplied(cloud, await moveScalePort(clients, cloud, p, to), p.groupId)));
        }
      }),
    );
    phases['changes'] = changes.use;
    phaseSeconds['changes'] = changes.seconds;

    // The reconnect storm: every connection dropped at once.
    const sims = [...fleet!.sims.values()];
    const stormTimes: number[] = [];
    const storm = await profiled('the reconnect storm', () =>
      measured(procs, async () => {
        const t = performance.now();
        await Promise.all(
          sims.map(async (s) => {
            await s.reconnect();
            stormTimes.push((await s.nextPass()) - t);
          }),
        );
      }),
    );
    phases['reconnect storm'] = storm.use;
    phaseSeconds['reconnect storm'] = storm.seconds;
    log(`reconnect storm: every host resynced in ${storm.seconds.toFixed(1)} s`);

    const account = await (await admin.jetstreamManager()).getAccountInfo();
    return {
      hosts: hostsN,
      ports: cloud.ports.size,
      groups: cloud.groupNetwork.size,
      events,
      buildS: build.seconds,
      coldS: cold.seconds,
      queryMs: median(q),
      create,
      move,
      stormS: Math.max(...stormTimes) / 1000,
      stormMedianS: median(stormTimes) / 1000,
      phases,
      phaseSeconds,
      streams: account.streams,
      consumers: account.consumers,
      failedPasses: sims.reduce((n, s) => n + s.passes.failed, 0),
      simErrors: sims.reduce((n, s) => n + ((s.logger as { errors?: number }).errors ?? 0), 0),
    };
  } finally {
    await fleet?.stop();
    for (const c of conns) if (!c.isClosed()) await c.close().catch(() => undefined);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

const ms = (xs: number[], p: number): string => fmt(pct(xs, p), 0);

function report(results: SizeResult[]): void {
  const base = results[0]!;
  console.log('\n## Change → applied on every affected host (ms), and what hosts received');
  table(
    ['hosts', 'ports', 'groups', 'change', 'p50', 'p99', 'p50 vs first size', 'median host p50', 'affected', 'entries/affected', 'bytes/affected', 'wire B/affected', 'unaffected receiving', 'query p50'],
    results.flatMap((r) =>
      (['create', 'move'] as const).map((kind) => {
        const xs = r[kind];
        const all = xs.map((x) => x.allMs);
        const b = base[kind].map((x) => x.allMs);
        return [
          fmt(r.hosts),
          fmt(r.ports),
          fmt(r.groups),
          kind === 'create' ? 'port create' : 'membership',
          ms(all, 50),
          ms(all, 99),
          `${fmt(pct(all, 50) / pct(b, 50), 2)}x`,
          ms(xs.map((x) => x.medianHostMs), 50),
          fmt(median(xs.map((x) => x.affected))),
          fmt(median(xs.map((x) => x.entriesPerAffected)), 1),
          fmt(median(xs.map((x) => x.bytesPerAffected))),
          fmt(median(xs.map((x) => x.wireBytesPerAffected))),
          `${xs.reduce((n, x) => n + x.unaffectedReceiving, 0)} (${xs.reduce((n, x) => n + x.unaffectedEntries, 0)} entries, ${fmt(xs.reduce((n, x) => n + x.unaffectedWireBytes, 0))} wire B)`,
          fmt(r.queryMs, 1),
        ];
      }),
    ),
  );
  console.log('\n## Whole runs');
  table(
    ['hosts', 'events', 'build s', 'cold start s', 'storm: all s', 'storm: median s', 'streams', 'consumers', 'failed passes', 'sim errors'],
    results.map((r) => [fmt(r.hosts), fmt(r.events), fmt(r.buildS, 1), fmt(r.coldS, 1), fmt(r.stormS, 1), fmt(r.stormMedianS, 1), fmt(r.streams), fmt(r.consumers), fmt(r.failedPasses), fmt(r.simErrors)]),
  );
  console.log('\n## CPU (share of one core) and RSS (MiB) per phase');
  const names = Object.keys(results[0]!.phases['build']!);
  table(
    ['hosts', 'phase', 'seconds', ...names.map((n) => `${n} CPU`), ...names.map((n) => `${n} RSS`)],
    results.flatMap((r) =>
      Object.entries(r.phases).map(([phase, use]) => [
        fmt(r.hosts),
        phase,
        fmt(r.phaseSeconds[phase]!, 1),
        ...names.map((n) => fmt(use[n]!.share, 2)),
        ...names.map((n) => fmt(use[n]!.rssMiB)),
      ]),
    ),
  );
  const violations = results.reduce((n, r) => n + [...r.create, ...r.move].reduce((m, x) => m + x.unaffectedReceiving, 0), 0);
  console.log(violations === 0 ? '\nno unaffected host received any host-view entry for any change' : `\nVIOLATION: ${violations} times an unaffected host received host-view entries`);
}

runHeader('scale simulation (issue 18)', { SIZES: SIZES.join(','), PORTS_PER_HOST, SPAN, SAMPLES, C, SETTLE_MS, QUIET_S, ...(PROFILE ? { PROFILE: 1 } : {}) });
try {
  console.log(`open files limit: ${execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()}`);
} catch {
  /* informational */
}
const results: SizeResult[] = [];
for (const n of SIZES) {
  results.push(await runSize(n));
  report(results);
}
process.exit(0);
