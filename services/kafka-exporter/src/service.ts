/**
 * The Kafka export service: the event log to a Kafka topic (app/exporter.ts
 * says how and what a consumer sees). Settings come from the environment;
 * /metrics and /readyz as every service.
 */
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { DEFAULT_EVENT_LOG_OPTIONS } from '@strata/eventlog';
import type { ServiceDefinition } from '@strata/runtime';
import { Exporter } from './app/exporter.js';
import { KafkaSink } from './app/kafka-sink.js';

/** The durable consumer holding the export's progress (infra/nats/render-accounts.mjs grants it to this service's user alone). */
export const KAFKA_EXPORT_DURABLE = 'kafka-exporter';

export const kafkaExporterConfig = z.object({
  /** Comma-separated `host:port` bootstrap brokers. */
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter((b) => b !== ''))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).min(1, 'name at least one broker (host:port)')),
  /** The topic every event goes to; it must exist (the exporter does not create topics). */
  KAFKA_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -').default('strata.events'),
  KAFKA_CLIENT_ID: z.string().min(1).default('strata-kafka-exporter'),
  /** Records per Kafka send, at most; the durable consumer allows twice as many unacknowledged deliveries. */
  KAFKA_EXPORT_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** How long a send waits for more entries when less than a batch is in hand. */
  KAFKA_EXPORT_LINGER_MS: z.coerce.number().int().min(0).max(10_000).default(10),
  /** JetStream redelivers an unacknowledged entry after this long: a restarted exporter waits this long for a dead one's entries. */
  KAFKA_EXPORT_ACK_WAIT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How long the broker may take to acknowledge one send before it is retried. */
  KAFKA_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Longest wait between two attempts of a failed send (the first waits 200 ms, then doubling). */
  KAFKA_EXPORT_RETRY_MAX_MS: z.coerce.number().int().min(10).default(5_000),
});

export const kafkaExporterService: ServiceDefinition<typeof kafkaExporterConfig> = {
  name: 'kafka-exporter',
  config: kafkaExporterConfig,
  async start(ctx) {
    const { nc, logger, metrics, readiness, config } = ctx;
    const exported = metrics.counter('strata_kafka_export_records_total', 'Log entries Kafka acknowledged (re-sends included)');
    const failures = metrics.counter('strata_kafka_export_send_failures_total', 'Kafka sends that failed and were retried');
    const missing = metrics.counter('strata_kafka_export_missing_positions_total', 'Log positions passed over because the stream has no entry there');
    const position = new Gauge({ name: 'strata_kafka_export_position', help: 'The last log position in Kafka', registers: [metrics.registry] });
    const sink = new KafkaSink({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, topic: config.KAFKA_TOPIC, requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS, logger });
    const exporter = new Exporter({
      nc,
      stream: DEFAULT_EVENT_LOG_OPTIONS.streamName,
      filter: `${DEFAULT_EVENT_LOG_OPTIONS.subjectPrefix}.>`,
      durable: KAFKA_EXPORT_DURABLE,
      sink,
      logger,
      batch: config.KAFKA_EXPORT_BATCH,
      lingerMs: config.KAFKA_EXPORT_LINGER_MS,
      ackWaitMs: config.KAFKA_EXPORT_ACK_WAIT_MS,
      retryInitialMs: Math.min(200, config.KAFKA_EXPORT_RETRY_MAX_MS),
      retryMaxMs: config.KAFKA_EXPORT_RETRY_MAX_MS,
      onExported: (count, last) => {
        exported.inc(count);
        position.set(last);
      },
      onSendFailed: () => failures.inc(),
      onMissing: () => missing.inc(),
    });
    // Ready while consuming; a broker that does not answer makes it degraded, not unready: restarting would not help.
    readiness.register('export', () => {
      const failingForMs = exporter.failingForMs;
      return {
        ok: exporter.healthy,
        degraded: failingForMs !== undefined,
        detail: { topic: config.KAFKA_TOPIC, lastPosition: exporter.lastExported, ...(failingForMs === undefined ? {} : { sendsFailingForMs: failingForMs }) },
      };
    });
    await exporter.start();
    return async () => {
      await exporter.stop();
      await sink.close();
    };
  },
};
