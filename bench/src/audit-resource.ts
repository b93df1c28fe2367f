/**
 * Audit of one resource at a point on a large log, against reading that
 * resource's events alone, in one run.
 *
 *   npm run -w @strata/bench audit-resource              (EVENTS=1000000 REPEAT=7)
 *   QUICK=1 npm run -w @strata/bench audit-resource      (EVENTS=100000 REPEAT=3; under 2 minutes)
 *
 * 1. Generate EVENTS valid IPAM events (bench/src/support/ipam-log.ts: per
 *    network a NetworkCreated on the cloud aggregate, a subnet and 998 ports
 *    on the network's aggregate), then TAIL more events on network 0's
 *    aggregate (its first port renamed TAIL times), so that network's events
 *    span the whole log: its first 999 events at the start, TAIL at the end.
 *    A read of its subject alone must therefore cross the whole log.
 * 2. Start IPAM (full replay) as a child process.
 * 3. At the last position and at the middle one (timed in rounds, see rounds()):
 *    - baseline: JetStreamEventStore.read of network 0's aggregate subject
 *      alone up to the position ("reading that resource's events alone"),
 *      of the cloud aggregate alone (IPAM's network kinds also read the
 *      NetworkCreated/Deleted events there: `alsoIn`, which grows with the
 *      number of networks), and of both at once (what `history` reads);
 *    - `history` of network 0's first port and of network 0 through the
 *      running IPAM over NATS (IpamClient.query as an admin: the query the
 *      audit service asks), and the same answer in-process
 *      (resourceHistory with IPAM's history source), which separates the
 *      NATS and service cost from the read and the fold.
 *    Each ask runs once untimed, then REPEAT times; the median is reported.
 * 4. What the per-aggregate read avoids: folding the whole log up to the
 *    same position in-process with IPAM's fold, once per position. Its view
 *    of the port must equal the last version `history` returned (checked).
 * (The audit service's own `resource.locate` step is not measured here: it
 * answers from its index, without reading the log.)
 *
 * Last line: ratio = median `history` of the port over NATS at the last
 * position ÷ median read of both aggregates at once there (the baseline:
 * exactly the events `history` reads, so the ratio is the cost of the fold,
 * the views and the service on top of the read).
 */
import { connect, type NatsConnection } from 'nats';
import { fileURLToPath } from 'node:url';
import { CLOUD_AGGREGATE, eventFilter, IPAM_CONTEXT, networkAggregate, type ResourceHistoryReply, type ResourceHistoryRequest } from '@strata/contracts';
import { aggregateSubject, JetStreamEventStore } from '@strata/eventlog';
import { initialState, ipamHistorySource } from '@strata/ipam';
import { resourceHistory, writeCanonical, type Caller } from '@strata/service-kit';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { fmt, intEnv, log, machine, printRatio, QUICK, table, withTimeout } from './support/common.js';
import { generateIpamLog, networkIdOf, PER_NETWORK, portIdOf, portRenames } from './support/ipam-log.js';
import { ADMIN, IpamClient, startIpam, type IpamProcess } from './support/ipam.js';

const EVENTS = intEnv('EVENTS', QUICK ? 100_000 : 1_000_000, PER_NETWORK, 4_000_000);
if (EVENTS % PER_NETWORK !== 0) throw new Error(`EVENTS must be a multiple of ${PER_NETWORK}`);
const NETWORKS = EVENTS / PER_NETWORK;
/** PortUpdated events appended to network 0 at the end (each one a port version in the reply: keep replies under NATS's 1 MiB). */
const TAIL = intEnv('TAIL', 100, 1, 500);
const REPEAT = intEnv('REPEAT', QUICK ? 3 : 7, 1, 50);
const IN_FLIGHT = intEnv('IN_FLIGHT', 2_000, 1, 20_000);
const PHASE_TIMEOUT_MS = intEnv('PHASE_TIMEOUT_MS', 15 * 60_000);

const NETWORK_ID = networkIdOf(0);
const PORT_ID = portIdOf(0, 0);
const NETWORK_SUBJECT = aggregateSubject(networkAggregate(NETWORK_ID));
const CLOUD_SUBJECT = aggregateSubject(CLOUD_AGGREGATE);
const AUDITOR: Caller = { actor: ADMIN.actor ?? 'admin', tenant: ADMIN.tenant, admin: true, requestId: 'bench-audit-resource', at: new Date().toISOString() };

const canonical = (v: unknown): string => {
  let out = '';
  writeCanonical(v, (c) => (out += c));
  return out;
};

interface Timed<T> {
  ms: number;
  min: number;
  result: T;
}

type Asks = Record<string, () => Promise<unknown>>;
type Results<A extends Asks> = { [K in keyof A]: Timed<Awaited<ReturnType<A[K]>>> };

/**
 * Time asks in rounds: one untimed warm-up round (JIT, first connections),
 * then REPEAT rounds running every ask once in turn, so the swings of a
 * shared machine's load hit all of them alike. Median and fastest time per
 * ask, and its last result.
 */
