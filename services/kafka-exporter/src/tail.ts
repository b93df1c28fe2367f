#!/usr/bin/env node
/**
 * strata-kafka-tail: print the export topic's records, one line each, from
 * the beginning, then exit once nothing new came for a moment. For looking
 * at the lab's topic (`docker-compose exec kafka-exporter strata-kafka-tail`)
 * and at a deployment's, not for consuming it.
 *
 *   KAFKA_BROKERS=host:9092 [KAFKA_TOPIC=strata.events] strata-kafka-tail [--last N]
 *
 * Each line: partition/offset, position, event type, tenant, key, event id,
 * and "(re-sent)" on a record whose event id was printed before.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_HEADERS } from './app/record.js';

const IDLE_MS = 3_000;

function brokers(): string[] {
  // In the lab the broker's address is in a file (infra/docker/bin/lab-kafka).
  const raw = process.env['KAFKA_BROKERS'] ?? readFileSync(process.env['KAFKA_BOOTSTRAP_FILE'] ?? '/run/strata-kafka/bootstrap', 'utf8');
  return raw.split(',').map((b) => b.trim()).filter((b) => b !== '');
}

function lastArg(argv: string[]): number | undefined {
  const i = argv.indexOf('--last');
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error('--last needs a positive whole number');
  return n;
}

async function main(): Promise<void> {
  const last = lastArg(process.argv.slice(2));
  const topic = process.env['KAFKA_TOPIC'] ?? 'strata.events';
  const kafka = new Kafka({ clientId: 'strata-kafka-tail', brokers: brokers(), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `strata-kafka-tail-${randomUUID()}` });
  const lines: string[] = [];
  const seen = new Set<string>();
  let lastRecordAt = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const h = (name: string): string => message.headers?.[name]?.toString() ?? '';
        const id = h(KAFKA_HEADERS.eventId);
        lines.push(`${partition}/${message.offset}\t${h(KAFKA_HEADERS.position)}\t${h(KAFKA_HEADERS.type)}\t${h(KAFKA_HEADERS.tenant)}\t${message.key?.toString() ?? ''}\t${id}${seen.has(id) ? '\t(re-sent)' : ''}`);
        seen.add(id);
        lastRecordAt = Date.now();
      },
    });
    const started = Date.now();
    // The group join alone takes a few seconds; then stop once the topic stays quiet.
    while (Date.now() - Math.max(lastRecordAt, started + 5_000) < IDLE_MS) await new Promise((r) => setTimeout(r, 200));
  } finally {
    await consumer.disconnect();
  }
  const out = last === undefined ? lines : lines.slice(-last);
  process.stdout.write(`partition/offset\tposition\ttype\ttenant\tkey\tevent id\n${out.join('\n')}${out.length ? '\n' : ''}`);
  process.stderr.write(`${lines.length} records, ${seen.size} events\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`strata-kafka-tail: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
