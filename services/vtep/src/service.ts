/**
 * Wires the vtep controller on the shared service host: projection (IPAM's
 * gateway devices, bindings, hypervisors and ports; its own observations)
 * → executor → the controller, which drives every `ovsdb` gateway device's
 * hardware_vtep database (docs/architecture.md, "OVSDB hardware_vtep"). It
 * serves no commands or queries: IPAM owns the resources, the API reads
 * them there.
 */
import { z } from 'zod';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import { VtepController } from './app/controller.js';
import { vtepExecutor, vtepProjection } from './app/projection.js';
import { isRelevant } from './domain/evolve.js';

export const vtepConfig = z.object({
  /** Give up connecting to a device's database after this long (then retry with backoff). */
  VTEP_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** A request the database has not answered in this long ends the session (it is reopened and resynchronised). */
  VTEP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Longest wait between reconnects to a device. */
  VTEP_MAX_BACKOFF_MS: z.coerce.number().int().min(100).default(10_000),
});

export const vtepService: ServiceDefinition<typeof vtepConfig> = {
  name: 'vtep',
  config: vtepConfig,
  start: (ctx) => {
    let controller: VtepController | undefined;
    return startHostedService(ctx, {
      service: 'vtep',
      appliedHelp: 'IPAM and vtep events applied to the vtep projection',
      isRelevant,
      projection: (store, initial, onApplied) => vtepProjection(store, ctx.logger, initial, onApplied),
      executor: vtepExecutor,
      onApplied: () => controller?.sync(),
      afterStart: ({ projection, executor }) => {
        controller = new VtepController({
          projection,
          executor,
          logger: ctx.logger,
          metrics: ctx.metrics,
          connectTimeoutMs: ctx.config.VTEP_CONNECT_TIMEOUT_MS,
          requestTimeoutMs: ctx.config.VTEP_REQUEST_TIMEOUT_MS,
          maxBackoffMs: ctx.config.VTEP_MAX_BACKOFF_MS,
        });
        controller.sync();
        const c = controller;
        return { stop: async () => c.stop() };
      },
    });
  },
};