async function rounds<A extends Asks>(label: string, asks: A): Promise<Results<A>> {
  const names = Object.keys(asks) as (keyof A & string)[];
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  const last = new Map<string, unknown>();
  for (let r = 0; r <= REPEAT; r++) {
    for (const name of names) {
      const t0 = performance.now();
      last.set(name, await withTimeout(asks[name]!(), PHASE_TIMEOUT_MS, `${label}: ${name}`));
      if (r > 0) times.get(name)!.push(performance.now() - t0);
    }
  }
  const out: Record<string, Timed<unknown>> = {};
  for (const name of names) {
    const t = times.get(name)!.sort((a, b) => a - b);
    out[name] = { ms: t[Math.floor((t.length - 1) / 2)]!, min: t[0]!, result: last.get(name) };
    log(`${label}: ${name}: median ${out[name].ms.toFixed(1)} ms (min ${t[0]!.toFixed(1)}, max ${t[t.length - 1]!.toFixed(1)})`);
  }
  return out as Results<A>;
}

async function count(store: JetStreamEventStore, subject: string, toSeq: number): Promise<number> {
  let n = 0;
  for await (const _ of store.read({ subject, toSeq })) n++;
  return n;
}

/** What `history` folds when nothing else is there: the whole IPAM log up to toSeq, with IPAM's own fold; the port's view at the end. */
async function foldWholeLog(store: JetStreamEventStore, toSeq: number): Promise<{ events: number; portView: string }> {
  const src = ipamHistorySource(store);
  const state = initialState();
  let events = 0;
  for await (const e of store.read({ subject: eventFilter(IPAM_CONTEXT), toSeq })) {
    events++;
    src.fold(state, e);
  }
  return { events, portView: canonical(src.view(state, 'port', PORT_ID)?.view ?? null) };
}

const lastView = (r: ResourceHistoryReply): string => canonical(r.versions[r.versions.length - 1]?.view ?? null);

