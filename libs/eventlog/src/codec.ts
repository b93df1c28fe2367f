import type { JsMsg } from 'nats';
import { envelopeOf, envelopeProblem } from './envelope.js';
import { DEFAULT_SUBJECT_PREFIX } from './subjects.js';
import type { EventEnvelope, StoredEvent } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(e: EventEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(envelopeOf(e)));
}

/**
 * JetStream timestamps are nanoseconds; StoredEvent.storedAt and
 * ReadOptions.toTime work in milliseconds, so both use this one truncation
 * and "toTime = some event's storedAt" includes that event.
 */
export function storedMillis(m: JsMsg): number {
  return Math.floor(m.info.timestampNanos / 1e6);
}

export function decodeStored(m: JsMsg, prefix?: string): StoredEvent {
  const msgId = m.headers?.get('Nats-Msg-Id');
  return decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: new Date(storedMillis(m)).toISOString(), msgId: msgId || undefined, prefix });
}

/** Where a message sits in the stream: what the store knows independently of the message's bytes. */
export interface StoredPosition {
  seq: number;
  subject: string;
  storedAt: string;
  /** The message's Nats-Msg-Id header, if any. */
  msgId?: string | undefined;
  /** The stream's subject prefix (default `strata.evt`). */
  prefix?: string | undefined;
}

/**
 * Total: every message of the stream becomes a StoredEvent, in order. One
 * that is not JSON, not a valid envelope, or whose envelope names another
 * aggregate than its subject becomes an `unreadable` event (see
 * `StoredEvent.unreadable`) instead of an exception that would stop the
 * reader's whole feed.
 */
export function decodeEvent(bytes: Uint8Array, at: StoredPosition): StoredEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return unreadable(raw, at, 'envelope', `not JSON: ${(err as Error).message}`);
  }
  const problem = envelopeProblem(raw);
  if (problem !== undefined) return unreadable(raw, at, 'envelope', `not an event envelope: ${problem}`);
  // The parsed object is ours alone: completed in place (a copy per event is measurable in a replay).
  const ev = raw as StoredEvent;
  const { context, type, id } = ev.aggregate;
  // Exactly <prefix>.<context>.<type>.<id>, no token with a dot: a longer subject under a writer's own
  // context (strata.evt.secgroup.ipam.network.n1) must not pass for another context's aggregate.
  if (at.subject !== `${prefixOf(at)}.${context}.${type}.${id}` || context.includes('.') || type.includes('.') || id.includes('.')) {
    return unreadable(raw, at, 'subject-mismatch', `envelope names aggregate ${context}.${type}.${id} but was stored on ${at.subject}`);
  }
  ev.seq = at.seq;
  ev.subject = at.subject;
  ev.storedAt = at.storedAt;
  return ev;
}

const prefixOf = (at: StoredPosition): string => at.prefix ?? DEFAULT_SUBJECT_PREFIX;

/**
 * The aggregate a subject names: the context is the token after the prefix
 * (the one NATS permissions grant per service); on a malformed, deeper
 * subject the id keeps the rest, so the aggregate stays distinct.
 */
function aggregateOfSubject(at: StoredPosition): StoredEvent['aggregate'] {
  const prefix = `${prefixOf(at)}.`;
  const rest = (at.subject.startsWith(prefix) ? at.subject.slice(prefix.length) : at.subject).split('.');
  return { context: rest[0] ?? '', type: rest[1] ?? '', id: rest.slice(2).join('.') };
}

function unreadable(raw: unknown, at: StoredPosition, reason: 'envelope' | 'subject-mismatch', message: string): StoredEvent {
  const claims = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    id: at.msgId ?? (typeof claims['id'] === 'string' ? claims['id'] : `seq-${at.seq}`),
    type: typeof claims['type'] === 'string' ? claims['type'] : '',
    version: Number.isInteger(claims['version']) ? (claims['version'] as number) : 0,
    aggregate: aggregateOfSubject(at),
    tenant: '',
    actor: '',
    correlationId: '',
    causationId: null,
    occurredAt: at.storedAt,
    data: null,
    seq: at.seq,
    subject: at.subject,
    storedAt: at.storedAt,
    unreadable: { reason, message: message.slice(0, 500) },
  };
}
