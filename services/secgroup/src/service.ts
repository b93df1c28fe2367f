/** Wires secgroup on the shared service host: snapshot → projection → executor → NATS handlers, and the port reactor. */
import { z } from 'zod';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import type { NewSecgroupEvent } from './domain/decide/types.js';
import { isRelevant } from './domain/evolve.js';
import type { SecgroupState } from './domain/state.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';
import { PortReactor } from './app/port-reactor.js';
import { secgroupExecutor, secgroupProjection } from './app/projection.js';
import { SECGROUP_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const secgroupConfig = z.object({
  /** Save a snapshot after this many applied events; 0 disables snapshots. */
  SECGROUP_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  SECGROUP_USE_SNAPSHOT: bool.default(true),
  /** Run the port reactor (default-group membership, forgetting deleted ports) in this instance. */
  SECGROUP_PORT_REACTOR: bool.default(true),
  /** Ack wait of the reactor's durable consumer (applies when this instance creates it). */
  SECGROUP_REACTOR_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Delay before a failed reactor event is redelivered. */
  SECGROUP_REACTOR_RETRY_MS: z.coerce.number().int().min(0).default(2_000),
});

export const secgroupService: ServiceDefinition<typeof secgroupConfig> = {
  name: 'secgroup',
  config: secgroupConfig,
  start: (ctx) =>
    startHostedService<SecgroupState, NewSecgroupEvent>(ctx, {
      service: 'secgroup',
      snapshot: { kind: SECGROUP_SNAPSHOT, every: ctx.config.SECGROUP_SNAPSHOT_EVERY, use: ctx.config.SECGROUP_USE_SNAPSHOT },
      appliedHelp: 'events applied to the secgroup projection',
      isRelevant,
      projection: (store, initial, onApplied) => secgroupProjection({ store, logger: ctx.logger, initial, onApplied }),
      executor: (store, projection, onConflict) => secgroupExecutor({ store, projection, onConflict }),
      handlers: (deps) => ({ commands: commandHandlers(deps), queries: queryHandlers(deps) }),
      reactorHelp: 'IPAM port events handled by the port reactor',
      reactor: (deps) =>
        ctx.config.SECGROUP_PORT_REACTOR
          ? new PortReactor({ ...deps, logger: ctx.logger, ackWaitMs: ctx.config.SECGROUP_REACTOR_ACK_WAIT_MS, retryDelayMs: ctx.config.SECGROUP_REACTOR_RETRY_MS })
          : undefined,
    }),
};
