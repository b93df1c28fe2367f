/**
 * A host at a point on a large log, with and without hostview's audit
 * snapshots, against the raw JetStream read of the same events, in one run.
 *
 *   npm run -w @strata/bench host-at                    (EVENTS=1000000 SNAPSHOT_EVERY=100000)
 *   QUICK=1 npm run -w @strata/bench host-at            (EVENTS=50000 SNAPSHOT_EVERY=20000; under 2 minutes)
 *
 * 1. Generate HOSTS hypervisors, then EVENTS valid IPAM events (EVENTS/1000
 *    networks: NetworkCreated + SubnetCreated + 998 PortCreated, the ports of
 *    network n bound to hypervisor n mod HOSTS) straight into STRATA_EVENTS:
 *    a hypervisor realises EVENTS/1000/HOSTS networks, and its view has a
 *    key per port of those.
 * 2. The point: AT (default 0.9) of the log (so a snapshot lies some way
 *    before it). Baseline: the raw read of the log up to the point (ordered
 *    consumer, count + JSON.parse).
 * 3. hostAt (services/hostview/src/app/host-at.ts, the query's own code)
 *    for one hypervisor at the point, without snapshots: the whole log up to
 *    the point decoded and folded, the host derived.
 * 4. Audit snapshots: the log folded once in-process, the model saved every
 *    SNAPSHOT_EVERY events into hostview's bucket (what partition 0 does
 *    live; each save's cost reported).
 * 5. hostAt at the same point with the snapshots: the nearest snapshot
 *    loaded, the rest replayed. Its view must equal step 3's.
 * 6. The same with fromSeq = point - INTERVAL: the view at both ends and
 *    every change between.
 *
 * Last line: ratio = seconds of hostAt at the point from the nearest audit
 * snapshot (step 5) ÷ seconds of hostAt at the same point by a full replay
 * from the start of the log (step 3, the baseline: the same query, same
 * process, same view, without snapshots). Below 1 the snapshots pay; on this
 * log, where every event adds to the model, they are at their worst.
 */
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVENT_LOG_OPTIONS, JetStreamEventStore, snapshotBucket, SnapshotStore } from '@strata/eventlog';
import { applyEvent, AuditSnapshots, emptyModel, hostAt, jetStreamObjectNames, toModelEvent } from '@strata/hostview';
import { createLogger } from '@strata/runtime';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { fmt, intEnv, log, machine, printRatio, QUICK, table, withTimeout } from './support/common.js';
import { generateIpamLog, PER_NETWORK, registerHosts } from './support/ipam-log.js';

const EVENTS = intEnv('EVENTS', QUICK ? 50_000 : 1_000_000, PER_NETWORK, 4_000_000);
if (EVENTS % PER_NETWORK !== 0) throw new Error(`EVENTS must be a multiple of ${PER_NETWORK}`);
const HOSTS = intEnv('HOSTS', 100, 1, 10_000);
const SNAPSHOT_EVERY = intEnv('SNAPSHOT_EVERY', QUICK ? 20_000 : 100_000, 1);
const INTERVAL = intEnv('INTERVAL', 5_000, 1);
const AT = Number(process.env['AT'] ?? '0.9');
const IN_FLIGHT = intEnv('IN_FLIGHT', 2_000, 1, 20_000);
const PHASE_TIMEOUT_MS = intEnv('PHASE_TIMEOUT_MS', 30 * 60_000);
const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;
const dec = new TextDecoder();
const logger = createLogger('bench-host-at', 'warn');

