#!/usr/bin/env node
/** The API process: gRPC in front, NATS behind. */
import { commandSignerFrom, runService } from '@strata/runtime';
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
    logger.info({ keyId: signer.keyId }, 'signing commands');
    const api = await startApiServer({ nc, tokens, signer, grpcAddr: config.STRATA_GRPC_ADDR, logger, metrics, transport: transportLimits(config) });
    return () => api.stop();
  },
});
