/**
 * The Neutron service as its own process for the neutron-rest bench (the
 * gRPC API it is compared with runs as one too): connects as NATS user
 * `neutron`, validates tokens with the KeystoneValidator, serves every
 * resource module on a free loopback port and prints `listening <url>`.
 * Settings from the environment: NATS_URL, NATS_PASSWORD,
 * STRATA_COMMAND_SIGNING_KEY, KEYSTONE_URL, KEYSTONE_SERVICE_USER,
 * KEYSTONE_SERVICE_PASSWORD.
 */
import { connect } from 'nats';
import { KeystoneValidator, keystoneValidatorConfigSchema } from '@strata/identity';
import { startNeutronServer } from '@strata/neutron';
import { CommandSigner, createLogger } from '@strata/runtime';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const nc = await connect({ servers: env('NATS_URL'), user: 'neutron', pass: env('NATS_PASSWORD'), inboxPrefix: '_INBOX_neutron', name: 'neutron-bench' });
const validator = new KeystoneValidator(
  keystoneValidatorConfigSchema.parse({ url: env('KEYSTONE_URL'), serviceUser: env('KEYSTONE_SERVICE_USER'), servicePassword: env('KEYSTONE_SERVICE_PASSWORD') }),
).start();
const server = await startNeutronServer({
  nc,
  signer: new CommandSigner(env('STRATA_COMMAND_SIGNING_KEY')),
  validator,
  listen: '127.0.0.1:0',
  logger: createLogger('neutron', 'warn'),
});
console.log(`listening ${server.url}`);
process.once('SIGTERM', () => {
  void (async () => {
    await server.stop();
    await validator.stop();
    await nc.close();
    process.exit(0);
  })();
});
