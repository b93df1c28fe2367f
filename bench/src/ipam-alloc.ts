/**
 * IPAM port allocation rate vs raw JetStream publish rate, in one run.
 *
 *   npm run -w @strata/bench ipam-alloc          (N=5000 C=64 WARMUP=200 by default)
 *   QUICK=1 npm run -w @strata/bench ipam-alloc  (N=2000 WARMUP=100; under 2 minutes)
 *
 * One nats-server (loopback, file store). For each IPAM setup (1 instance,
 * then 3 instances in the queue group) a fresh network with one /16 subnet
 * gets N `port.create` commands through IpamClient with C in flight.
 * Baseline in the same run, on the same server, before and after IPAM:
 * js.publish of messages of the size IPAM's PortCreated events have, with
 * the headers IPAM's append sends (Nats-Msg-Id, and with/without
 * Nats-Expected-Last-Subject-Sequence), to a scratch stream with the same
 * settings as STRATA_EVENTS, same N and C.
 *
 * Last line: IPAM port.create/s with one instance ÷ raw pipelined js.publish/s
 * with the expected-last-subject-seq header (C in flight, the better of the
 * before/after runs), goal ≥ 0.3; also three instances ÷ one (goal ≥ 1.5).
 */
import { randomUUID } from 'node:crypto';
import { connect, headers, nanos, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import { aggregateSubject, DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { networkAggregate } from '@strata/contracts';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { QUICK, fmt, intEnv, log, machine, percentile, printRatio, runPool, table, withTimeout } from './support/common.js';
import { IpamClient, startIpam, type IpamProcess } from './support/ipam.js';

const N = intEnv('N', QUICK ? 2_000 : 5_000, 1, 60_000);
const C = intEnv('C', 64, 1, 1_024);
const WARMUP = intEnv('WARMUP', QUICK ? 100 : 200, 0, 5_000);
const PHASE_TIMEOUT_MS = 10 * 60_000;
/** Node flags for the IPAM child processes, e.g. IPAM_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const IPAM_NODE_ARGS = (process.env['IPAM_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const tenant = { tenant: 'bench', admin: false };

interface Result {
  name: string;
  ops: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
  note?: string;
}

function summarise(name: string, latencies: Float64Array, seconds: number, errors: number, note?: string): Result {
  return {
    name,
    ops: latencies.length / seconds,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    ...(note ? { note } : {}),
  };
}

/** Scratch stream shaped like STRATA_EVENTS (file, limits, same duplicate window), on other subjects. */
async function scratchStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: 'BENCH_SCRATCH',
    subjects: ['bench.scratch.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: DEFAULT_EVENT_LOG_OPTIONS.replicas,
    duplicate_window: nanos(DEFAULT_EVENT_LOG_OPTIONS.duplicateWindowMs),
    discard: DiscardPolicy.Old,
  });
}

type RawMode = 'no-expect' | 'expect';

/**
 * N publishes, C in flight. Worker k owns subject `<run>.<k>`; in `expect` mode
 * each publish carries the subject's last sequence (known from the previous ack),
 * so the server checks it on every message and every check passes.
 */
async function rawPublish(
  js: JetStreamClient,
  run: string,
  mode: RawMode,
  payload: Uint8Array,
  extraHeaders: [string, string][],
  count: number,
  concurrency: number,
): Promise<Result> {
  const lastSeq = new Map<number, number>();
  let errors = 0;
  const t0 = performance.now();
  const lat = await withTimeout(
    runPool(count, concurrency, async (_i, worker) => {
      const h = headers();
      h.set('Nats-Msg-Id', randomUUID());
      for (const [k, v] of extraHeaders) h.set(k, v);
      if (mode === 'expect') h.set('Nats-Expected-Last-Subject-Sequence', String(lastSeq.get(worker) ?? 0));
      try {
        const ack = await js.publish(`bench.scratch.${run}.${worker}`, payload, { headers: h });
        lastSeq.set(worker, ack.seq);
      } catch (err) {
        errors++;
        if (errors === 1) log(`raw ${run}: first error: ${String(err)}`);
      }
    }),
    PHASE_TIMEOUT_MS,
    `raw ${run}`,
  );
  const seconds = (performance.now() - t0) / 1000;
  return summarise(
    `raw js.publish, ${mode === 'expect' ? 'with' : 'without'} expected-last-subject-seq, ${concurrency} in flight`,
    lat,
    seconds,
    errors,
  );
}

