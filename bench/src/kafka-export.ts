/**
 * Kafka export rate vs the raw JetStream read rate, in one run.
 *
 *   npm run -w @strata/bench kafka-export                 (EVENTS=200000)
 *   QUICK=1 npm run -w @strata/bench kafka-export         (EVENTS=30000; under 2 minutes)
 *   EVENTS=1000000 BATCH=1000 npm run -w @strata/bench kafka-export
 *
 * 1. nats-server with the production users; librdkafka's mock cluster (the
 *    Kafka-protocol test broker of @strata/testing, PARTITIONS partitions);
 *    EVENTS event envelopes (KEYS aggregates) published straight into
 *    STRATA_EVENTS (js.publish, bounded pipelining).
 * 2. Baselines in this process:
 *    a. raw read: nats.js ordered consumer over the stream, count + JSON.parse;
 *    b. kafkajs alone: the same entries, already read and turned into records
 *       (kafkaRecord), produced in batches of BATCH with acks=-1, one send at
 *       a time (what the exporter does, without JetStream).
 * 3. The exporter as a process (services/kafka-exporter, its own NATS user):
 *    from its "started" to the durable consumer's ack floor reaching the end
 *    of the log (every entry in Kafka and acknowledged); also from spawn.
 * The raw read runs again at the end; the better of the two is the baseline.
 * EXPORTER_LOG_LEVEL=debug makes the exporter log each batch (size, ms).
 *
 * Last line: ratio = exporter events/s ÷ kafkajs-alone events/s. kafkajs
 * alone is the baseline because it is the exporter's own send pattern (same
 * records, same batch, acks=-1, one send in flight) without JetStream: what
 * bounds the export is that round trip, so the ratio is what the exporter's
 * reading, decoding and acknowledging cost on top of it. The raw read stays
 * in the table (it is not the bottleneck: the ratio against it mostly
 * measures Kafka).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { JetStreamClient, NatsConnection } from 'nats';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { KAFKA_EXPORT_DURABLE, kafkaRecord, type KafkaRecord } from '@strata/kafka-exporter';
import { startProcess, startProvisionedNats } from '@strata/lab';
import { startKafkaMock } from '@strata/testing';
import { fmt, intEnv, log, machine, printRatio, QUICK, table, withTimeout } from './support/common.js';

const EVENTS = intEnv('EVENTS', QUICK ? 30_000 : 200_000, 1_000, 5_000_000);
const KEYS = intEnv('KEYS', 1_000, 1, 1_000_000);
const BATCH = intEnv('BATCH', 500, 1, 10_000);
const PARTITIONS = intEnv('PARTITIONS', 3, 1, 1_000);
const IN_FLIGHT = intEnv('IN_FLIGHT', 2_000, 1, 20_000);
const PHASE_TIMEOUT_MS = intEnv('PHASE_TIMEOUT_MS', 15 * 60_000);
const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;
const TOPIC = 'strata.events';
const EXPORTER_MAIN = fileURLToPath(new URL('../../services/kafka-exporter/dist/main.js', import.meta.url));

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Row {
  name: string;
  events: number;
  seconds: number;
  note?: string;
}

async function timed(name: string, f: () => Promise<{ events: number; seconds?: number; note?: string }>): Promise<Row> {
  log(`${name} ...`);
  const t0 = performance.now();
  const r = await withTimeout(f(), PHASE_TIMEOUT_MS, name);
  const row: Row = { name, events: r.events, seconds: r.seconds ?? (performance.now() - t0) / 1000, ...(r.note ? { note: r.note } : {}) };
  log(`${name}: ${fmt(row.events)} events in ${row.seconds.toFixed(2)} s = ${fmt(row.events / row.seconds)} ev/s`);
  return row;
}

/** EVENTS envelopes, about as large as IPAM's port events, on KEYS aggregates. */
async function generate(js: JetStreamClient): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < EVENTS; i++) {
    const id = `p${i % KEYS}`;
    const envelope = {
      id: randomUUID(),
      type: 'ipam.PortUpdated',
      version: 1,
      aggregate: { context: 'ipam', type: 'port', id },
      tenant: `tenant-${i % 7}`,
      actor: 'bench',
      correlationId: randomUUID(),
      causationId: null,
      occurredAt: new Date().toISOString(),
      data: { portId: id, name: `vm-${i}`, mac: 'fa:16:3e:00:00:01', fixedIps: [{ subnetId: randomUUID(), ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }] },
    };
    const p = js.publish(`strata.evt.ipam.port.${id}`, enc.encode(JSON.stringify(envelope)), { msgID: envelope.id });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
}