async function main(): Promise<void> {
  const m = machine();
  console.log(`# audit-resource  EVENTS=${EVENTS} (${NETWORKS} networks x ${PER_NETWORK}) + TAIL=${TAIL} PortUpdated on network 0, REPEAT=${REPEAT} QUICK=${QUICK ? 1 : 0}`);
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join('\n'));
  console.log(`bench: ${fileURLToPath(import.meta.url)}`);

  let nats: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  let client: IpamClient | undefined;
  let ipam: IpamProcess | undefined;
  const problems: string[] = [];
  try {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'bench-audit-resource' });
    const js = nc.jetstream();
    const store = await JetStreamEventStore.open(nc);

    log(`generating ${fmt(EVENTS)} events, ${IN_FLIGHT} publishes in flight`);
    const gen = await withTimeout(generateIpamLog(js, NETWORKS, IN_FLIGHT), PHASE_TIMEOUT_MS, 'generate');
    // The tail: sequential acknowledged publishes (TAIL is small), so network 0's last events are the log's last.
    for (const [subject, payload] of portRenames(0, 0, TAIL)) await js.publish(subject, payload);
    const LAST = await store.lastSeq();
    if (LAST !== EVENTS + TAIL) throw new Error(`stream holds ${LAST} events, expected ${EVENTS + TAIL}`);
    const info = await (await nc.jetstreamManager()).streams.info(store.options.streamName);
    log(`generated in ${gen.seconds.toFixed(1)} s, ${fmt(info.state.bytes / 2 ** 20)} MiB stored`);
    // The middle of the log: network 0's first 999 events are before it, its TAIL after it, and no event of it in between.
    const MID = Math.floor(EVENTS / 2);

    log('starting IPAM (full replay)');
    // No snapshot: not during replay (period longer than the log), not at the stop (SIGKILL).
    ipam = startIpam(nats.url, { IPAM_USE_SNAPSHOT: 'false', IPAM_SNAPSHOT_EVERY: String(LAST * 10) });
    const rebuilt = await ipam.waitForLog('state rebuilt', PHASE_TIMEOUT_MS);
    await withTimeout(ipam.ready, 60_000, 'ipam started');
    const replaySeconds = Number(rebuilt.fields['ms']) / 1000;
    log(`IPAM started, state rebuilt in ${replaySeconds.toFixed(1)} s`);
    client = await IpamClient.connect(nats.url, PHASE_TIMEOUT_MS);

    const rows: string[][] = [];
    const whole: { position: string; toSeq: number; netOnly: number; both: number; histPort: ResourceHistoryReply; natsPortMs: number }[] = [];
    for (const [position, toSeq] of [
      ['last', LAST],
      ['middle', MID],
    ] as const) {
      const at = `${position} (${fmt(toSeq)})`;
      const ask = (kind: 'port' | 'network'): ResourceHistoryRequest => ({ kind, id: kind === 'port' ? PORT_ID : NETWORK_ID, aggregateId: NETWORK_ID, toSeq });
      const src = ipamHistorySource(store);
      const { net, cloud, both, natsPort, natsNet, localPort, localNet } = await rounds(position, {
        net: () => count(store, NETWORK_SUBJECT, toSeq),
        cloud: () => count(store, CLOUD_SUBJECT, toSeq),
        both: async () => {
          const [a, b] = await Promise.all([count(store, NETWORK_SUBJECT, toSeq), count(store, CLOUD_SUBJECT, toSeq)]);
          return a + b;
        },
        natsPort: () => client!.query('history', ask('port'), ADMIN),
        natsNet: () => client!.query('history', ask('network'), ADMIN),
        localPort: () => resourceHistory(src, AUDITOR, ask('port')),
        localNet: () => resourceHistory(src, AUDITOR, ask('network')),
      });

      for (const [what, a, b] of [
        ['port', natsPort.result, localPort.result],
        ['network', natsNet.result, localNet.result],
      ] as const) {
        if (canonical(a.versions) !== canonical(b.versions)) problems.push(`${at}: ${what} history over NATS differs from in-process`);
        if (a.eventsRead !== both.result) problems.push(`${at}: ${what} history read ${a.eventsRead} events, the two aggregates hold ${both.result}`);
      }
      const ratio = (ms: number, base: Timed<number>): string => (ms / base.ms).toFixed(2);
      const row = (what: string, t: Timed<unknown>, read: number, note: string): string[] => [
        what,
        at,
        fmt(read),
        t.ms.toFixed(1),
        t.min.toFixed(1),
        ratio(t.ms, net),
        ratio(t.ms, both),
        note,
      ];
      rows.push(
        row("baseline: read network 0's aggregate alone", net, net.result, 'JetStreamEventStore.read, its subject'),
        row('read the cloud aggregate alone (alsoIn)', cloud, cloud.result, 'one NetworkCreated per network created up to here'),
        row('baseline: both aggregates at once', both, both.result, 'what history reads'),
        row('history port, IPAM over NATS', natsPort, natsPort.result.eventsRead, `${natsPort.result.versions.length} version(s)`),
        row('history port, in-process', localPort, localPort.result.eventsRead, 'resourceHistory + IPAM fold'),
        row('history network, IPAM over NATS', natsNet, natsNet.result.eventsRead, `${natsNet.result.versions.length} version(s)`),
        row('history network, in-process', localNet, localNet.result.eventsRead, ''),
      );
      whole.push({ position, toSeq, netOnly: net.ms, both: both.ms, histPort: natsPort.result, natsPortMs: natsPort.ms });
    }

    // The alternative without per-aggregate reads, after IPAM is gone (its memory and CPU back).
    await ipam.kill9();
    await client.close();
    client = undefined;
    for (const w of whole) {
      log(`${w.position}: folding the whole log up to ${fmt(w.toSeq)} in-process ...`);
      const t0 = performance.now();
      const r = await withTimeout(foldWholeLog(store, w.toSeq), PHASE_TIMEOUT_MS, 'whole-log fold');
      const ms = performance.now() - t0;
      log(`${w.position}: whole-log fold ${(ms / 1000).toFixed(1)} s`);
      const same = r.portView === lastView(w.histPort);
      if (!same) problems.push(`${w.position}: the whole-log fold's port differs from history's last version`);
      rows.push([
        'avoided: fold the whole log to here (IPAM fold)',
        `${w.position} (${fmt(w.toSeq)})`,
        fmt(r.events),
        ms.toFixed(1),
        '(once)',
        (ms / w.netOnly).toFixed(1),
        (ms / w.both).toFixed(1),
        same ? "port's view = history's last version" : 'port view DIFFERS',
      ]);
    }

    console.log(
      `\nlog: ${fmt(LAST)} events (${fmt(EVENTS)} generated + ${TAIL} PortUpdated on network 0 at the end), ${fmt(info.state.bytes / 2 ** 20)} MiB in JetStream; ` +
        `generated in ${gen.seconds.toFixed(1)} s; IPAM full replay ${replaySeconds.toFixed(1)} s\n` +
        `network 0: ${fmt(PER_NETWORK - 1)} events at seq 2..${fmt(PER_NETWORK)}, ${TAIL} at seq ${fmt(EVENTS + 1)}..${fmt(LAST)}; ` +
        `cloud aggregate: ${fmt(NETWORKS)} events spread over the log (one per network)\n`,
    );
    table(['ask', 'position', 'events read', 'median ms', 'min ms', 'vs network alone', 'vs both aggregates', 'note'], rows);
    console.log(`\nload average at end: ${machine()['loadavg']}`);
    if (problems.length > 0) throw new Error(`checks failed:\n${problems.join('\n')}`);
    const atLast = whole.find((w) => w.position === 'last');
    printRatio(atLast ? atLast.natsPortMs / atLast.both : NaN, {
      measured: `history of a port over NATS at the last position, median ${fmt(atLast?.natsPortMs ?? NaN, 1)} ms`,
      baseline: `reading both aggregates it reads, median ${fmt(atLast?.both ?? NaN, 1)} ms`,
      goal: 'recorded',
    });
  } finally {
    await client?.close().catch(() => undefined);
    await ipam?.kill9();
    await nc?.close().catch(() => undefined);
    await nats?.stop();
  }
}

await main();
