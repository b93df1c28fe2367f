/**
 * Quarantine: what a reader does with an event of the log it cannot decode
 * (an unreadable envelope, an unknown type, a version newer than its own, a
 * missing upcaster, data its schema refuses). It neither stops nor forgets
 * it: the event is recorded here, in the reader's state, and the reader goes
 * on with the next one. The rule it serves (docs/architecture.md, "The event
 * log"): the aggregate the event belongs to is suspect, so commands on it are
 * refused with FAILED_PRECONDITION, while everything else keeps serving.
 *
 * Plain JSON, part of the projection's state: a replay by the same build
 * rebuilds exactly the same record, and a snapshot = replay check covers it.
 */
import type { AggregateRef, EventSchemaError, StoredEvent, UnreadableReason } from '@strata/eventlog';
import { IllegalStateError } from '@strata/errors';
import type { Logger, Readiness, ServiceMetrics } from '@strata/runtime';
import { Counter } from 'prom-client';

export interface QuarantinedEvent {
  seq: number;
  subject: string;
  /** As the event claims it ('' when the envelope had none). */
  type: string;
  version: number;
  storedAt: string;
  reason: UnreadableReason;
  /** The decoder's message (bounded). */
  error: string;
}

export interface QuarantineRecord {
  /** Every event quarantined, by reason (counts never shrink). */
  byReason: Partial<Record<UnreadableReason, number>>;
  /** The latest `RECENT_LIMIT` quarantined events, oldest first: the detail shown in status. */
  recent: QuarantinedEvent[];
  /** `context.type.id` → the first quarantined event of that aggregate. Unbounded: a suspect aggregate is never forgotten. */
  suspects: Record<string, { seq: number; reason: UnreadableReason }>;
}

export const RECENT_LIMIT = 50;

export function emptyQuarantine(): QuarantineRecord {
  return { byReason: {}, recent: [], suspects: {} };
}

const keyOf = (ref: AggregateRef): string => `${ref.context}.${ref.type}.${ref.id}`;

export function quarantinedCount(record: QuarantineRecord | undefined): number {
  let n = 0;
  for (const c of Object.values(record?.byReason ?? {})) n += c ?? 0;
  return n;
}

/** Record one event the reader could not decode; returns what was recorded (for the log line). */
export function quarantine(record: QuarantineRecord, event: StoredEvent, err: EventSchemaError): QuarantinedEvent {
  const q: QuarantinedEvent = {
    seq: event.seq,
    subject: event.subject,
    type: event.type,
    version: event.version,
    storedAt: event.storedAt,
    reason: err.reason,
    error: err.message.slice(0, 300),
  };
  record.byReason[q.reason] = (record.byReason[q.reason] ?? 0) + 1;
  record.recent.push(q);
  if (record.recent.length > RECENT_LIMIT) record.recent.splice(0, record.recent.length - RECENT_LIMIT);
  record.suspects[keyOf(event.aggregate)] ??= { seq: q.seq, reason: q.reason };
  return q;
}

/**
 * Refuse to change an aggregate whose history has an event this reader could
 * not decode: its state here may be missing that event, and a decision
 * against it could undo or contradict it.
 */
export function refuseSuspect(record: QuarantineRecord | undefined, ref: AggregateRef): void {
  const suspect = record?.suspects[keyOf(ref)];
  if (!suspect) return;
  throw new IllegalStateError(
    `${ref.type} ${ref.id} cannot be changed: its event at log sequence ${suspect.seq} could not be read by this version of the service (${suspect.reason}); ` +
      'it stays quarantined until a version that reads that event is deployed',
    { reason: 'quarantined', seq: suspect.seq },
  );
}

/** Is this the refusal `refuseSuspect` throws? */
export const isQuarantineRefusal = (err: unknown): boolean => err instanceof IllegalStateError && err.details['reason'] === 'quarantined';

/** A readiness check's view of the record: still ready (see docs/architecture.md), but degraded with the detail. */
export function quarantineStatus(record: QuarantineRecord | undefined): { ok: true; degraded: boolean; detail?: unknown } {
  const total = quarantinedCount(record);
  if (!record || total === 0) return { ok: true, degraded: false };
  return { ok: true, degraded: true, detail: { quarantined: total, byReason: record.byReason, suspects: Object.keys(record.suspects).length, recent: record.recent } };
}

/**
 * A snapshot that carries quarantined events is not used: the events it
 * skipped would stay skipped for good, even once a version that reads them
 * runs. The log is replayed instead (and quarantines them again if this
 * version still cannot read them), so the cost of a quarantine is a longer
 * start, never a lost event.
 */
export function usableSnapshot<S extends { seq: number }>(state: S | undefined, logger: Logger): S | undefined {
  const n = quarantinedCount((state as { quarantine?: QuarantineRecord } | undefined)?.quarantine);
  if (n === 0) return state;
  logger.warn({ quarantined: n }, 'snapshot has quarantined events; replaying the log so a version that reads them applies them in order');
  return undefined;
}

/**
 * Publish a reader's quarantine: `strata_events_quarantined_total{reader,reason}`
 * (read from the record at scrape time, so it is exactly the state's) and a
 * `quarantine` readiness check that stays ready but reports degraded with the
 * quarantined events.
 */
export function reportQuarantine(
  ctx: { metrics: ServiceMetrics; readiness: Readiness },
  reader: string,
  record: () => QuarantineRecord | undefined,
): void {
  new Counter({
    name: 'strata_events_quarantined_total',
    help: 'events of the log this reader could not decode and quarantined, by reason',
    labelNames: ['reader', 'reason'] as const,
    registers: [ctx.metrics.registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(record()?.byReason ?? {})) if (n) this.inc({ reader, reason }, n);
    },
  });
  ctx.readiness.register('quarantine', () => quarantineStatus(record()));
}
