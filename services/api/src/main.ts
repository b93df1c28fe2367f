#!/usr/bin/env node
/** The API process: gRPC in front, NATS behind. */
import { keystoneConfigFromEnv, KeystoneValidator } from '@strata/identity';
import { COMMAND_SERVICES, commandSignerFrom, runService, serverTlsOptions } from '@strata/runtime';
import { loadTokens } from './auth.js';
import { apiConfigSchema, transportLimits } from './config.js';
import { startApiServer } from './server.js';

await runService({
  name: 'api',
  config: apiConfigSchema,
  async start({ config, nc, logger, metrics }) {
    const tokens = loadTokens(config);
    logger.info({ tokens: tokens.map((t) => ({ name: t.name, tenant: t.tenant, admin: t.admin })) }, 'API tokens loaded');
    const signer = commandSignerFrom(config);
    // The key id each service should see (its own key's id), so a mismatched deployment shows in the logs.
    logger.info({ keyIds: Object.fromEntries(COMMAND_SERVICES.map((s) => [s, signer.keyIdFor(s)])) }, 'signing commands');
    const keystoneConfig = keystoneConfigFromEnv(config);
    const keystone = keystoneConfig && new KeystoneValidator(keystoneConfig, { logger }).start();
    if (keystoneConfig) {
      const { servicePassword: _, ...shown } = keystoneConfig;
      logger.info({ keystone: shown }, 'Keystone tokens accepted');
    }
    const tls = serverTlsOptions('STRATA_API_TLS', config);
    const api = await startApiServer({
      nc,
      tokens,
      signer,
      grpcAddr: config.STRATA_GRPC_ADDR,
      logger,
      metrics,
      transport: transportLimits(config),
      ...(keystone ? { keystone } : {}),
      ...(tls ? { tls } : {}),
    });
    return async () => {
      await api.stop();
      await keystone?.stop();
    };
  },
});
