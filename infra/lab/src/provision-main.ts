#!/usr/bin/env node
/**
 * Provision Strata's JetStream streams as the operator (provision.ts):
 *
 *   NATS_URL=… NATS_USER=admin NATS_PASSWORD=… node infra/lab/dist/provision-main.js --agents hv1,hv2
 */
import { connect } from 'nats';
import { provisionStreams } from './provision.js';

const args = process.argv.slice(2);
const at = args.findIndex((a) => a === '--agents' || a.startsWith('--agents='));
const list = at < 0 ? '' : args[at]!.startsWith('--agents=') ? args[at]!.slice('--agents='.length) : (args[at + 1] ?? '');
const hosts = list.split(',').map((h) => h.trim()).filter((h) => h !== '');
const env = process.env;
const nc = await connect({
  servers: (env['NATS_URL'] ?? 'nats://127.0.0.1:4222').split(','),
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
