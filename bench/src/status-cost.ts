/**
 * What realisation status costs on the bus: messages per second with
 * HOSTS idle agents, and with one security-group membership change per
 * second, broken down by kind, in the same run.
 *
 *   npm run -s -w @strata/bench status-cost
 *   HOSTS=20 IDLE_S=30 CHANGES=30 CONVERGE_S=15 (defaults)
 *   QUICK=1 npm run -s -w @strata/bench status-cost   (HOSTS=5 IDLE_S=10 CHANGES=10 CONVERGE_S=8; under 2 minutes)
 *
 * Topology: support/secgroup.ts buildTopology (one network per host, group
 * app on every host naming group web as remote group), so every change is
 * a member key on every host: the worst case for status traffic, since
 * every agent applies and reports every change.
 *
 * Counted by one admin subscription to `>` (every message the server
 * routes to a subscriber: what the bus carries), by subject:
 *   status      agent reports, heartbeats, resync requests (`strata.status.*`,
 *               `strata.agentctl.*`), view positions (`<h>.position.view`
 *               puts), hostview position queries and status changes
 *               (`strata.realised.*`)
 *   the rest    events, host-view writes other than positions, commands,
 *               queries, JetStream acks and API calls, replies
 * Baseline (same run): the messages the changes themselves cost without
 * status (the rest), per change.
 *
 * Last line: status messages per membership change ÷ the change's own
 * messages per change (events, host-view writes, commands, JetStream acks,
 * replies), both counted by the same subscription over the same changes.
 * Fair because the denominator is exactly the work the change needs with
 * or without status (every change touches every host, so both scale with
 * HOSTS), and the numerator is what status adds on top of it. (The agents
 * have no switch that turns reporting off, so "the same run without status"
 * cannot be measured without changing them.) The idle rate is printed
 * beside it.
 */
import type { Msg } from 'nats';
import { QUICK, fmt, intEnv, log, printRatio, table } from './support/common.js';
import { runHeader, sleep, withLab } from './support/overlay.js';
import { buildTopology, startAgents } from './support/secgroup.js';

const HOSTS = intEnv('HOSTS', QUICK ? 5 : 20, 1, 60);
const IDLE_S = intEnv('IDLE_S', QUICK ? 10 : 30, 5, 600);
const CHANGES = intEnv('CHANGES', QUICK ? 10 : 30, 5, 600);
/** Seconds the agents get to converge after they start, before anything is counted. */
const CONVERGE_S = intEnv('CONVERGE_S', QUICK ? 8 : 15, 1, 600);

const KINDS = ['report', 'heartbeat', 'resync', 'view position', 'positions query', 'status change', 'events', 'view writes', 'jetstream', 'requests', 'replies', 'other'] as const;
type Kind = (typeof KINDS)[number];
const STATUS_KINDS: ReadonlySet<Kind> = new Set(['report', 'heartbeat', 'resync', 'view position', 'positions query', 'status change']);

function kindOf(subject: string): Kind {
  if (/^strata\.status\.[^.]+$/.test(subject)) return 'report';
  if (/^strata\.status\.[^.]+\.heartbeat$/.test(subject)) return 'heartbeat';
  if (subject.startsWith('strata.agentctl.')) return 'resync';
  if (subject.startsWith('$KV.strata-hostview-') && subject.endsWith('.position.view')) return 'view position';
  if (subject === 'strata.qry.hostview.positions') return 'positions query';
  if (subject.startsWith('strata.realised.')) return 'status change';
  if (subject.startsWith('strata.evt.')) return 'events';
  if (subject.startsWith('$KV.strata-hostview-')) return 'view writes';
  if (subject.startsWith('$JS.')) return 'jetstream';
  if (subject.startsWith('strata.cmd.') || subject.startsWith('strata.qry.')) return 'requests';
  if (subject.startsWith('_INBOX')) return 'replies';
  return 'other';
}

class BusCounter {
  counts = new Map<Kind, number>();
  bytes = new Map<Kind, number>();
  count(m: Msg): void {
    const k = kindOf(m.subject);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.bytes.set(k, (this.bytes.get(k) ?? 0) + m.data.length);
  }
  reset(): void {
    this.counts.clear();
    this.bytes.clear();
  }
  total(filter: (k: Kind) => boolean): number {
    return [...this.counts].filter(([k]) => filter(k)).reduce((s, [, n]) => s + n, 0);
  }
}

