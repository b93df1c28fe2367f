/** Wires chaining on the shared service host: snapshot → projection → executor → NATS handlers, the GARP reactor that follows IPAM, and the health-report subscription. */
import { z } from 'zod';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import { isRelevant } from './domain/evolve.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';
import { followHealthReports } from './app/health.js';
import { chainingExecutor, chainingProjection } from './app/projection.js';
import { ChainingReactor } from './app/reactor.js';
import { CHAINING_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const chainingConfig = z.object({
  /** Save a snapshot after this many applied chaining/IPAM/secgroup events; 0 disables snapshots. */
  CHAINING_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  CHAINING_USE_SNAPSHOT: bool.default(true),
  /** Run the reactor (GARP: a virtual IP's new owner makes its member active; a deleted leg port makes its function unhealthy) in this instance. */
  CHAINING_REACTOR: bool.default(true),
  CHAINING_REACTOR_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  CHAINING_REACTOR_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
});

export const chainingService: ServiceDefinition<typeof chainingConfig> = {
  name: 'chaining',
  config: chainingConfig,
  start: (ctx) =>
    startHostedService(ctx, {
      service: 'chaining',
      snapshot: { kind: CHAINING_SNAPSHOT, every: ctx.config.CHAINING_SNAPSHOT_EVERY, use: ctx.config.CHAINING_USE_SNAPSHOT },
      appliedHelp: 'chaining, IPAM and secgroup events applied to the chaining projection',
      isRelevant,
      projection: (store, initial, onApplied) => chainingProjection(store, ctx.logger, initial, onApplied),
      executor: chainingExecutor,
      handlers: (deps) => ({ commands: commandHandlers(deps), queries: queryHandlers(deps) }),
      reactorHelp: 'IPAM events handled by the chaining reactor',
      reactor: (deps) =>
        ctx.config.CHAINING_REACTOR
          ? new ChainingReactor({ ...deps, logger: ctx.logger, ackWaitMs: ctx.config.CHAINING_REACTOR_ACK_WAIT_MS, retryDelayMs: ctx.config.CHAINING_REACTOR_RETRY_MS })
          : undefined,
      afterStart: (deps) => followHealthReports({ ...deps, nc: ctx.nc, logger: ctx.logger, metrics: ctx.metrics }),
    }),
};
