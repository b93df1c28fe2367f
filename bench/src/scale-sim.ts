/**
 * The scale simulation (issue 18): 100, 500 and 1,000 simulated
 * hypervisors against the real control plane, in one command.
 *
 *   npm run -w @strata/bench scale-sim
 *   SIZES=100,500,1000 PORTS_PER_HOST=10 SAMPLES=20 npm run -w @strata/bench scale-sim
 *   SIZES=1000 PORTS_PER_HOST=100 npm run -w @strata/bench scale-sim      (100,000 ports, 10,000 groups)
 *   QUICK=1 npm run -w @strata/bench scale-sim     (SIZES=20,100 PORTS_PER_HOST=2 SAMPLES=5 QUIET_S=3 REPLICAS= (none); under 2 minutes)
 *
 * Knobs: SIZES (hosts per run, default 100,500,1000), PORTS_PER_HOST
 * (default 10: 10,000 ports at 1,000 hosts, OVN's figure), SPAN (hosts a
 * network spans, default 10), SAMPLES (port creates and membership changes
 * per size, default 20), C (commands in flight while building, default
 * 32), SETTLE_MS (quiet time after a change before counting what each host
 * received, default 500), QUIET_S (the idle window, default 10),
 * REPLICAS (default 1,3: the throughput runs on a three-node cluster; empty:
 * none), REPLICA_HOSTS (default 100), REPLICA_PORTS (default 1,000),
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
 * Then command throughput with 1 and with 3 replicas, same run: a fresh
 * control plane on a three-node nats-server cluster per replica count,
 * REPLICA_HOSTS simulated hypervisors watching, REPLICA_PORTS ports created
 * and grouped with C in flight (commands/s, latency), then the time until
 * every one is plugged on its host.
 *
 * Baseline in the same run: a query round trip (ipam network.get) at the
 * same size, and the 100-host figures for the ratios of the larger sizes.
 *
 * Last line: port create → applied on every affected host, p50 at the
 * largest size ÷ p50 at the smallest size of the same run (a change's cost
 * should not depend on the number of hosts: ≈ 1; the membership change's
 * ratio beside it). With one size: that p50 ÷ the query round trip at that
 * size. With no size (REPLICAS only): commands/s with the last replica
 * count ÷ with the first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { connect, type NatsConnection } from 'nats';
import { hostviewBucket, hostviewKey, portDevice } from '@strata/contracts';
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
import { QUICK, fmt, intEnv, intListEnv, log, printRatio, table } from './support/common.js';
import { median, pct, procCpu, procMem, runHeader, sleep } from './support/overlay.js';

const SIZES = intListEnv('SIZES', QUICK ? [20, 100] : [100, 500, 1000]);
const PORTS_PER_HOST = intEnv('PORTS_PER_HOST', QUICK ? 2 : 10, 2, 1000);
const SPAN = intEnv('SPAN', 10, 1, 100);
const SAMPLES = intEnv('SAMPLES', QUICK ? 5 : 20, 1, 1000);
const C = intEnv('C', 32, 1, 256);
const SETTLE_MS = intEnv('SETTLE_MS', 500, 0, 60_000);
const QUIET_S = intEnv('QUIET_S', QUICK ? 3 : 10, 1, 600);
const PROFILE = process.env['PROFILE'] === '1';
const REPLICAS = intListEnv('REPLICAS', QUICK ? [] : [1, 3]);
const REPLICA_HOSTS = intEnv('REPLICA_HOSTS', 100, SPAN, 10_000);
const REPLICA_PORTS = intEnv('REPLICA_PORTS', 1_000, 10, 1_000_000);
for (const n of SIZES) if (!Number.isInteger(n) || n < SPAN || n % SPAN !== 0) throw new Error(`SIZES: ${n} is not a multiple of SPAN=${SPAN}`);

// ------------------------------------------------------------------ processes

interface Proc {
  name: string;
  pid: number;
}

/** The nats-servers started by this process (startControlPlane's), found as its children. */
function natsServerPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return comm === 'nats-server' && ppid === process.pid ? [Number(d)] : [];
      } catch {
        return []; // gone
      }
    });
}

