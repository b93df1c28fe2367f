/**
 * A position the stream does not have. The provisioned event stream refuses
 * message deletes (and the server refuses to lift that), so its positions
 * are contiguous; a stream made without that protection can lose one. The
 * exporter then waits for it (it might be a redelivery still to come), asks
 * the stream (with its own user's message-get grant), and passes over it
 * only because the stream says it does not exist: everything after it is
 * exported, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { DEFAULT_EVENT_LOG_OPTIONS, eventStreamConfig } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startKafkaMock, startStrataNats, waitFor, type KafkaMock, type StrataNats } from '@strata/testing';
import { KAFKA_EXPORT_DURABLE } from './service.js';
import { checkExport } from './test/export-check.js';
import { publishEvents, readLog, readTopic, startExporter } from './test/support.js';

const TOPIC = 'strata.events';
const { streamName } = DEFAULT_EVENT_LOG_OPTIONS;

describe('kafka export over a position the stream does not have', () => {
  let nats: StrataNats;
  let kafka: KafkaMock;
  let admin: NatsConnection;
  let exporter: ManagedProcess | undefined;

  beforeAll(async () => {
    nats = await startStrataNats();
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 2 }] });
    admin = await nats.connect('admin');
    // The event stream without its delete protection (what an unprovisioned, older stream might be).
    await (await admin.jetstreamManager()).streams.add({ ...eventStreamConfig(DEFAULT_EVENT_LOG_OPTIONS), deny_delete: false });
  });

  afterAll(async () => {
    await exporter?.stop();
    await kafka?.stop();
    await nats?.stop();
  });

  it('waits for it, finds it is not there, and exports everything after it in order', async () => {
    await publishEvents(admin, 30, 5);
    const jsm = await admin.jetstreamManager();
    expect(await jsm.streams.deleteMessage(streamName, 10)).toBe(true);

    exporter = startExporter({ ...nats.env('kafka-exporter'), KAFKA_BROKERS: kafka.bootstrap, KAFKA_TOPIC: TOPIC });
    await exporter.ready;
    await waitFor(async () => (await jsm.consumers.info(streamName, KAFKA_EXPORT_DURABLE)).ack_floor.stream_seq >= 30, { timeoutMs: 30_000, intervalMs: 50, message: 'the export to pass position 10' });
    expect(exporter.output()).toMatch(/"position":10,"msg":"kafka export: the stream has no entry at this position \(deleted\); passing over it"/);

    const log = await readLog(admin);
    expect(log.map((e) => e.position)).not.toContain(10);
    expect(log).toHaveLength(29);
    const report = checkExport(log, await readTopic(kafka.bootstrap, TOPIC, new Set(log.map((e) => e.id)), 60_000));
    expect(report.problems).toEqual([]);
    expect(report.duplicates).toBe(0);
  });
});
