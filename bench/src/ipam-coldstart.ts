/**
 * IPAM cold start from a large log vs the raw JetStream read rate, in one run.
 *
 *   npm run -w @strata/bench ipam-coldstart            (EVENTS=1000000)
 *   QUICK=1 npm run -w @strata/bench ipam-coldstart    (EVENTS=100000; under 2 minutes)
 *
 * 1. Generate EVENTS valid IPAM events straight into STRATA_EVENTS (js.publish,
 *    bounded pipelining): EVENTS/1000 networks, each NetworkCreated (cloud
 *    aggregate) + SubnetCreated /20 + 998 PortCreated (distinct ids, IPs, MACs)
 *    on its network aggregate.
 * 2. Baselines in this process over the whole stream:
 *    a. raw: nats.js ordered consumer, count + JSON.parse (the baseline);
 *    a2. JetStreamEventStore.read() (the eventlog library's reader + decode);
 *    a3. + ipamEvents.decode (zod validation/upcast), which also proves every
 *        generated event is valid;
 *    a4. + evolve: the whole replay fold in-process; its state digest is the
 *        reference the IPAM instances must match.
 * 3. IPAM, full replay (IPAM_USE_SNAPSHOT=false): "state rebuilt" ms and wall
 *    time to "started"; digest compared. Snapshot policy on but with a period
 *    larger than the log, so nothing is written during replay and the graceful
 *    stop (SIGTERM) writes exactly one snapshot; its duration is reported.
 * 4. IPAM from that snapshot (IPAM_USE_SNAPSHOT=true): same timings, digest.
 *    (Skipped, and reported, if the snapshot could not be written.)
 * 5. Opt-in (SNAPSHOT_POLICY_REPLAY=1): full replay with the default snapshot
 *    policy (IPAM_SNAPSHOT_EVERY unset = every 50,000 applied events).
 * The raw read runs again at the end; the better of the two is the baseline.
 * A failing IPAM start is reported in the table, not thrown.
 *
 * Last line: ratio = IPAM full replay events/s ("state rebuilt") ÷ raw read
 * events/s (better of 2), goal ≥ 0.8; the snapshot start (spawn → started,
 * peak RSS; goal at 1M ports ≤ 5 s and ≤ 1 GiB) is on the same line.
 */
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventFilter, IPAM_CONTEXT, ipamEvents } from '@strata/contracts';
import { DEFAULT_EVENT_LOG_OPTIONS, JetStreamEventStore, snapshotBucket } from '@strata/eventlog';
import { foldIpam, initialState, stateDigest, type IpamState } from '@strata/ipam';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { fmt, intEnv, log, machine, printRatio, QUICK, table, withTimeout } from './support/common.js';
import { generateIpamLog, PER_NETWORK } from './support/ipam-log.js';
import { IpamClient, startIpam, type IpamProcess, type LogLine } from './support/ipam.js';