async function rawRead(js: JetStreamClient, toSeq: number): Promise<number> {
  const consumer = await js.consumers.get(STREAM);
  const messages = await consumer.consume({ max_messages: 5_000 });
  let n = 0;
  try {
    for await (const m of messages) {
      JSON.parse(dec.decode(m.data));
      n++;
      if (m.seq >= toSeq || m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  return n;
}

async function timed<T>(name: string, f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  log(`${name} ...`);
  const t0 = performance.now();
  const value = await withTimeout(f(), PHASE_TIMEOUT_MS, name);
  const seconds = (performance.now() - t0) / 1000;
  log(`${name}: ${seconds.toFixed(2)} s`);
  return { value, seconds };
}

async function main(): Promise<void> {
  console.log(`# host-at  EVENTS=${EVENTS} HOSTS=${HOSTS} SNAPSHOT_EVERY=${SNAPSHOT_EVERY} AT=${AT} INTERVAL=${INTERVAL} QUICK=${QUICK ? 1 : 0}`);
  console.log(Object.entries(machine()).map(([k, v]) => `${k}: ${v}`).join('\n'));
  console.log(`bench: ${fileURLToPath(import.meta.url)}`);
  let nats: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  try {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'bench-host-at' });
    const js = nc.jetstream();
    const store = await JetStreamEventStore.open(nc);
    const bucket = snapshotBucket('hostview');
    const snapshotStore = await SnapshotStore.open(nc, { bucket });
    const snapshots = new AuditSnapshots({ store: snapshotStore, objects: await jetStreamObjectNames(nc, bucket) }, logger);

    log(`generating ${fmt(HOSTS)} hypervisors and ${fmt(EVENTS)} events`);
    const hosts = await registerHosts(js, HOSTS);
    const gen = await withTimeout(generateIpamLog(js, EVENTS / PER_NETWORK, IN_FLIGHT, (n) => hosts[n % HOSTS]!), PHASE_TIMEOUT_MS, 'generate');
    const last = await store.lastSeq();
    log(`generated ${fmt(last)} events in ${gen.seconds.toFixed(1)} s`);
    const at = Math.max(1, Math.floor(last * AT));
    const hostId = hosts[7 % HOSTS]!;

    const raw = await timed(`raw read of ${fmt(at)} events`, () => rawRead(js, at));
    if (raw.value !== at) throw new Error(`raw read saw ${raw.value} events, expected ${at}`);
    const plain = await timed('host at the point, no snapshot', () => hostAt({ hostId, toSeq: at }, { store, maxReplay: Number.MAX_SAFE_INTEGER }));

    // What partition 0 does live: the model saved every SNAPSHOT_EVERY events (here in one pass over the log).
    const saves: number[] = [];
    const fold = await timed(`fold the log, an audit snapshot every ${fmt(SNAPSHOT_EVERY)} events`, async () => {
      const model = emptyModel();
      // One read per period, closed before the save: a save serialises the model synchronously (seconds at this
      // size), which an open ordered consumer would not survive (its heartbeats missed).
      for (let from = 1; from <= last; from += SNAPSHOT_EVERY) {
        const to = Math.min(last, from + SNAPSHOT_EVERY - 1);
        for await (const stored of store.read({ fromSeq: from, toSeq: to })) {
          const e = toModelEvent(stored);
          if (e) applyEvent(model, e);
          else model.seq = stored.seq;
        }
        if (to % SNAPSHOT_EVERY !== 0) continue;
        const t0 = performance.now();
        await snapshots.save(model);
        saves.push((performance.now() - t0) / 1000);
        log(`audit snapshot at ${fmt(to)} saved in ${saves.at(-1)!.toFixed(1)} s`);
      }
    });
    const info = await (await nc.jetstreamManager()).streams.info(`OBJ_${bucket}`);
    // Only its position is kept: two models of this size at once cost long GC pauses.
    const load = await timed('load the nearest audit snapshot alone', async () => (await snapshots.nearest(at))?.seq ?? 0);
    const withSnap = await timed('host at the point, from the nearest snapshot', () => hostAt({ hostId, toSeq: at }, { store, snapshots, maxReplay: Number.MAX_SAFE_INTEGER }));
    const same = JSON.stringify(withSnap.value.view) === JSON.stringify(plain.value.view);
    if (!same) throw new Error('the view from a snapshot differs from the view from the start of the log');
    const interval = await timed(`host between point - ${fmt(INTERVAL)} and the point, from the nearest snapshot`, () =>
      hostAt({ hostId, fromSeq: at - INTERVAL, toSeq: at }, { store, snapshots, maxReplay: Number.MAX_SAFE_INTEGER }),
    );

    const base = raw.seconds;
    const row = (name: string, events: number, seconds: number, note: string): string[] => [name, fmt(events), seconds.toFixed(2), (seconds / base).toFixed(2), note];
    console.log(`\npoint: position ${fmt(at)} of ${fmt(last)}; host ${hostId}: ${Object.keys(plain.value.view).length} keys`);
    table(
      ['what', 'events read', 's', '× raw read', 'note'],
      [
        row('raw read up to the point (baseline)', raw.value, raw.seconds, 'ordered consumer, JSON.parse'),
        row('host at the point, no snapshot', plain.value.replayed, plain.seconds, 'decode + fold from the start, host derived'),
        row('host at the point, audit snapshot', withSnap.value.replayed, withSnap.seconds, `snapshot at ${fmt(withSnap.value.snapshotSeq)} loaded, the rest replayed; same view`),
        row('  loading that snapshot alone (separately)', 0, load.seconds, `the model at ${fmt(load.value)} (object store read, checksum, JSON)`),
        row(`host over the last ${fmt(INTERVAL)} events, audit snapshot`, interval.value.replayed, interval.seconds, `${interval.value.from!.changes.length} events changed the host`),
      ],
    );
    const mean = saves.reduce((a, b) => a + b, 0) / Math.max(1, saves.length);
    console.log(
      `\naudit snapshots: ${saves.length} saved while folding the log (${fold.seconds.toFixed(1)} s in all), ${mean.toFixed(2)} s each on average (last ${saves.at(-1)?.toFixed(2) ?? '-'} s), ${fmt(info.state.bytes / 2 ** 20)} MiB in the bucket`,
    );
    printRatio(withSnap.seconds / plain.seconds, {
      measured: `host at the point from the audit snapshot at ${fmt(withSnap.value.snapshotSeq)} ${withSnap.seconds.toFixed(2)} s`,
      baseline: `full replay from the start ${plain.seconds.toFixed(2)} s`,
      goal: 'recorded (< 1: the snapshot pays)',
      also: `full replay ÷ raw read ${(plain.seconds / raw.seconds).toFixed(2)}`,
    });
  } finally {
    await nc?.close();
    await nats?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
