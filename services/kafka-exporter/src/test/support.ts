/**
 * Integration-test support: the exporter as a real process (so it can be
 * SIGKILLed), writers appending events concurrently, the log as the stream
 * holds it, and the topic as a kafkajs consumer reads it.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { NatsConnection } from 'nats';
import { aggregateSubject, decodeEvent, DEFAULT_EVENT_LOG_OPTIONS, JetStreamEventStore, type EventEnvelope } from '@strata/eventlog';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { waitFor } from '@strata/testing';
import type { LoggedEntry, TopicRecord } from './export-check.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** An exporter process; short ack wait and retry cap, so a killed one's entries come back and an outage ends quickly. */
export function startExporter(env: Record<string, string>): ManagedProcess {
  return startProcess('kafka-exporter', [process.execPath, MAIN], {
    env: {
      STRATA_LOG_LEVEL: 'info',
      STRATA_HTTP_PORT: '0',
      KAFKA_EXPORT_ACK_WAIT_MS: '500',
      KAFKA_EXPORT_RETRY_MAX_MS: '1000',
      KAFKA_REQUEST_TIMEOUT_MS: '3000',
      ...env,
    },
  });
}

/**
 * Writers appending events to `keys` aggregates (IPAM ports, two tenants)
 * through the real store, `lanes` at a time, until stop().
 */
export class Writers {
  private stopping = false;
  private readonly running: Promise<void>[] = [];
  appended = 0;

  constructor(
    private readonly store: JetStreamEventStore,
    private readonly keys: number,
    private readonly pauseMs: number,
  ) {}

  static async open(nc: NatsConnection, keys: number, pauseMs: number): Promise<Writers> {
    return new Writers(await JetStreamEventStore.open(nc), keys, pauseMs);
  }

  start(lanes: number): void {
    for (let i = 0; i < lanes; i++) this.running.push(this.lane());
  }

  /** Stop appending; throws what made a lane fail, if one did. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Append `n` more events now (the tests' quiet steps). */
  async appendMany(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.appendOne();
  }

  private failure: unknown;

  /** Appends until stop() or the first failure (kept for stop() to report). */
  private async lane(): Promise<void> {
    while (!this.stopping && this.failure === undefined) {
      try {
        await this.appendOne();
      } catch (err) {
        this.failure ??= err;
        return;
      }
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  private async appendOne(): Promise<void> {
    const event = portEvent(Math.floor(Math.random() * this.keys), this.appended);
    await this.store.append(event.aggregate, event, { expectedVersion: 'any' });
    this.appended++;
  }
}

/** The n-th test event, on the port aggregate `p<k>` (tenant by k's parity). */
export function portEvent(k: number, n: number): EventEnvelope {
  const aggregate = { context: 'ipam', type: 'port', id: `p${k}` };
  return {
    id: randomUUID(),
    type: 'ipam.PortUpdated',
    version: 1,
    aggregate,
    tenant: k % 2 === 0 ? 'tenant-a' : 'tenant-b',
    actor: 'writer',
    correlationId: randomUUID(),
    causationId: null,
    occurredAt: new Date().toISOString(),
    data: { n },
  };
}

/** Publish test events straight into the stream (no store: for a stream the store would reconcile). */
export async function publishEvents(nc: NatsConnection, count: number, keys: number): Promise<void> {
  const js = nc.jetstream();
  for (let n = 0; n < count; n++) {
    const e = portEvent(n % keys, n);
    await js.publish(aggregateSubject(e.aggregate), new TextEncoder().encode(JSON.stringify(e)), { msgID: e.id });
  }
}

/** Every entry of the log, with the bytes it stores (read by an ordered consumer). */
export async function readLog(nc: NatsConnection): Promise<LoggedEntry[]> {
  const { streamName } = DEFAULT_EVENT_LOG_OPTIONS;
  const last = (await (await nc.jetstreamManager()).streams.info(streamName)).state.last_seq;
  const out: LoggedEntry[] = [];
  if (last === 0) return out;
  const consumer = await nc.jetstream().consumers.get(streamName);
  const messages = await consumer.consume();
  for await (const m of messages) {
    const e = decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: '' });
    out.push({ position: m.seq, id: e.id, key: e.aggregate.id, type: e.type, tenant: e.tenant, value: Buffer.from(m.data) });
    if (m.seq >= last) break;
  }
  await messages.close();
  return out;
}

/**
 * The whole topic, read from the beginning with a consumer group of its own,
 * until it holds every id in `ids` (at least once); records in offset order
 * per partition.
 */
export async function readTopic(bootstrap: string, topic: string, ids: ReadonlySet<string>, timeoutMs: number): Promise<TopicRecord[]> {
  const kafka = new Kafka({ clientId: 'export-check', brokers: [bootstrap], logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId: `check-${randomUUID()}` });
  const records: TopicRecord[] = [];
  const seen = new Set<string>();
  // What the consumer went through, for the failure message (a group join or a fetch that never completes).
  const trail: string[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (e) => trail.push(`joined, assigned ${JSON.stringify(e.payload.memberAssignment)}`));
  consumer.on(consumer.events.CRASH, (e) => trail.push(`crashed: ${e.payload.error.message} (restart: ${e.payload.restart})`));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
          records.push({ partition: batch.partition, offset: Number(m.offset), key: m.key?.toString() ?? '', value: m.value ?? Buffer.alloc(0), headers, timestamp: Number(m.timestamp) });
          seen.add(headers['strata-event-id'] ?? '');
        }
      },
    });
    await waitFor(() => [...ids].every((id) => seen.has(id)), { timeoutMs, intervalMs: 200, message: `all ${ids.size} events on the topic` }).catch(async (err: Error) => {
      throw new Error(`${err.message} (have ${seen.size} in ${records.length} records; consumer: ${trail.join('; ') || 'no group join'}; ${await whereTheRecordsAre(kafka, topic, records)})`);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/**
 * For a failure message: per partition, the offsets read against the broker's
 * high watermark, and the gaps in them. Offsets read to the watermark with no
 * gap mean the broker lacks the missing records; a gap or a shortfall means
 * the reader skipped or has not reached them.
 */
async function whereTheRecordsAre(kafka: Kafka, topic: string, records: readonly TopicRecord[]): Promise<string> {
  const read = new Map<number, number[]>();
  for (const r of records) {
    const offsets = read.get(r.partition) ?? [];
    offsets.push(r.offset);
    read.set(r.partition, offsets);
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    const watermarks = await admin.fetchTopicOffsets(topic);
    const dropped = watermarks.filter(({ low }) => Number(low) > 0).map(({ partition }) => partition);
    const why = dropped.length > 0 ? `the broker dropped the oldest records of partitions ${dropped.join(', ')} (librdkafka's mock keeps 5 MiB per partition); ` : '';
    return why + watermarks
      .map(({ partition, high, low }) => {
        const offsets = [...new Set(read.get(partition) ?? [])].sort((a, b) => a - b);
        const gaps = offsets.filter((o, i) => i > 0 && o !== offsets[i - 1]! + 1).length;
        return `partition ${partition}: ${offsets.length} offsets read (${offsets[0] ?? '-'}..${offsets.at(-1) ?? '-'}, ${gaps} gaps) of ${low}..${Number(high) - 1}`;
      })
      .join('; ');
  } catch (err) {
    return `watermarks unknown: ${(err as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