const EVENTS = intEnv('EVENTS', QUICK ? 100_000 : 1_000_000, PER_NETWORK, 4_000_000);
if (EVENTS % PER_NETWORK !== 0) throw new Error(`EVENTS must be a multiple of ${PER_NETWORK}`);
const NETWORKS = EVENTS / PER_NETWORK;
const PORTS = PER_NETWORK - 2;
const IN_FLIGHT = intEnv('IN_FLIGHT', 2_000, 1, 20_000);
/** Node flags for the IPAM child processes, e.g. IPAM_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const IPAM_NODE_ARGS = (process.env['IPAM_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const PHASE_TIMEOUT_MS = intEnv('PHASE_TIMEOUT_MS', 15 * 60_000);
const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;
const FILTER = eventFilter(IPAM_CONTEXT);

const dec = new TextDecoder();

interface Row {
  name: string;
  events: number;
  seconds: number;
  note?: string;
}

async function timed(name: string, f: () => Promise<{ events: number; note?: string }>): Promise<Row> {
  log(`${name} ...`);
  const t0 = performance.now();
  const r = await withTimeout(f(), PHASE_TIMEOUT_MS, name);
  const row: Row = { name, events: r.events, seconds: (performance.now() - t0) / 1000, ...(r.note ? { note: r.note } : {}) };
  log(`${name}: ${fmt(row.events)} events in ${row.seconds.toFixed(2)} s = ${fmt(row.events / row.seconds)} ev/s`);
  return row;
}

/** Baseline: nats.js ordered consumer over the stream, count + JSON.parse. */
async function rawRead(js: JetStreamClient, expected: number): Promise<{ events: number }> {
  const consumer = await js.consumers.get(STREAM, { filterSubjects: FILTER });
  const messages = await consumer.consume({ max_messages: 5_000 });
  let n = 0;
  try {
    for await (const m of messages) {
      JSON.parse(dec.decode(m.data));
      n++;
      if (m.info.pending === 0 || n >= expected) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  if (n !== expected) throw new Error(`raw read saw ${n} events, expected ${expected}`);
  return { events: n };
}

async function storeRead(store: JetStreamEventStore, stage: 'read' | 'decode' | 'evolve'): Promise<{ events: number; state?: IpamState }> {
  const state = initialState();
  let n = 0;
  for await (const e of store.read({ subject: FILTER })) {
    n++;
    if (stage === 'read') continue;
    const decoded = ipamEvents.decode(e);
    if (stage === 'evolve') foldIpam(state, decoded);
  }
  return stage === 'evolve' ? { events: n, state } : { events: n };
}

interface Start {
  proc: IpamProcess;
  rebuiltMs: number;
  wallRebuilt: number;
  wallStarted: number;
  loadedSnapshot?: LogLine | undefined;
}

interface Failed {
  error: string;
  seconds: number;
}

/** Start IPAM and time its cold start; a process that dies on the way is reported, not thrown. */
async function startAndTime(url: string, env: Record<string, string>, unset: string[] = []): Promise<Start | Failed> {
  const proc = startIpam(url, env, IPAM_NODE_ARGS, unset);
  try {
    const rebuilt = await proc.waitForLog('state rebuilt', PHASE_TIMEOUT_MS);
    const started = await withTimeout(proc.ready, 60_000, 'ipam started');
    return {
      proc,
      rebuiltMs: Number(rebuilt.fields['ms']),
      wallRebuilt: (rebuilt.at - proc.spawnedAt) / 1000,
      wallStarted: (started.at - proc.spawnedAt) / 1000,
      loadedSnapshot: proc.lines().find((l) => l.msg === 'loaded snapshot'),
    };
  } catch (err) {
    await proc.kill9();
    const fatal = proc.lines().find((l) => (l.fields['level'] as number) >= 50);
    const why = fatal ? `${fatal.msg}: ${String((fatal.fields['err'] as { message?: string } | undefined)?.message ?? '')}` : String(err).slice(0, 300);
    log(`ipam ${proc.pid} failed: ${why}`);
    return { error: why, seconds: (performance.now() - proc.spawnedAt) / 1000 };
  }
}

async function digestOf(url: string): Promise<{ seq: number; sha256: string }> {
  const client = await IpamClient.connect(url, 5 * 60_000);
  try {
    return await client.query('state.digest', {});
  } finally {
    await client.close();
  }
}

/** Resident set size of a process, from /proc (Linux). */
function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`# ipam-coldstart  EVENTS=${EVENTS} (${NETWORKS} networks x (NetworkCreated + SubnetCreated + ${PORTS} PortCreated)) QUICK=${QUICK ? 1 : 0}`);
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join('\n'));
  console.log(`bench: ${fileURLToPath(import.meta.url)}`);

  let nats: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  const procs: IpamProcess[] = [];
  try {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'bench-coldstart' });
    const js = nc.jetstream();
    const store = await JetStreamEventStore.open(nc);

    log(`generating ${fmt(EVENTS)} events, ${IN_FLIGHT} publishes in flight`);
    const gen = await withTimeout(generateIpamLog(js, NETWORKS, IN_FLIGHT), PHASE_TIMEOUT_MS, 'generate');
    const last = await store.lastSeq();
    if (last !== EVENTS) throw new Error(`stream holds ${last} events, expected ${EVENTS}`);
    const info = await (await nc.jetstreamManager()).streams.info(STREAM);
    log(`generated in ${gen.seconds.toFixed(1)} s (${fmt(EVENTS / gen.seconds)} ev/s), ${fmt(info.state.bytes / 2 ** 20)} MiB stored`);

    const rows: Row[] = [];
    rows.push(await timed('raw read: ordered consumer, JSON.parse', () => rawRead(js, EVENTS)));
    rows.push(await timed('JetStreamEventStore.read()', () => storeRead(store, 'read')));
    rows.push(await timed('  + ipamEvents.decode (zod)', () => storeRead(store, 'decode')));
    let replayed: IpamState | undefined;
    const fold = await timed('  + evolve (in-process replay)', async () => {
      const r = await storeRead(store, 'evolve');
      replayed = r.state;
      return r;
    });
    const d0 = performance.now();
    const reference = stateDigest(replayed!).sha256;
    fold.note = `then stateDigest ${((performance.now() - d0) / 1000).toFixed(2)} s`;
    replayed = undefined;
    rows.push(fold);

    const rawRate = (): number => Math.max(...rows.filter((r) => r.name.startsWith('raw read')).map((r) => r.events / r.seconds));
    const ipamRows: string[][] = [];
    const ipamRow = (name: string, st: Start | Failed, note: string): void => {
      if ('error' in st) {
        ipamRows.push([name, fmt(EVENTS), '', '', '', `FAILED after ${st.seconds.toFixed(1)} s: ${st.error}`]);
        return;
      }
      const rate = EVENTS / (st.rebuiltMs / 1000);
      ipamRows.push([name, fmt(EVENTS), (st.rebuiltMs / 1000).toFixed(2), fmt(rate), '@RATIO@' + String(rate), `spawn→started ${st.wallStarted.toFixed(2)} s; ${note}`]);
    };
    const digestNote = (d: { sha256: string } | undefined): string =>
      d === undefined ? 'digest not taken' : d.sha256 === reference ? 'digest = in-process replay' : `digest DIFFERS (${d.sha256})`;
    let mismatch = false;
    let replayRate = NaN;
    let snapshotStart = 'not measured';

    // b. Full replay. Snapshot period > log length: none during replay, one at the graceful stop.
    const full = await startAndTime(nats.url, { IPAM_USE_SNAPSHOT: 'false', IPAM_SNAPSHOT_EVERY: String(EVENTS * 10) });
    let snapshotOk = false;
    if ('error' in full) {
      ipamRow('IPAM full replay ("state rebuilt")', full, '');
    } else {
      procs.push(full.proc);
      const rss = rssMiB(full.proc.pid);
      const digest = await digestOf(nats.url);
      mismatch ||= digest.sha256 !== reference;
      log(`full replay: rebuilt ${full.rebuiltMs} ms, started after ${full.wallStarted.toFixed(2)} s, ${digestNote(digest)}`);
      ipamRow('IPAM full replay ("state rebuilt")', full, `peak RSS ${fmt(rss)} MiB; ${digestNote(digest)}`);
      replayRate = EVENTS / (full.rebuiltMs / 1000);

      // c1. Graceful stop: IPAM writes its snapshot (SnapshotPolicy.flush).
      const stopAt = performance.now();
      const exitAt = await full.proc.stop(PHASE_TIMEOUT_MS);
      const seconds = (exitAt - stopAt) / 1000;
      const saved = full.proc.lines().find((l) => l.msg === 'snapshot saved');
      if (saved) {
        snapshotOk = true;
        const objInfo = await (await js.views.os(snapshotBucket('ipam'))).info('ipam');
        const size = `${fmt((objInfo?.size ?? NaN) / 2 ** 20)} MiB`;
        log(`graceful stop with snapshot: ${seconds.toFixed(2)} s, snapshot ${size}`);
        ipamRows.push(['IPAM graceful stop, writing the snapshot', '', seconds.toFixed(2), '', '', `snapshot ${size} at seq ${String(saved.fields['seq'])}`]);
      } else {
        const fatal = full.proc.lines().find((l) => (l.fields['level'] as number) >= 50);
        const err = fatal ? `${fatal.msg}: ${String((fatal.fields['err'] as { message?: string } | undefined)?.message ?? '')}` : 'no "snapshot saved" line';
        log(`graceful stop wrote no snapshot (${err})`);
        ipamRows.push(['IPAM graceful stop, writing the snapshot', '', seconds.toFixed(2), '', '', `FAILED: ${err}`]);
      }
    }

    // c2. Start from that snapshot.
    if (snapshotOk) {
      const snap = await startAndTime(nats.url, { IPAM_USE_SNAPSHOT: 'true', IPAM_SNAPSHOT_EVERY: '0' });
      if ('error' in snap) {
        ipamRow('IPAM from snapshot ("state rebuilt")', snap, '');
      } else {
        procs.push(snap.proc);
        const rss = rssMiB(snap.proc.pid);
        const digest = await digestOf(nats.url);
        mismatch ||= digest.sha256 !== reference;
        if (!snap.loadedSnapshot) throw new Error('the snapshot start did not load the snapshot');
        log(`from snapshot: rebuilt ${snap.rebuiltMs} ms, started after ${snap.wallStarted.toFixed(2)} s, ${digestNote(digest)}`);
        ipamRow('IPAM from snapshot ("state rebuilt"; effective rate)', snap, `peak RSS ${fmt(rss)} MiB; ${digestNote(digest)}`);
        snapshotStart = `${snap.wallStarted.toFixed(2)} s, peak RSS ${fmt(rss)} MiB`;
        await snap.proc.stop(PHASE_TIMEOUT_MS);
      }
    } else {
      ipamRows.push(['IPAM from snapshot ("state rebuilt")', fmt(EVENTS), '', '', '', 'not measured: no snapshot was written']);
    }

    // d. Opt-in: full replay with the default snapshot policy (IPAM_SNAPSHOT_EVERY unset, i.e. every 50,000 events).
    if (process.env['SNAPSHOT_POLICY_REPLAY'] === '1') {
      const env = { IPAM_USE_SNAPSHOT: 'false' };
      const st = await startAndTime(nats.url, env, ['IPAM_SNAPSHOT_EVERY']);
      if ('error' in st) {
        ipamRow('IPAM full replay, default snapshot policy', st, '');
      } else {
        procs.push(st.proc);
        const rss = rssMiB(st.proc.pid);
        const saves = st.proc.lines().filter((l) => l.msg === 'snapshot saved').length;
        log(`full replay with default snapshot policy: rebuilt ${st.rebuiltMs} ms, ${saves} snapshots saved on the way`);
        ipamRow('IPAM full replay, default snapshot policy (every 50,000)', st, `${saves} snapshots written during replay; peak RSS ${fmt(rss)} MiB`);
        await st.proc.stop(PHASE_TIMEOUT_MS);
      }
    }

    // The raw baseline again, warm and after everything else: the better of the two runs is the baseline.
    rows.splice(1, 0, await timed('raw read again (after the IPAM runs)', () => rawRead(js, EVENTS)));

    const base = rawRate();
    console.log(
      `\nlog: ${fmt(EVENTS)} events, ${fmt(info.state.bytes / 2 ** 20)} MiB in JetStream, avg payload ${fmt(gen.bytes / EVENTS)} B; ` +
        `generated in ${gen.seconds.toFixed(1)} s (${fmt(EVENTS / gen.seconds)} ev/s, ${IN_FLIGHT} in flight)\n`,
    );
    table(
      ['run', 'events', 'seconds', 'events/s', 'vs raw read (better of 2)', 'note'],
      [
        ...rows.map((r) => [r.name, fmt(r.events), r.seconds.toFixed(2), fmt(r.events / r.seconds), (r.events / r.seconds / base).toFixed(3), r.note ?? '']),
        ...ipamRows.map((r) => r.map((c) => (c.startsWith('@RATIO@') ? (Number(c.slice(7)) / base).toFixed(3) : c))),
      ],
    );
    console.log(`\nload average at end: ${machine()['loadavg']}`);
    if (mismatch) throw new Error('an IPAM state digest differs from the in-process replay (see table)');
    printRatio(replayRate / base, {
      measured: `IPAM full replay ${fmt(replayRate)} events/s`,
      baseline: `raw read ${fmt(base)} events/s (better of 2)`,
      goal: '≥ 0.8; snapshot start of 1M ports ≤ 5 s and ≤ 1 GiB',
      also: `snapshot start of ${fmt(EVENTS)} events: ${snapshotStart}`,
      digits: 3,
    });
  } finally {
    for (const p of procs) await p.kill9();
    await nc?.close().catch(() => undefined);
    await nats?.stop();
  }
}

await main();