interface Phase {
  name: string;
  seconds: number;
  changes: number;
  counts: Map<Kind, number>;
  bytes: Map<Kind, number>;
}

runHeader('status reporting cost on the bus', { HOSTS, IDLE_S, CHANGES, CONVERGE_S, QUICK: QUICK ? 1 : 0 });
const phases: Phase[] = [];
await withLab({ hypervisors: HOSTS, agents: false, resyncSeconds: 30 }, async (lab) => {
  const t = await buildTopology(lab, { poolSize: CHANGES + 10, initialInWeb: 10, placement: 'unbound', concurrency: 8 });
  await startAgents(lab);
  const admin = await lab.natsUsers.connect('admin');
  const bus = new BusCounter();
  const sub = admin.subscribe('>', { callback: (_err, m) => bus.count(m) });
  try {
    log('agents started; letting them converge');
    await sleep(CONVERGE_S * 1000);

    bus.reset();
    const t0 = performance.now();
    await sleep(IDLE_S * 1000);
    phases.push({ name: `${HOSTS} idle agents`, seconds: (performance.now() - t0) / 1000, changes: 0, counts: new Map(bus.counts), bytes: new Map(bus.bytes) });
    log(`idle: ${fmt(bus.total(() => true) / IDLE_S, 1)} msg/s`);

    bus.reset();
    const t1 = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      const next = t1 + (i + 1) * 1000;
      const port = t.pool[10 + i]!;
      await lab.secgroup.command('port.setGroups', { portId: port.id, groupIds: [t.web.id] }, t.who);
      await sleep(Math.max(0, next - performance.now()));
    }
    await sleep(2000); // the last change's reports
    const seconds = (performance.now() - t1) / 1000;
    phases.push({ name: '1 membership change/s', seconds, changes: CHANGES, counts: new Map(bus.counts), bytes: new Map(bus.bytes) });
    log(`changes: ${fmt(bus.total(() => true) / seconds, 1)} msg/s`);
  } finally {
    sub.unsubscribe();
    await admin.close();
  }
});

const rows: string[][] = KINDS.map((k) => [k, ...phases.flatMap((p) => [fmt((p.counts.get(k) ?? 0) / p.seconds, 2), fmt((p.bytes.get(k) ?? 0) / p.seconds / 1024, 2)])]);
const sum = (p: Phase, f: (k: Kind) => boolean): number => [...p.counts].filter(([k]) => f(k)).reduce((s, [, n]) => s + n, 0);
rows.push(['= status, all kinds', ...phases.flatMap((p) => [fmt(sum(p, (k) => STATUS_KINDS.has(k)) / p.seconds, 2), ''])]);
rows.push(['= everything', ...phases.flatMap((p) => [fmt(sum(p, () => true) / p.seconds, 2), ''])]);
table(['kind', ...phases.flatMap((p) => [`${p.name}: msg/s`, 'KiB/s'])], rows);
const busy = phases[1]!;
const status = sum(busy, (k) => STATUS_KINDS.has(k));
const rest = sum(busy, (k) => !STATUS_KINDS.has(k));
const bytesOf = (p: Phase, f: (k: Kind) => boolean): number => [...p.bytes].filter(([k]) => f(k)).reduce((s, [, n]) => s + n, 0);
console.log(
  `\nper membership change: ${fmt(status / busy.changes, 1)} status messages vs ${fmt(rest / busy.changes, 1)} for the change itself (baseline, same run); ` +
    `status is ${fmt((100 * status) / (status + rest), 1)} % of the bus while changing, ${fmt(sum(phases[0]!, (k) => STATUS_KINDS.has(k)) / phases[0]!.seconds, 2)} msg/s idle\n`,
);
printRatio(rest > 0 ? status / rest : NaN, {
  measured: `status messages per membership change (${HOSTS} agents)`,
  baseline: "the change's own messages per change (events, view writes, commands, JetStream, replies), same changes",
  goal: 'recorded',
  also: `bytes ${fmt(bytesOf(busy, (k) => STATUS_KINDS.has(k)) / Math.max(1, bytesOf(busy, (k) => !STATUS_KINDS.has(k))), 2)}; idle ${fmt(sum(phases[0]!, (k) => STATUS_KINDS.has(k)) / phases[0]!.seconds, 2)} status msg/s`,
});
