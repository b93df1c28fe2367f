#!/usr/bin/env node
/** The Neutron service process: Neutron v2.0 REST with Keystone identity in front, NATS behind (docs/architecture.md). */
import { KeystoneValidator, keystoneConfigFromEnv, keystoneEnvShape } from '@strata/identity';
import { COMMAND_SERVICES, commandSignerFrom, runService, serverTlsOptions } from '@strata/runtime';
import { httpLimits, neutronConfigSchema } from './config.js';
import { startNeutronServer } from './server.js';

await runService({
  name: 'neutron',
  config: neutronConfigSchema.extend(keystoneEnvShape),
  async start({ config, nc, logger, metrics }) {
    const keystone = keystoneConfigFromEnv(config);
    // Keystone tokens are the only credential this front door takes: without Keystone it would refuse everyone.
    if (keystone === undefined) throw new Error('KEYSTONE_URL is not set: the Neutron API authenticates every request with Keystone');
    const validator = new KeystoneValidator(keystone, { logger }).start();
    const signer = commandSignerFrom(config);
    logger.info({ keyIds: Object.fromEntries(COMMAND_SERVICES.map((s) => [s, signer.keyIdFor(s)])), keystone: keystone.url }, 'signing commands; validating tokens with Keystone');
    const tls = serverTlsOptions('STRATA_NEUTRON_TLS', config);
    const server = await startNeutronServer({
      ...(tls ? { tls } : {}),
      nc,
      signer,
      validator,
      listen: config.STRATA_NEUTRON_LISTEN,
      logger,
      metrics,
      publicUrl: config.STRATA_NEUTRON_PUBLIC_URL,
      wwwAuthenticateUri: keystone.url,
      maxBodyBytes: config.STRATA_NEUTRON_MAX_BODY_BYTES,
      http: httpLimits(config),
    });
    return async () => {
      await server.stop();
      await validator.stop();
    };
  },
});
