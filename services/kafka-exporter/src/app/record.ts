/**
 * One log entry as one Kafka record: the pure half of the export, so what a
 * consumer receives is defined (and unit-tested) in one place.
 *
 * - key: the aggregate id. Kafka keeps the order of records with one key
 *   (one partition), so every aggregate's events arrive in log order. Ids
 *   are unique per context and type only: aggregates of different types
 *   that share an id share a key (and are in order together), and the
 *   headers below tell them apart.
 * - value: the event envelope exactly as the log stores it (JSON bytes).
 * - headers: what a consumer routes or deduplicates on without parsing the
 *   value. `strata-event-id` identifies the event (a re-sent record carries
 *   the same one); `strata-position` is the event's log position (JetStream
 *   stream sequence, decimal), the same on every re-send.
 *
 * An entry the log holds but that is no readable event (see
 * StoredEvent.unreadable) is exported all the same, never skipped: its value
 * is the stored bytes, its key the id from its subject, and the header
 * `strata-unreadable` says why it is not an event.
 */
import { decodeEvent } from '@strata/eventlog';

/** The record headers, one name each (a consumer's code should use these). */
export const KAFKA_HEADERS = {
  eventId: 'strata-event-id',
  type: 'strata-event-type',
  tenant: 'strata-tenant',
  position: 'strata-position',
  context: 'strata-context',
  aggregateType: 'strata-aggregate-type',
  occurredAt: 'strata-occurred-at',
  unreadable: 'strata-unreadable',
} as const;

/** The shape kafkajs sends (its `Message`, with headers as strings). */
export interface KafkaRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A log entry as the consumer of the event stream receives it. */
export interface LogEntry {
  /** The stream sequence: the entry's log position. */
  seq: number;
  subject: string;
  data: Uint8Array;
  /** When the log stored it, ISO-8601 (only used for an unreadable entry's header). */
  storedAt: string;
  msgId?: string | undefined;
}

export function kafkaRecord(entry: LogEntry): KafkaRecord {
  const event = decodeEvent(entry.data, { seq: entry.seq, subject: entry.subject, storedAt: entry.storedAt, msgId: entry.msgId });
  const headers: Record<string, string> = {
    [KAFKA_HEADERS.eventId]: event.id,
    [KAFKA_HEADERS.type]: event.type,
    [KAFKA_HEADERS.tenant]: event.tenant,
    [KAFKA_HEADERS.position]: String(entry.seq),
    [KAFKA_HEADERS.context]: event.aggregate.context,
    [KAFKA_HEADERS.aggregateType]: event.aggregate.type,
    [KAFKA_HEADERS.occurredAt]: event.occurredAt,
  };
  if (event.unreadable !== undefined) headers[KAFKA_HEADERS.unreadable] = `${event.unreadable.reason}: ${event.unreadable.message}`;
  // Buffer.from on the message's bytes copies them: the record outlives the NATS message's buffer.
  return { key: event.aggregate.id, value: Buffer.from(entry.data), headers };
}
