/**
 * The Kafka export under faults, against real components: nats-server with
 * the production users (the exporter connects as `kafka-exporter`), the
 * exporter as a process, and librdkafka's mock cluster as the broker (the
 * real Kafka protocol, not a real Kafka: see docs/architecture.md, "The
 * Kafka export"). The topic is read back with kafkajs and checked against
 * the log by checkExport (test/export-check.ts says exactly what it asserts):
 * every event at least once, byte for byte; per key, runs of consecutive
 * events that only ever go back to re-send, so the first appearances are in
 * log order; the duplicates are re-sends of entries already on the topic.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import { startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { startKafkaMock, waitFor, type KafkaMock, type StrataNats } from '@strata/testing';
import { KAFKA_HEADERS } from './app/record.js';
import { KAFKA_EXPORT_DURABLE } from './service.js';
import { checkExport, type TopicRecord } from './test/export-check.js';
import { readLog, readTopic, startExporter, Writers } from './test/support.js';

const TOPIC = 'strata.events';
/**
 * librdkafka's mock keeps at most 5 MiB per partition and drops a partition's oldest records past it (a fixed
 * limit, rdkafka_mock.c): each test has a broker and a log of its own, and twelve partitions keep the first test's
 * 25,000–32,000 records (with re-sends; more on a slower machine, as the writers run longer) under 2 MiB each.
 */
const PARTITIONS = 12;
const KILLS = 100;
const { streamName } = DEFAULT_EVENT_LOG_OPTIONS;

describe('kafka export under faults', () => {
  let nats: StrataNats;
  let kafka: KafkaMock;
  let admin: NatsConnection;
  let exporter: ManagedProcess | undefined;

  beforeEach(async () => {
    nats = await startProvisionedNats();
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: PARTITIONS }] });
    admin = await nats.connect('admin');
  });

  afterEach(async () => {
    await exporter?.stop();
    exporter = undefined;
    await kafka?.stop();
    await nats?.stop();
  });

  const env = (): Record<string, string> => ({ ...nats.env('kafka-exporter'), KAFKA_BROKERS: kafka.bootstrap, KAFKA_TOPIC: TOPIC, KAFKA_EXPORT_BATCH: '50' });
  const ackFloor = async (): Promise<number> => (await (await admin.jetstreamManager()).consumers.info(streamName, KAFKA_EXPORT_DURABLE)).ack_floor.stream_seq;

  /** The topic checked against the whole log, once every event is on it. */
  const checkAll = async (): Promise<{ report: ReturnType<typeof checkExport>; records: TopicRecord[] }> => {
    const log = await readLog(admin);
    const records = await readTopic(kafka.bootstrap, TOPIC, new Set(log.map((e) => e.id)), 120_000);
    const report = checkExport(log, records);
    expect(report.problems).toEqual([]);
    return { report, records };
  };

  /** Start an exporter, let it acknowledge a few entries, kill -9 it; KILLS times. */
  const killRepeatedly = async (): Promise<void> => {
    for (let i = 0; i < KILLS; i++) {
      exporter = startExporter(env());
      await exporter.ready;
      // Mid-stream: after it has acknowledged a few more entries (between 1 and 60), at a random moment of a batch.
      const from = await ackFloor();
      const more = 1 + Math.floor(Math.random() * 60);
      await waitFor(async () => (await ackFloor()) >= from + more, { timeoutMs: 60_000, intervalMs: 5, message: `exporter ${i} to acknowledge ${more} entries` });
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      await exporter.kill9();
      // Killed, not crashed on its own: nothing fatal or failed before the kill.
      expect(exporter.output()).not.toMatch(/"level":(50|60)/);
    }
  };

  it(`loses nothing and keeps each key's order through ${KILLS} kill -9 mid-stream, while events are appended`, async () => {
    const started = Date.now();
    const writers = await Writers.open(await nats.connect('ipam'), 40, 15);
    await writers.appendMany(200);
    writers.start(4);
    // Every Kafka answer 20 ms late: most kills then land between a write and its acknowledgement (a re-send follows).
    await kafka.setRtt(20);
    try {
      await killRepeatedly();
    } finally {
      await writers.stop();
    }
    await kafka.setRtt(0);
    exporter = startExporter(env());
    await exporter.ready;
    const { report } = await checkAll();
    const resends = [...report.partitionResends.values()];
    console.log(
      `kafka export, ${KILLS} kills: ${writers.appended} events appended, ${report.records} records, ${report.duplicates} duplicates, re-sends per partition ${resends.join('/')}, ${Math.round((Date.now() - started) / 1000)} s`,
    );
    // Each restart re-sends at most one stretch per partition; nothing else sends twice (the broker never failed).
    for (const n of resends) expect(n).toBeLessThanOrEqual(KILLS);
    // The re-send path was exercised (with 20 ms per Kafka answer, nearly every kill lands inside a send).
    expect(report.duplicates).toBeGreaterThan(0);
    await exporter.stop();
  }, 600_000);

  it('waits out a 30 s broker outage: nothing acknowledged while Kafka is down, nothing lost after', async () => {
    exporter = startExporter(env());
    await exporter.ready;
    const writers = await Writers.open(await nats.connect('ipam'), 40, 15);
    writers.start(2);
    let lastSeq: number;
    let floorInOutage: number;
    let downAt: number;
    try {
      const before = await ackFloor();
      await waitFor(async () => (await ackFloor()) > before + 100, { timeoutMs: 60_000, message: 'the export to run before the outage' });

      downAt = Date.now();
      await kafka.down();
      const outageStarted = Date.now();
      await waitFor(() => /send failed; retrying the same batch/.test(exporter!.output()), { timeoutMs: 30_000, message: 'the exporter to notice the outage' }).catch((err: Error) => {
        throw new Error(`${err.message}; its output:\n${exporter!.output().slice(-3000)}`);
      });
      // Sends in flight when the broker went down have failed or landed by now: the floor must stay put from here on.
      floorInOutage = await ackFloor();
      await waitFor(() => Date.now() - outageStarted >= 30_000, { timeoutMs: 40_000, intervalMs: 250, message: '30 s of outage' });
      expect(await ackFloor()).toBe(floorInOutage);
      lastSeq = (await (await admin.jetstreamManager()).streams.info(streamName)).state.last_seq;
      expect(lastSeq).toBeGreaterThan(floorInOutage + 100);
      await kafka.up();
    } finally {
      await writers.stop();
    }
    lastSeq = (await (await admin.jetstreamManager()).streams.info(streamName)).state.last_seq;
    await waitFor(async () => (await ackFloor()) >= lastSeq, { timeoutMs: 60_000, intervalMs: 100, message: 'the export to catch up after the outage' });
    expect(exporter.output()).toMatch(/"msg":"kafka export: sending again"/);
    // Still the one process: it waited, it did not crash and come back.
    expect(exporter.output()).not.toMatch(/"level":60/);
    const { records } = await checkAll();
    // Acknowledged means in Kafka: every entry up to the floor held through the outage has a record the
    // broker took before it went down (kafkajs stamps a record when its send begins; a retried send stamps anew).
    const firstWritten = new Map<number, number>();
    for (const r of records) {
      const p = Number(r.headers[KAFKA_HEADERS.position]);
      firstWritten.set(p, Math.min(firstWritten.get(p) ?? Infinity, r.timestamp));
    }
    const lateAcked = [...firstWritten].filter(([p, t]) => p <= floorInOutage && t >= downAt);
    expect(lateAcked).toEqual([]);
    await exporter.stop();
  }, 300_000);
});
