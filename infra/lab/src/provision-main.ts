#!/usr/bin/env node
/**
 * Provision Strata's JetStream streams as the operator (provision.ts):
 *
 *   NATS_URL=… NATS_USER=admin NATS_PASSWORD=… node infra/lab/dist/provision-main.js --agents hv1,hv2
 *
 * With the services' NATS_TLS_CA (and NATS_TLS_CERT/NATS_TLS_KEY) over TLS.
 */
import { connect } from 'nats';
import { natsTlsOptions } from '@strata/runtime';
import { provisionStreams } from './provision.js';

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === '--agents' || a.startsWith('--agents='));
const list = at < 0 ? '' : args[at]!.startsWith('--agents=') ? args[at]!.slice('--agents='.length) : (args[at + 1] ?? '');
const hosts = list.split(',').map((h) => h.trim()).filter((h) => h !== '');
const env = process.env;
const servers = env['NATS_URL'] || 'nats://127.0.0.1:4222';
const tls = natsTlsOptions({ NATS_URL: servers, NATS_TLS_CA: env['NATS_TLS_CA'] || undefined, NATS_TLS_CERT: env['NATS_TLS_CERT'] || undefined, NATS_TLS_KEY: env['NATS_TLS_KEY'] || undefined });
const nc = await connect({
  servers: servers.split(','),
  ...(tls ? { tls } : {}),
  ...(env['NATS_USER'] ? { user: env['NATS_USER'] } : {}),
  ...(env['NATS_PASSWORD'] ? { pass: env['NATS_PASSWORD'] } : {}),
  name: 'strata-provision',
});
try {
  await provisionStreams(nc, { hosts });
  process.stdout.write(`provisioned the event log, snapshot buckets and ${hosts.length} host-view bucket(s)\n`);
} finally {
  await nc.close();
}
