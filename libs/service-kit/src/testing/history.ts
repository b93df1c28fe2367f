/**
 * Property-test support for a service's `history` answer (issue 16): over a
 * log, at every position S and for every resource of the service's audit
 * kinds that the log names, the view `resourceHistory` rebuilds at S from
 * the resource's aggregate alone must equal the view taken from the full
 * fold of the log up to S — and the answer must have read that aggregate's
 * events up to S and no others.
 */
import { AUDIT_KINDS, auditKindsOf, type AuditKind } from '@strata/contracts';
import { NotFoundError } from '@strata/errors';
import { InMemoryEventStore, type StoredEvent } from '@strata/eventlog';
import { writeCanonical } from '../digest.js';
import { resourceHistory, type HistorySource, type OwnedView } from '../history.js';
import { admin } from './given.js';

export interface HistoryMismatch {
  seq: number;
  kind: AuditKind;
  id: string;
  fromHistory: { tenant: string; view: unknown; eventsRead: number } | null;
  fromFullFold: OwnedView | null;
  aggregateEvents: number;
}

interface Resource {
  kind: AuditKind;
  id: string;
  aggregateId: string;
  subject: string;
}

const canonical = (value: unknown): string => {
  let out = '';
  writeCanonical(value, (chunk) => (out += chunk));
  return out;
};

/** Every resource of the context's audit kinds an event of the log belongs to. */
export function auditedResources(context: string, events: readonly StoredEvent[]): Resource[] {
  const found = new Map<string, Resource>();
  for (const kind of auditKindsOf(context)) {
    const spec = AUDIT_KINDS[kind];
    for (const e of events) {
      if (e.aggregate.context !== context || e.aggregate.type !== spec.aggregate) continue;
      const named = 'idField' in spec ? (e.data as Record<string, unknown> | null)?.[spec.idField as string] : e.aggregate.id;
      if (typeof named === 'string') found.set(`${kind} ${named}`, { kind, id: named, aggregateId: e.aggregate.id, subject: e.subject });
    }
  }
  return [...found.values()];
}

/**
 * The first position and resource where the history answer differs from the
 * full fold (undefined: none). `events` are a log's events with sequences
 * 1..n in order (an EventFixture's): they are appended to an in-memory store
 * the answer reads from.
 */
export async function historyMismatch<S>(source: Omit<HistorySource<S>, 'store'>, events: readonly StoredEvent[]): Promise<HistoryMismatch | undefined> {
  const store = new InMemoryEventStore();
  for (const e of events) {
    const { seq } = await store.append(e.aggregate, e, { expectedVersion: 'any' });
    if (seq !== e.seq) throw new Error(`event ${e.id} has sequence ${e.seq} but was stored at ${seq}: give the log from sequence 1, in order`);
  }
  const history: HistorySource<S> = { ...source, store };
  const resources = auditedResources(source.context, events);
  const full = source.initial();
  for (const event of events) {
    source.fold(full, event);
    for (const r of resources) {
      const expected = source.view(full, r.kind, r.id);
      const aggregateEvents = events.filter((e) => e.seq <= event.seq && e.subject === r.subject).length;
      let actual: HistoryMismatch['fromHistory'] = null;
      try {
        const reply = await resourceHistory(history, admin, { kind: r.kind, id: r.id, aggregateId: r.aggregateId, toSeq: event.seq });
        const last = reply.versions.at(-1)!;
        actual = { tenant: reply.tenant, view: last.view, eventsRead: reply.eventsRead };
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      const same =
        actual === null || actual.view === null
          ? expected === null
          : expected !== null && actual.tenant === expected.tenant && canonical(actual.view) === canonical(expected.view);
      if (!same || (actual !== null && actual.eventsRead !== aggregateEvents)) {
        return { seq: event.seq, kind: r.kind, id: r.id, fromHistory: actual, fromFullFold: expected, aggregateEvents };
      }
    }
  }
  return undefined;
}
