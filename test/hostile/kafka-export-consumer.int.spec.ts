/**
 * The Kafka export's progress is its durable consumer `kafka-exporter`: a
 * user that could pull from it or acknowledge its messages would take
 * entries away from the topic (acknowledged, never exported). Only the
 * exporter's own user may touch it; every other service user, log readers
 * included, is refused, and the export stays complete (nothing taken: every
 * position exported exactly once, no re-send). And when an operator deletes
 * the consumer anyway, the exporter creates it again and goes on without
 * sending anything twice (what it already produced is acknowledged, not re-sent).
 *
 * Real components: nats-server with the production users, the exporter as a
 * process (its own user), librdkafka's mock cluster as the broker.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { startKafkaMock, waitFor, type KafkaMock, type StrataNats } from '@strata/testing';
import { attempt, EVENTS } from './support/control-plane.js';

const DURABLE = 'kafka-exporter';
const TOPIC = 'strata.events';
const EXPORTER_MAIN = fileURLToPath(new URL('../../services/kafka-exporter/dist/main.js', import.meta.url));

describe('hostile: other users and the Kafka export\'s consumer', () => {
  let nats: StrataNats;
  let kafka: KafkaMock;
  let admin: NatsConnection;
  let exporter: ManagedProcess;

  const lastSeq = async (): Promise<number> => (await (await admin.jetstreamManager()).streams.info(EVENTS)).state.last_seq;
  const ackFloor = async (): Promise<number> => (await (await admin.jetstreamManager()).consumers.info(EVENTS, DURABLE)).ack_floor.stream_seq;
  /** Some events: the ipam user writes its own context's (what the exporter follows). */
  const publish = async (n: number): Promise<void> => {
    const js = (await nats.connect('ipam')).jetstream();
    for (let i = 0; i < n; i++) {
      const id = `p${i % 7}`;
      const envelope = { id: `ev-${Date.now()}-${i}`, type: 'ipam.PortUpdated', version: 1, aggregate: { context: 'ipam', type: 'port', id }, tenant: 't', actor: 'a', correlationId: 'c', causationId: null, occurredAt: new Date().toISOString(), data: {} };
      await js.publish(`strata.evt.ipam.port.${id}`, JSON.stringify(envelope), { msgID: envelope.id });
    }
  };
  /** The exporter's own count of records Kafka acknowledged, and its position, from /metrics. */
  const exported = async (): Promise<{ records: number; position: number }> => {
    const http = /"http":"([^"]+)"/.exec(exporter.output())![1]!;
    const text = await (await fetch(`http://${http}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { records: value('strata_kafka_export_records_total'), position: value('strata_kafka_export_position') };
  };

  beforeAll(async () => {
    nats = await startProvisionedNats();
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 2 }] });
    admin = await nats.connect('admin');
    await publish(50);
    exporter = startProcess('kafka-exporter', [process.execPath, EXPORTER_MAIN], {
      env: { ...nats.env('kafka-exporter'), KAFKA_BROKERS: kafka.bootstrap, KAFKA_TOPIC: TOPIC, STRATA_HTTP_PORT: '0', KAFKA_EXPORT_ACK_WAIT_MS: '1000' },
    });
    await exporter.ready;
    await waitFor(async () => (await ackFloor()) >= 50, { timeoutMs: 30_000, intervalMs: 50, message: 'the first events exported' });
  });
  afterAll(async () => {
    await exporter?.stop();
    await kafka?.stop();
    await nats?.stop();
  });

  it('no other user may delete, pull from, acknowledge, read or take over the export\'s consumer; the export stays whole', async () => {
    // Entries waiting for the export while the others try: a pull that got through would take some.
    await publish(50);
    for (const user of ['api', 'ipam', 'secgroup', 'hostview', 'status']) {
      const nc = await nats.connect(user);
      const tries: [string, string][] = [
        [`$JS.API.CONSUMER.DELETE.${EVENTS}.${DURABLE}`, ''],
        [`$JS.API.CONSUMER.MSG.NEXT.${EVENTS}.${DURABLE}`, JSON.stringify({ batch: 10, expires: 1e9 })],
        [`$JS.API.CONSUMER.INFO.${EVENTS}.${DURABLE}`, ''],
        [`$JS.API.CONSUMER.CREATE.${EVENTS}.${DURABLE}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        [`$JS.API.CONSUMER.DURABLE.CREATE.${EVENTS}.${DURABLE}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        [`$JS.API.CONSUMER.CREATE.${EVENTS}`, JSON.stringify({ stream_name: EVENTS, config: { durable_name: DURABLE, ack_policy: 'explicit' } })],
        [`$JS.ACK.${EVENTS}.${DURABLE}.1.60.60.0.0`, ''],
      ];
      for (const [subject, body] of tries) expect(await attempt(nc, subject, body), `${user} ${subject}`).toMatch(/Permissions Violation/);
    }
    const end = await lastSeq();
    await waitFor(async () => (await ackFloor()) >= end, { timeoutMs: 30_000, intervalMs: 50, message: 'the export to catch up' });
    // Every position went to Kafka once: none taken away, none re-sent.
    await waitFor(async () => (await exported()).position === end, { timeoutMs: 10_000, message: 'the metrics to show the last position' });
    expect(await exported()).toEqual({ records: end, position: end });
  });

  it('when an operator deletes the consumer, the exporter creates it again and sends nothing twice', async () => {
    const jsm = await admin.jetstreamManager();
    const created = (await jsm.consumers.info(EVENTS, DURABLE)).created;
    expect(await jsm.consumers.delete(EVENTS, DURABLE)).toBe(true);
    await waitFor(async () => (await jsm.consumers.info(EVENTS, DURABLE).catch(() => undefined))?.created !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'the export consumer created again',
    });
    expect((await jsm.consumers.info(EVENTS, DURABLE)).created).not.toBe(created);
    expect(exporter.output()).toMatch(/kafka export: lost its consumer; creating it again/);
    await publish(20);
    const end = await lastSeq();
    // The new consumer starts at the beginning: what was produced is acknowledged, not sent again.
    await waitFor(async () => (await ackFloor()) >= end, { timeoutMs: 60_000, intervalMs: 100, message: 'the export to catch up on the new consumer' });
    await waitFor(async () => (await exported()).position === end, { timeoutMs: 10_000, message: 'the metrics to show the last position' });
    expect(await exported()).toEqual({ records: end, position: end });
  });
});
