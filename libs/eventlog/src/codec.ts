import type { JsMsg } from 'nats';
import { z } from 'zod';
import type { EventEnvelope, StoredEvent } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Exactly the envelope fields, in a stable order: callers may hand us a
 * StoredEvent or an object with extra properties, which must not leak into
 * the log.
 */
export function envelopeOf(e: EventEnvelope): EventEnvelope {
  const env: EventEnvelope = {
    id: e.id,
    type: e.type,
    version: e.version,
    aggregate: { context: e.aggregate.context, type: e.aggregate.type, id: e.aggregate.id },
    tenant: e.tenant,
    actor: e.actor,
    correlationId: e.correlationId,
    causationId: e.causationId,
    occurredAt: e.occurredAt,
    data: e.data,
  };
  if (e.trace) env.trace = e.trace.tracestate === undefined ? { traceparent: e.trace.traceparent } : { ...e.trace };
  return env;
}

export function encodeEnvelope(e: EventEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(envelopeOf(e)));
}

/** The envelope every event in the log has: checked on append and again on read (the log may hold what no store wrote). */
export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  version: z.number().int().min(1),
  aggregate: z.object({ context: z.string().min(1), type: z.string().min(1), id: z.string().min(1) }),
  tenant: z.string(),
  actor: z.string(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  occurredAt: z.string(),
  trace: z.object({ traceparent: z.string(), tracestate: z.string().optional() }).optional(),
  data: z.unknown(),
});

/**
 * JetStream timestamps are nanoseconds; StoredEvent.storedAt and
 * ReadOptions.toTime work in milliseconds, so both use this one truncation
 * and "toTime = some event's storedAt" includes that event.
 */
export function storedMillis(m: JsMsg): number {
  return Math.floor(m.info.timestampNanos / 1e6);
}

export function decodeStored(m: JsMsg): StoredEvent {
  return decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: new Date(storedMillis(m)).toISOString(), msgId: m.headers?.get('Nats-Msg-Id') });
}

/** Where a message sits in the stream: what the store knows independently of the message's bytes. */
export interface StoredPosition {
  seq: number;
  subject: string;
  storedAt: string;
  /** The message's Nats-Msg-Id header, if any. */
  msgId?: string | undefined;
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
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) return unreadable(raw, at, 'envelope', `not an event envelope: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const env = parsed.data;
  const subjectRef = aggregateOfSubject(at.subject);
  const { context, type, id } = env.aggregate;
  if (context !== subjectRef.context || type !== subjectRef.type || id !== subjectRef.id) {
    return unreadable(raw, at, 'subject-mismatch', `envelope names aggregate ${context}.${type}.${id} but was stored on ${at.subject}`);
  }
  const ev = { ...(env as EventEnvelope), seq: at.seq, subject: at.subject, storedAt: at.storedAt } as StoredEvent;
  if (env.trace === undefined) delete ev.trace;
  return ev;
}

/** `<prefix>.<context>.<type>.<id>` → the aggregate (the prefix may itself contain dots). */
function aggregateOfSubject(subject: string): StoredEvent['aggregate'] {
  const t = subject.split('.');
  return { context: t[t.length - 3] ?? '', type: t[t.length - 2] ?? '', id: t[t.length - 1] ?? '' };
}

function unreadable(raw: unknown, at: StoredPosition, reason: 'envelope' | 'subject-mismatch', message: string): StoredEvent {
  const claims = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    id: at.msgId ?? (typeof claims['id'] === 'string' ? claims['id'] : `seq-${at.seq}`),
    type: typeof claims['type'] === 'string' ? claims['type'] : '',
    version: Number.isInteger(claims['version']) ? (claims['version'] as number) : 0,
    aggregate: aggregateOfSubject(at.subject),
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