async function portCreates(client: IpamClient, networkId: string, count: number, concurrency: number, tag: string): Promise<{ lat: Float64Array; seconds: number; errors: number; ips: Set<string> }> {
  const ips = new Set<string>();
  let errors = 0;
  const t0 = performance.now();
  const lat = await withTimeout(
    runPool(count, concurrency, async (i) => {
      try {
        const p = await client.command('port.create', { networkId, name: `${tag}-${i}` }, tenant);
        for (const f of p.fixedIps) ips.add(f.ip);
      } catch (err) {
        errors++;
        if (errors === 1) log(`${tag}: first error: ${String(err)}`);
      }
    }),
    PHASE_TIMEOUT_MS,
    tag,
  );
  return { lat, seconds: (performance.now() - t0) / 1000, errors, ips };
}

async function metric(proc: IpamProcess, name: string): Promise<number> {
  const connected = proc.lines().find((l) => l.msg === 'connected');
  const http = connected?.fields['http'];
  if (typeof http !== 'string') return NaN;
  try {
    const text = await (await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return NaN;
  }
}

async function ipamPhase(client: IpamClient, instances: IpamProcess[], label: string, cidr: string): Promise<Result> {
  const network = await client.command('network.create', { name: `bench-${label}` }, tenant);
  await client.command('subnet.create', { networkId: network.id, cidr }, tenant);
  if (WARMUP > 0) await portCreates(client, network.id, WARMUP, C, `${label}-warmup`);
  const conflictsBefore = (await Promise.all(instances.map((p) => metric(p, 'strata_ipam_conflicts_total')))).reduce((a, b) => a + b, 0);
  log(`${label}: ${N} port.create, ${C} in flight`);
  const r = await portCreates(client, network.id, N, C, label);
  const conflicts = (await Promise.all(instances.map((p) => metric(p, 'strata_ipam_conflicts_total')))).reduce((a, b) => a + b, 0) - conflictsBefore;
  if (r.errors === 0 && r.ips.size !== N) throw new Error(`${label}: ${r.ips.size} distinct addresses for ${N} ports`);
  return summarise(`IPAM port.create, ${instances.length} instance${instances.length > 1 ? 's' : ''}, ${C} in flight`, r.lat, r.seconds, r.errors, `OCC conflicts retried: ${fmt(conflicts)}`);
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`# ipam-alloc  N=${N} C=${C} warmup=${WARMUP} QUICK=${QUICK ? 1 : 0}`);
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join('\n'));

  let nats: NatsServerHandle | undefined;
  const instances: IpamProcess[] = [];
  let client: IpamClient | undefined;
  let nc: NatsConnection | undefined;
  try {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'bench-raw' });
    const js = nc.jetstream();
    await scratchStream(nc);

    instances.push(startIpam(nats.url, { IPAM_SNAPSHOT_EVERY: '0' }, IPAM_NODE_ARGS));
    await withTimeout(instances[0]!.ready, 60_000, 'ipam #1 ready');
    client = await IpamClient.connect(nats.url, 60_000);

    // Size of a real PortCreated event as IPAM writes it: the raw baseline publishes messages of that size.
    const probeNet = await client.command('network.create', { name: 'bench-probe' }, tenant);
    await client.command('subnet.create', { networkId: probeNet.id, cidr: '10.0.0.0/16' }, tenant);
    await client.command('port.create', { networkId: probeNet.id, name: 'bench-x1-0000' }, tenant);
    const jsm = await nc.jetstreamManager();
    const sample = await jsm.streams.getMessage(DEFAULT_EVENT_LOG_OPTIONS.streamName, {
      last_by_subj: aggregateSubject(networkAggregate(probeNet.id)),
    });
    const headerNames = sample.header ? [...sample.header.keys()] : [];
    // Headers IPAM sent besides the two the baseline sets itself (e.g. traceparent), copied as they are.
    const extra: [string, string][] = headerNames
      .filter((k) => !/^Nats-(Msg-Id|Expected-Last-Subject-Sequence)$/i.test(k))
      .map((k) => [k, sample.header!.get(k)]);
    const payload = new Uint8Array(sample.data.length).fill(0x61);
    log(`PortCreated event: ${sample.data.length} bytes, headers: ${headerNames.join(', ')}`);

    const results: Result[] = [];
    const rawRuns = async (when: string): Promise<Result[]> => {
      const out: Result[] = [];
      for (const mode of ['no-expect', 'expect'] as RawMode[]) {
        await rawPublish(js, `${when}-warm-${mode}`, mode, payload, extra, Math.min(500, N), C);
        const r = await rawPublish(js, `${when}-${mode}`, mode, payload, extra, N, C);
        out.push({ ...r, name: `${r.name} (${when})` });
        log(`${r.name} (${when}): ${fmt(r.ops)} ops/s`);
      }
      const serial = await rawPublish(js, `${when}-serial`, 'expect', payload, extra, Math.min(N, 2_000), 1);
      out.push({ ...serial, name: `raw js.publish, with expected-last-subject-seq, 1 in flight, one subject (${when})` });
      return out;
    };

    results.push(...(await rawRuns('before')));

    results.push(await ipamPhase(client, instances, 'x1', '10.1.0.0/16'));
    log(`x1: ${fmt(results.at(-1)!.ops)} ops/s`);

    instances.push(startIpam(nats.url, { IPAM_SNAPSHOT_EVERY: '0' }, IPAM_NODE_ARGS), startIpam(nats.url, { IPAM_SNAPSHOT_EVERY: '0' }, IPAM_NODE_ARGS));
    await withTimeout(Promise.all(instances.map((i) => i.ready)), 60_000, 'ipam #2, #3 ready');
    results.push(await ipamPhase(client, instances, 'x3', '10.2.0.0/16'));
    log(`x3: ${fmt(results.at(-1)!.ops)} ops/s`);

    results.push(...(await rawRuns('after')));

    const rawBest = (mode: 'without' | 'with'): number =>
      Math.max(...results.filter((r) => r.name.startsWith(`raw js.publish, ${mode} expected`) && r.name.includes(`${C} in flight`)).map((r) => r.ops));
    const rawNoExpect = rawBest('without');
    const rawExpect = rawBest('with');
    const rawSerial = Math.max(...results.filter((r) => r.name.includes('1 in flight')).map((r) => r.ops));

    console.log(`\nPortCreated event size ${sample.data.length} B; headers ${headerNames.join(', ')}; load average at end: ${machine()['loadavg']}\n`);
    table(
      ['run', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'note'],
      results.map((r) => [r.name, fmt(r.ops), fmt(r.p50, 2), fmt(r.p99, 2), String(r.errors), r.note ?? '']),
    );
    console.log('\nRatios (IPAM / raw; raw = the better of the before/after runs):\n');
    table(
      ['IPAM run', '/ raw no-expect (C in flight)', '/ raw expect (C in flight)', '/ raw expect (1 in flight)'],
      results
        .filter((r) => r.name.startsWith('IPAM'))
        .map((r) => [r.name, (r.ops / rawNoExpect).toFixed(3), (r.ops / rawExpect).toFixed(3), (r.ops / rawSerial).toFixed(3)]),
    );
    const one = results.find((r) => r.name.startsWith('IPAM port.create, 1 instance,'))!;
    const three = results.find((r) => r.name.startsWith('IPAM port.create, 3 instances'))!;
    console.log('');
    printRatio(one.ops / rawExpect, {
      measured: `IPAM port.create/s, 1 instance, ${C} in flight`,
      baseline: `raw pipelined js.publish/s with expected-last-subject-seq, ${C} in flight, same server and run`,
      goal: '≥ 0.3; 3 instances ≥ 1.5 × 1',
      also: `3 instances ÷ 1 = ${(three.ops / one.ops).toFixed(2)}`,
      digits: 3,
    });
  } finally {
    await client?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await Promise.all(instances.map((i) => i.stop(30_000)));
    await nats?.stop();
  }
}

await main();