/** Baseline: nats.js ordered consumer over the stream, count + JSON.parse. */
async function rawRead(js: JetStreamClient, keep?: KafkaRecord[]): Promise<{ events: number }> {
  const consumer = await js.consumers.get(STREAM);
  const messages = await consumer.consume({ max_messages: 5_000 });
  let n = 0;
  try {
    for await (const m of messages) {
      JSON.parse(dec.decode(m.data));
      keep?.push(kafkaRecord({ seq: m.seq, subject: m.subject, data: m.data, storedAt: '' }));
      n++;
      if (m.info.pending === 0 || n >= EVENTS) break;
    }
  } finally {
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  if (n !== EVENTS) throw new Error(`raw read saw ${n} events, expected ${EVENTS}`);
  return { events: n };
}

/** kafkajs alone: the records in batches of BATCH, acks=-1, one send at a time. */
async function kafkaOnly(bootstrap: string, topic: string, records: KafkaRecord[]): Promise<{ events: number }> {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += BATCH) await producer.send({ topic, acks: -1, messages: records.slice(i, i + BATCH) });
  } finally {
    await producer.disconnect();
  }
  return { events: records.length };
}

async function ackFloor(nc: NatsConnection): Promise<number> {
  return (await (await nc.jetstreamManager()).consumers.info(STREAM, KAFKA_EXPORT_DURABLE)).ack_floor.stream_seq;
}

async function main(): Promise<void> {
  console.log(`# kafka-export  EVENTS=${EVENTS} KEYS=${KEYS} BATCH=${BATCH} PARTITIONS=${PARTITIONS} QUICK=${QUICK ? 1 : 0}`);
  const facts = machine();
  const nats = await startProvisionedNats();
  const kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: PARTITIONS }, { name: 'bench.kafkajs-only', partitions: PARTITIONS }] });
  const rows: Row[] = [];
  let exporterRow: Row | undefined;
  try {
    const admin = await nats.connect('admin');
    const js = admin.jetstream();
    await timed('generate (js.publish)', async () => {
      await generate(js);
      return { events: EVENTS };
    });
    rows.push(await timed('raw read: ordered consumer, JSON.parse', () => rawRead(js)));
    const records: KafkaRecord[] = [];
    await rawRead(js, records);
    rows.push(await timed(`kafkajs alone: batches of ${BATCH}, acks=-1, one at a time`, () => kafkaOnly(kafka.bootstrap, 'bench.kafkajs-only', records)));
    records.length = 0;

    exporterRow = await timed(`kafka-exporter process (batch ${BATCH}), "started" → all acknowledged`, async () => {
      const spawned = performance.now();
      const exporter = startProcess('kafka-exporter', [process.execPath, EXPORTER_MAIN], {
        env: { ...nats.env('kafka-exporter'), KAFKA_BROKERS: kafka.bootstrap, KAFKA_TOPIC: TOPIC, KAFKA_EXPORT_BATCH: String(BATCH), STRATA_LOG_LEVEL: process.env['EXPORTER_LOG_LEVEL'] ?? 'info' },
      });
      try {
        await exporter.ready;
        const started = performance.now();
        while ((await ackFloor(admin)) < EVENTS) await new Promise((r) => setTimeout(r, 50));
        const done = performance.now();
        return { events: EVENTS, seconds: (done - started) / 1000, note: `${((done - spawned) / 1000).toFixed(2)} s from spawn` };
      } finally {
        await exporter.stop();
      }
    });
    rows.push(exporterRow);
    rows.splice(1, 0, await timed('raw read again (after the export)', () => rawRead(js)));
    await admin.close();
  } finally {
    await kafka.stop();
    await nats.stop();
  }
  const base = Math.max(...rows.filter((r) => r.name.startsWith('raw read')).map((r) => r.events / r.seconds));
  console.log(`\nKafka export, ${fmt(EVENTS)} events on ${fmt(KEYS)} keys, ${PARTITIONS} partitions (librdkafka mock cluster)`);
  console.log(Object.entries(facts).map(([k, v]) => `${k}: ${v}`).join('\n'));
  table(
    ['run', 'events', 'seconds', 'events/s', 'vs raw read (better of 2)', 'note'],
    rows.map((r) => [r.name, fmt(r.events), r.seconds.toFixed(2), fmt(r.events / r.seconds), `${((r.events / r.seconds / base) * 100).toFixed(1)} %`, r.note ?? '']),
  );
  const rate = (r: Row | undefined): number => (r ? r.events / r.seconds : NaN);
  const alone = rows.find((r) => r.name.startsWith('kafkajs alone'));
  printRatio(rate(exporterRow) / rate(alone), {
    measured: `kafka-exporter ${fmt(rate(exporterRow))} events/s`,
    baseline: `kafkajs alone ${fmt(rate(alone))} events/s`,
    goal: 'recorded',
    also: `raw JetStream read ${fmt(base)} events/s`,
  });
}

await main();
