/**
 * The request index: which client requests a service has applied, read from
 * its own log. A command's events carry ids derived from the request
 * (`requestEventId` in @strata/eventlog: the request's key, the command's
 * fingerprint, the step, the resource it answered with), so folding the log
 * rebuilds the index exactly: on every instance, after a restart, from a
 * snapshot (it is part of the state) or from a full replay.
 *
 * Entries live for `REQUEST_RETENTION_MS` of stream time, pruned by the
 * hour of their JetStream storage time: when an event opens a new hour, the
 * entries of every hour that ended more than the retention before it are
 * dropped, so an entry lives 25 to 26 hours. The guarantee is 24 hours; the
 * rest is margin for clock differences between the api that stamps a
 * request and nats-server that stores it. One lookup is one property read;
 * pruning deletes each entry once (never a scan: enumerating a large
 * object's keys costs time in the number of keys, ~0.1 s per `for…in` at
 * 300k keys, measured).
 */
import { ValidationError } from '@strata/errors';
import { commandFingerprint, parseRequestEventId, requestKey, type RequestScope, type StoredEvent } from '@strata/eventlog';
import { writeCanonical } from './digest.js';
import type { ProjectedState } from './projection.js';

/** One applied request step: what the executor answers a retry with. */
export interface RequestRecord {
  fingerprint: string;
  resourceId: string;
  /** Stream sequence of the step's event: the retry's answer carries it (read-your-writes as the original). */
  seq: number;
  /** Hour of the event's JetStream storage time (ms since the epoch / 1 h): pruning runs on stream time, so every instance prunes alike. */
  hour: number;
}

export interface RequestIndex {
  /** `<request key>/<step>` → record. */
  byKey: Record<string, RequestRecord>;
  /** Hour → the keys recorded in it (at most ~27 hours): what a prune deletes. */
  byHour: Record<string, string[]>;
}

const HOUR_MS = 60 * 60 * 1000;

/** 24 hours guaranteed, plus one hour of margin (plus up to one more: entries are dropped by the hour). */
export const REQUEST_RETENTION_MS = 25 * HOUR_MS;

/** A client request about to be decided: the key and fingerprint its events carry. */
export interface PendingRequest {
  key: string;
  fingerprint: string;
  step: string;
  requestId: string;
}

export function pendingRequest(context: string, scope: RequestScope, op: string, body: unknown, step = ''): PendingRequest {
  let canonical = '';
  writeCanonical(body ?? null, (chunk) => (canonical += chunk));
  return { key: requestKey(context, scope), fingerprint: commandFingerprint(op, canonical), step, requestId: scope.requestId };
}

const indexKey = (key: string, step: string): string => `${key}/${step}`;

/** What the index reads of an event (a stored event, or one decoded by an event registry: it keeps the envelope). */
type IndexedEvent = Pick<StoredEvent, 'id' | 'seq' | 'storedAt' | 'aggregate'>;

/**
 * Fold one stored event into the index: record it if it is a command's event
 * of `context`; when it opens a new hour, drop the hours past the retention.
 */
export function recordRequest(index: RequestIndex, context: string, event: IndexedEvent, retentionMs = REQUEST_RETENTION_MS): void {
  if (event.aggregate.context !== context) return;
  const parts = parseRequestEventId(event.id);
  if (!parts) return;
  const storedMs = Date.parse(event.storedAt);
  const hour = Math.floor(storedMs / HOUR_MS);
  const k = indexKey(parts.key, parts.step);
  let keys = index.byHour[hour];
  if (!keys) {
    keys = index.byHour[hour] = [];
    for (const h in index.byHour) {
      if ((Number(h) + 1) * HOUR_MS + retentionMs > storedMs) continue;
      // A key recorded again later (only possible after it expired) belongs to its newer hour.
      for (const old of index.byHour[h]!) if (index.byKey[old]?.hour === Number(h)) delete index.byKey[old];
      delete index.byHour[h];
    }
  }
  keys.push(k);
  index.byKey[k] = { fingerprint: parts.fingerprint, resourceId: parts.resourceId, seq: event.seq, hour };
}

/**
 * A service's fold with its request index: `evolve`, then `recordRequest` for
 * `context` (the service's own). The projection and every replay that must
 * equal it (digest checks) fold with this one function.
 */
export function withRequestIndex<S extends ProjectedState, E extends IndexedEvent>(context: string, evolve: (state: S, event: E) => unknown): (state: S, event: E) => S {
  return (state, event) => {
    evolve(state, event);
    recordRequest((state.requests ??= { byKey: {}, byHour: {} }), context, event);
    return state;
  };
}

/**
 * The record of this request step, if it was applied. The same request id
 * sent by the same tenant with another command or body is refused: a request
 * id names one request, as an idempotency key does.
 */
export function appliedRequest(index: RequestIndex | undefined, r: PendingRequest): RequestRecord | undefined {
  const found = index?.byKey[indexKey(r.key, r.step)];
  if (!found) return undefined;
  if (found.fingerprint !== r.fingerprint) {
    throw new ValidationError(
      `x-request-id ${r.requestId} was already used for a different request (another operation or body); a retry must repeat the request exactly, a new request needs a new request id`,
      { field: 'x-request-id' },
    );
  }
  return found;
}
