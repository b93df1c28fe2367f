/** Wires nat on the shared service host: snapshot → projection → executor → NATS handlers, and the reactor that follows IPAM. */
import { z } from 'zod';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import { isRelevant } from './domain/evolve.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';
import { natExecutor, natProjection } from './app/projection.js';
import { NatReactor } from './app/reactor.js';
import { NAT_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const natConfig = z.object({
  /** Save a snapshot after this many applied nat/IPAM events; 0 disables snapshots. */
  NAT_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  NAT_USE_SNAPSHOT: bool.default(true),
  /** Run the reactor (ends associations of deleted ports / released addresses, gateways of deleted routers) in this instance. */
  NAT_REACTOR: bool.default(true),
  /** Ack wait of the reactor's durable consumer (applies when this instance creates it). */
  NAT_REACTOR_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Delay before a failed reactor event is redelivered. */
  NAT_REACTOR_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
});

export const natService: ServiceDefinition<typeof natConfig> = {
  name: 'nat',
  config: natConfig,
  start: (ctx) =>
    startHostedService(ctx, {
      service: 'nat',
      snapshot: { kind: NAT_SNAPSHOT, every: ctx.config.NAT_SNAPSHOT_EVERY, use: ctx.config.NAT_USE_SNAPSHOT },
      appliedHelp: 'nat and IPAM events applied to the nat projection',
      isRelevant,
      projection: (store, initial, onApplied) => natProjection(store, ctx.logger, initial, onApplied),
      executor: natExecutor,
      handlers: (deps) => ({ commands: commandHandlers(deps), queries: queryHandlers(deps) }),
      reactorHelp: 'IPAM events handled by the nat reactor',
      reactor: (deps) =>
        ctx.config.NAT_REACTOR
          ? new NatReactor({ ...deps, logger: ctx.logger, ackWaitMs: ctx.config.NAT_REACTOR_ACK_WAIT_MS, retryDelayMs: ctx.config.NAT_REACTOR_RETRY_MS })
          : undefined,
    }),
};
