/**
 * The request index: which client requests a service has applied, read from
 * its own log. A command's events carry ids derived from the request
 * (`requestEventId` in @strata/eventlog: the request's key, the command's
 * fingerprint, the step, the resource it answered with), so folding the log
 * rebuilds the index exactly: on every instance, after a restart, from a
 * snapshot (it is part of the state) or from a full replay.
 *
 * Entries live for `REQUEST_RETENTION_MS` of stream time: an entry is dropped
 * once an event stored more than that after it is applied. The guarantee is
 * 24 hours; the extra hour is margin for clock differences between the
 * API that stamps a request and nats-server that stores it.
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
  /** JetStream storage time of that event (pruning runs on stream time, so every instance prunes alike). */
  storedAt: string;
}

/** `<request key>/<step>` → record, in stream order (oldest first: plain-object keys that are not integers keep insertion order). */
export type RequestIndex = Record<string, RequestRecord>;

/** 24 hours guaranteed, plus one hour of margin. */
export const REQUEST_RETENTION_MS = 25 * 60 * 60 * 1000;

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

/**
 * Fold one stored event into the index: record it if it is a command's event
 * of `context`, then drop entries older than the retention (stream time).
 */
export function recordRequest(index: RequestIndex, context: string, event: IndexedEvent, retentionMs = REQUEST_RETENTION_MS): void {
  if (event.aggregate.context !== context) return;
  const parts = parseRequestEventId(event.id);
  if (parts) {
    const k = indexKey(parts.key, parts.step);
    // Re-inserted at the end, so the object's order stays the stream's order.
    delete index[k];
    index[k] = { fingerprint: parts.fingerprint, resourceId: parts.resourceId, seq: event.seq, storedAt: event.storedAt };
  }
  const cutoff = Date.parse(event.storedAt) - retentionMs;
  for (const k in index) {
    if (Date.parse(index[k]!.storedAt) >= cutoff) break;
    delete index[k];
  }
}

/** What the index reads of an event (a stored event, or one decoded by an event registry: it keeps the envelope). */
type IndexedEvent = Pick<StoredEvent, 'id' | 'seq' | 'storedAt' | 'aggregate'>;

/**
 * A service's fold with its request index: `evolve`, then `recordRequest` for
 * `context` (the service's own). The projection and every replay that must
 * equal it (digest checks) fold with this one function.
 */
export function withRequestIndex<S extends ProjectedState, E extends IndexedEvent>(context: string, evolve: (state: S, event: E) => unknown): (state: S, event: E) => S {
  return (state, event) => {
    evolve(state, event);
    recordRequest((state.requests ??= {}), context, event);
    return state;
  };
}

/**
 * The record of this request step, if it was applied. The same request id
 * sent by the same tenant with another command or body is refused: a request
 * id names one request, as an idempotency key does.
 */
export function appliedRequest(index: RequestIndex | undefined, r: PendingRequest): RequestRecord | undefined {
  const found = index?.[indexKey(r.key, r.step)];
  if (!found) return undefined;
  if (found.fingerprint !== r.fingerprint) {
    throw new ValidationError(
      `x-request-id ${r.requestId} was already used for a different request (another operation or body); a retry must repeat the request exactly, a new request needs a new request id`,
      { field: 'x-request-id' },
    );
  }
  return found;
}
