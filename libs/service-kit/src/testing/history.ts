/**
 * The property every service's `history` answer must have (its property
 * test, issue 16): for a log and every position S in it, a resource's
 * answer at S — its aggregate's events alone, folded from the empty state —
 * equals its view in the fold of the whole log up to S, and reading it
 * cost exactly its aggregate's events up to S.
 */
import { isDeepStrictEqual } from 'node:util';
import { NotFoundError } from '@strata/errors';
import { InMemoryEventStore, type EventStore, type StoredEvent } from '@strata/eventlog';
import { AUDIT_KINDS, type AuditKind } from '@strata/contracts';
import { resourceHistory, type HistorySource } from '../history.js';
import { admin } from './given.js';

/** A resource to check: its kind, id and the aggregate holding it. */
export interface HistoryCase {
  kind: AuditKind;
  id: string;
  aggregateId: string;
}

/**
 * `events` (a fixture's log, seq 1..n in order) appended to an in-memory
 * store, read by the service's history source (`sourceOf`, as its handler
 * builds it); then, at every position, each resource's `history` answer against
 * the full fold. The mismatches, described (empty: the property holds).
 */
export async function historyMismatches<S>(sourceOf: (store: EventStore) => HistorySource<S>, events: readonly StoredEvent[], resources: readonly HistoryCase[]): Promise<string[]> {
  const store = new InMemoryEventStore();
  for (const { seq, subject: _subject, storedAt: _storedAt, ...envelope } of events) {
    const r = await store.append(envelope.aggregate, envelope, { expectedVersion: 'any' });
    if (r.seq !== seq) throw new Error(`the fixture's event ${seq} was stored at ${r.seq}: give the whole log, in order`);
  }
  const src = sourceOf(store);
  const log: StoredEvent[] = [];
  for await (const e of store.read()) log.push(e);
  const out: string[] = [];
  const full = src.initial();
  for (const event of log) {
    src.fold(full, event);
    for (const r of resources) {
      const want = src.view(full, r.kind, r.id);
      const at = `${r.kind} ${r.id} at ${event.seq}`;
      const subject = store.subjectOf({ context: src.context, type: aggregateOf(r.kind), id: r.aggregateId });
      const own = log.filter((e) => e.seq <= event.seq && e.subject === subject).length;
      let got: { tenant: string; view: Record<string, unknown> | null; eventsRead: number } | null;
      try {
        const reply = await resourceHistory(src, admin, { kind: r.kind, id: r.id, aggregateId: r.aggregateId, toSeq: event.seq });
        got = { tenant: reply.tenant, view: reply.versions.at(-1)!.view, eventsRead: reply.eventsRead };
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        got = null;
      }
      if (!isDeepStrictEqual(got?.view ?? null, want?.view ?? null)) {
        out.push(`${at}: history ${JSON.stringify(got?.view ?? null)}, full fold ${JSON.stringify(want?.view ?? null)}`);
      } else if (want && got?.tenant !== want.tenant) {
        out.push(`${at}: history's tenant ${got?.tenant}, full fold's ${want.tenant}`);
      } else if (got && got.eventsRead !== own) {
        out.push(`${at}: read ${got.eventsRead} events, its aggregate has ${own}`);
      }
    }
  }
  return out;
}

/** The aggregate type of a kind, from the audit table (the subject its history reads). */
const aggregateOf = (kind: AuditKind): string => AUDIT_KINDS[kind].aggregate;
