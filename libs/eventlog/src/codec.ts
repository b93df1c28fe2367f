import type { JsMsg } from 'nats';
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

/**
 * JetStream timestamps are nanoseconds; StoredEvent.storedAt and
 * ReadOptions.toTime work in milliseconds, so both use this one truncation
 * and "toTime = some event's storedAt" includes that event.
 */
export function storedMillis(m: JsMsg): number {
  return Math.floor(m.info.timestampNanos / 1e6);
}

export function decodeStored(m: JsMsg): StoredEvent {
  const ev = JSON.parse(decoder.decode(m.data)) as StoredEvent;
  ev.seq = m.seq;
  ev.subject = m.subject;
  ev.storedAt = new Date(storedMillis(m)).toISOString();
  return ev;
}
