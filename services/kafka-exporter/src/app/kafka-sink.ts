/**
 * The Kafka side: a kafkajs producer that resolves a send only when the
 * broker acknowledged every record with acks=-1 (all in-sync replicas).
 *
 * Not the idempotent producer: it needs the broker's InitProducerId, which
 * the test broker (librdkafka's mock cluster) cannot answer for kafkajs
 * (it reports controller id 0), and the export does not lean on it: a
 * re-sent record is recognised by its event id (record.ts). One send at a
 * time (the exporter's pump) and maxInFlightRequests 1 keep a partition's
 * records in the order given.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '@strata/runtime';
import type { RecordSink } from './exporter.js';
import type { KafkaRecord } from './record.js';

export interface KafkaSinkOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  /** How long the broker may take to acknowledge one send. */
  requestTimeoutMs: number;
  logger: Logger;
}

export class KafkaSink implements RecordSink {
  private readonly producer: Producer;
  private connected = false;

  constructor(private readonly options: KafkaSinkOptions) {
    const log = options.logger.child({ component: 'kafkajs' });
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3_000,
      requestTimeout: options.requestTimeoutMs,
      // A few quick attempts inside one send; the exporter retries a failed send for as long as it takes.
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      // kafkajs hands each entry as { namespace, level, label, log: { timestamp, logger, message, ...fields } }.
      logCreator: () => (entry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log;
        if (entry.level <= logLevel.ERROR) log.warn({ ...fields, namespace: entry.namespace }, `kafkajs: ${message}`);
        else log.debug({ ...fields, namespace: entry.namespace }, `kafkajs: ${message}`);
      },
    });
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      maxInFlightRequests: 1,
      // The Java client's murmur2 partitioner: a key lands where other Kafka clients would put it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  /** Has the producer reached the brokers (since its last disconnect)? */
  get isConnected(): boolean {
    return this.connected;
  }

  async send(records: KafkaRecord[]): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    await this.producer.send({ topic: this.options.topic, acks: -1, timeout: this.options.requestTimeoutMs, messages: records });
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }
}
