#!/usr/bin/env node
/**
 * The projector without the service runtime (no HTTP server, metrics or
 * tracing): the same PgProjector and crash hook as main.js, started in a
 * fraction of the time. The crash tests start it a thousand times; use
 * main.js everywhere else. Environment: NATS_URL, NATS_USER,
 * NATS_PASSWORD (NATS_TLS_* as every service), and the STRATA_PG_* variables of service.ts.
 */
import { connect } from 'nats';
// The subpath, not the package: its index loads logging, metrics and tracing (half a second of every start).
import { natsTlsOptions } from '@strata/runtime/nats-tls';
import { crashAfterCommit } from './crash-hook.js';
import { PgProjector } from './projector.js';
import { schemaName } from './schema.js';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] || fallback;
  if (v === undefined) {
    process.stderr.write(`${name} is not set\n`);
    process.exit(2);
  }
  return v;
};
const line = (level: string) => (fields: Record<string, unknown>, msg: string): void => {
  process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
};

const tls = natsTlsOptions({
  NATS_URL: env('NATS_URL'),
  NATS_TLS_CA: process.env['NATS_TLS_CA'] || undefined,
  NATS_TLS_CERT: process.env['NATS_TLS_CERT'] || undefined,
  NATS_TLS_KEY: process.env['NATS_TLS_KEY'] || undefined,
});
const nc = await connect({
  ...(tls ? { tls } : {}),
  servers: env('NATS_URL').split(','),
  user: env('NATS_USER', 'pg-projector'),
  pass: env('NATS_PASSWORD'),
  inboxPrefix: `_INBOX_${env('NATS_USER', 'pg-projector')}`,
  name: 'pg-projector-bare',
});
const crash = Number(env('STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT', '0'));
const projector = new PgProjector({
  nc,
  pgUrl: env('STRATA_PG_URL'),
  schema: schemaName(env('STRATA_PG_SCHEMA', 'strata')),
  stream: 'STRATA_EVENTS',
  durable: 'pg-projector',
  filter: 'strata.evt.>',
  batch: Number(env('STRATA_PG_BATCH', '500')),
  log: { info: line('info'), warn: line('warn') },
  onRole: (role) => line('info')({ role }, 'role'),
  ...(crash > 0 ? { afterCommit: crashAfterCommit(crash) } : {}),
});
projector.start();
const shutdown = (): void => {
  void projector.stop().then(() => nc.drain()).then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