function natsServerPid(): number {
  const [pid] = natsServerPids();
  if (pid === undefined) throw new Error('no nats-server child of this process');
  return pid;
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

/** Resolves once hostview has written `host`'s view as of log position `seq` or later (its `<host>.position.view`). */
async function caughtUp(admin: NatsConnection, host: string, seq: number): Promise<void> {
  const kv = await admin.jetstream().views.kv(hostviewBucket(host), { bindOnly: true });
  for (;;) {
    const e = await kv.get(hostviewKey.position(host));
    if (e && e.value.length > 0 && (JSON.parse(new TextDecoder().decode(e.value)) as { seq: number }).seq >= seq) return;
    await sleep(200);
  }
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

/** What a signal must stop: the control plane and the simulated hypervisors of the run under way. */
const running = new Set<() => Promise<void>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the control plane and the simulated hypervisors`);
    void Promise.all([...running].map((stop) => stop().catch(() => undefined))).then(() => process.exit(130));
  });
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
    const stopAll = async (): Promise<void> => {
      await fleet?.stop();
      await cp?.stop();
    };
    running.add(stopAll);
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

    const t0build = performance.now();
    const build = await measured(procs, async () => {
      await registerScaleHosts(clients, hostsN, C);
      return buildScaleCloud(clients, hosts, { hosts: hostsN, portsPerHost: PORTS_PER_HOST, span: SPAN, concurrency: C }, log);
    });
    const cloud = build.value;
    phases['build'] = build.use;
    // hostview follows the log on its own: the build is done when it has written what the last command changed.
    const last = [...cloud.ports.values()].at(-1)!;
    await caughtUp(admin, last.host, seq.value);
    const events = (await (await admin.jetstreamManager()).streams.info('STRATA_EVENTS')).state.last_seq;
    phaseSeconds['build'] = (performance.now() - t0build) / 1000;
    log(`built: ${cloud.ports.size} ports, ${cloud.groupNetwork.size} groups, ${events} events in ${build.seconds.toFixed(1)} s; hostview caught up ${(phaseSeconds['build']! - build.seconds).toFixed(1)} s later`);

    // Cold start: every hypervisor connects and applies its whole view.
    const cold = await profiled('the cold start', () =>
      measured(procs, async () => {
        const tf = performance.now();
        let lastLog = performance.now();
        fleet = await startFleet({
          hosts,
          passwords: cp!.passwords,
          servers: cp!.natsUrl,
          onStarted: (n) => {
            if (performance.now() - lastLog < 15_000) return;
            lastLog = performance.now();
            log(`  cold start: ${n}/${hostsN} connected`);
          },
        });
        log(`  cold start: ${hostsN} connections made in ${((performance.now() - tf) / 1000).toFixed(1)} s`);
        const perHost = new Map<string, number>();
        for (const p of cloud.ports.values()) perHost.set(p.host, (perHost.get(p.host) ?? 0) + 1);
        const done = new Set<string>();
        const progress = setInterval(() => {
          const short = hosts.find((h) => !done.has(h));
          const s = short ? fleet!.get(short) : undefined;
          log(
            `  cold start: ${done.size}/${hostsN} hosts applied` +
              (s ? `; e.g. ${short}: syncs ${s.syncs}, ${Object.keys(s.kernel.peek().plugs).length}/${perHost.get(short!)} plugged, ${s.kernel.peek().devices.length} taps, passes ${JSON.stringify(s.passes)}, ${(s.logger as { last?: string[] }).last?.join(' | ') ?? ''}` : ''),
          );
        }, 15_000);
        await Promise.all(hosts.map((h) => fleet!.get(h).when((k) => Object.keys(k.peek().plugs).length === perHost.get(h)).then(() => done.add(h))));
        clearInterval(progress);
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
      buildS: phaseSeconds['build']!,
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
    running.clear();
    await fleet?.stop();
    for (const c of conns) if (!c.isClosed()) await c.close().catch(() => undefined);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ throughput, 1 vs 3 replicas

interface ReplicaResult {
  replicas: number;
  ports: number;
  seconds: number;
  commandsPerSecond: number;
  p50: number;
  p99: number;
  appliedS: number;
  nats: Record<string, { cpu: number; share: number; rssMiB: number }>;
}

/**
 * Commands per second on a three-node NATS cluster (startControlPlane's
 * natsCluster) with every stream and bucket at `replicas` replicas:
 * REPLICA_PORTS ports created and grouped (port.create + port.setGroups) with
 * C in flight, REPLICA_HOSTS simulated hypervisors watching, then the time
 * until every new port is plugged on its host.
 */
async function runReplicas(replicas: number): Promise<ReplicaResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-scale-replicas-'));
  const hosts = Array.from({ length: REPLICA_HOSTS }, (_, i) => scaleHostId(i + 1));
  let cp: ControlPlane | undefined;
  let fleet: Fleet | undefined;
  const conns: NatsConnection[] = [];
  try {
    log(`throughput with ${replicas} replica(s) on a three-node cluster, ${REPLICA_HOSTS} hosts`);
    const clusterOptions = { natsCluster: 3, natsReplicas: replicas } as Record<string, unknown>;
    cp = await startControlPlane(dir, [], () => undefined, { apiAddr: `127.0.0.1:${await freePort()}`, agents: hosts, hostview: true, ...clusterOptions });
    const stopAll = async (): Promise<void> => {
      await fleet?.stop();
      await cp?.stop();
    };
    running.add(stopAll);
    const admin = await connect({ servers: cp.natsUrl.split(','), user: 'admin', pass: cp.passwords['admin']! });
    conns.push(admin);
    const events = await (await admin.jetstreamManager()).streams.info('STRATA_EVENTS');
    const cluster = (events as { cluster?: { replicas?: unknown[] } }).cluster;
    if (events.config.num_replicas !== replicas || !cluster) {
      throw new Error(`the event stream has ${events.config.num_replicas} replica(s)${cluster ? '' : ', not on a cluster'}: this needs the cluster harness (startControlPlane natsCluster/natsReplicas)`);
    }
    const nc = await connect({ servers: cp.natsUrl.split(','), user: 'api', pass: cp.passwords['api']!, inboxPrefix: '_INBOX_api' });
    conns.push(nc);
    const signer = commandSignerFrom({ STRATA_COMMAND_SIGNING_KEY: cp.commandKeys.signingKey });
    // One read-your-writes position for both (secgroup must have seen the port it groups), as the api keeps it.
    const seq = new SeqTracker();
    const clients: ScaleClients = { ipam: new IpamClient(nc, 60_000, seq, signer), secgroup: new SecgroupClient(nc, 60_000, seq, signer) };
    await registerScaleHosts(clients, REPLICA_HOSTS, C);
    const cloud = await buildScaleCloud(clients, hosts, { hosts: REPLICA_HOSTS, portsPerHost: 2, span: SPAN, concurrency: C }, log);
    fleet = await startFleet({ hosts, passwords: cp.passwords, servers: cp.natsUrl });
    const natsPids = natsServerPids();
    const latencies: number[] = [];
    const created: ScalePort[] = [];
    const run = await measured(
      natsPids.map((pid, i) => ({ name: `nats-${i + 1}`, pid })),
      async () => {
        let next = 0;
        await Promise.all(
          Array.from({ length: C }, async () => {
            for (let i = next++; i < REPLICA_PORTS; i = next++) {
              const n = cloud.networks[i % cloud.networks.length]!;
              const t = performance.now();
              created.push(await createScalePort(clients, cloud, n, n.hosts[i % n.hosts.length]!, n.groups[0]!, `tp-${i}`));
              latencies.push(performance.now() - t);
            }
          }),
        );
      },
    );
    const t = performance.now();
    await Promise.all(created.map((p) => fleet!.get(p.host).when((k) => k.peek().plugs[portDevice(p.id)] !== undefined)));
    return {
      replicas,
      ports: REPLICA_PORTS,
      seconds: run.seconds,
      commandsPerSecond: (2 * REPLICA_PORTS) / run.seconds,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      appliedS: (performance.now() - t) / 1000,
      nats: run.use,
    };
  } finally {
    running.clear();
    await fleet?.stop();
    for (const c of conns) if (!c.isClosed()) await c.close().catch(() => undefined);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function reportReplicas(rs: ReplicaResult[]): void {
  console.log('\n## Command throughput, 1 vs 3 replicas (three-node cluster; a command = port.create or port.setGroups)');
  const base = rs[0]!;
  table(
    ['replicas', 'ports', 'seconds', 'commands/s', 'vs first', 'create+group p50 ms', 'p99 ms', 'then all plugged s', 'nats-server CPU (per node)'],
    rs.map((r) => [
      String(r.replicas),
      fmt(r.ports),
      fmt(r.seconds, 1),
      fmt(r.commandsPerSecond, 1),
      `${fmt(r.commandsPerSecond / base.commandsPerSecond, 2)}x`,
      fmt(r.p50, 0),
      fmt(r.p99, 0),
      fmt(r.appliedS, 1),
      Object.values(r.nats).map((u) => fmt(u.share, 2)).join(' / '),
    ]),
  );
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

if (SIZES.length === 0 && REPLICAS.length === 0) throw new Error("nothing to run: SIZES and REPLICAS are both empty");
runHeader('scale simulation (issue 18)', { SIZES: SIZES.join(','), REPLICAS: REPLICAS.join(','), REPLICA_HOSTS, REPLICA_PORTS, PORTS_PER_HOST, SPAN, SAMPLES, C, SETTLE_MS, QUIET_S, QUICK: QUICK ? 1 : 0, ...(PROFILE ? { PROFILE: 1 } : {}) });
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
const replicaResults: ReplicaResult[] = [];
for (const r of REPLICAS) {
  replicaResults.push(await runReplicas(r));
  reportReplicas(replicaResults);
}
console.log('');
headline(results, replicaResults);
process.exit();

/** The last line (see the header): the per-change cost at the largest size against the smallest. */
function headline(rs: SizeResult[], reps: ReplicaResult[]): void {
  const goal = "≈ 1 (a change's cost does not depend on the number of hosts; anchor: OVN 11.4 s --wait=hv at 1,000 hosts)";
  const p50 = (r: SizeResult, kind: 'create' | 'move'): number => pct(r[kind].map((x) => x.allMs), 50);
  const first = rs[0];
  const last = rs[rs.length - 1];
  if (first && last && rs.length > 1) {
    printRatio(p50(last, 'create') / p50(first, 'create'), {
      measured: `port create → applied on every affected host p50 at ${fmt(last.hosts)} hosts`,
      baseline: `the same at ${fmt(first.hosts)} hosts, same run`,
      goal,
      also: `${fmt(p50(last, 'create'), 0)} vs ${fmt(p50(first, 'create'), 0)} ms; membership ${fmt(p50(last, 'move') / p50(first, 'move'), 2)}`,
    });
  } else if (last) {
    printRatio(p50(last, 'create') / last.queryMs, {
      measured: `port create → applied on every affected host p50 at ${fmt(last.hosts)} hosts`,
      baseline: 'an ipam query round trip at the same size, same run',
      goal,
    });
  } else {
    const a = reps[0];
    const b = reps[reps.length - 1];
    printRatio(a && b && a !== b ? b.commandsPerSecond / a.commandsPerSecond : NaN, {
      measured: `commands/s with ${b?.replicas ?? '?'} replicas`,
      baseline: `with ${a?.replicas ?? '?'} replica(s), same run`,
      goal: 'recorded',
    });
  }
}
