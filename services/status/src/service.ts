/**
 * Wires the status service on the shared service host: snapshot → projection
 * → executor (its liveness decisions) → query handlers, then its own loop:
 * the agents' reports and heartbeats, the liveness clock and the publication
 * of status changes.
 */
import { z } from 'zod';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import { isRelevant } from './domain/evolve.js';
import { queryHandlers } from './app/handlers.js';
import { hostviewAsker } from './app/hostview.js';
import { LivenessMonitor } from './app/liveness.js';
import { Observations } from './app/observations.js';
import { statusExecutor, statusProjection } from './app/projection.js';
import { ChangePublisher } from './app/publisher.js';
import { StatusReader } from './app/reader.js';
import { STATUS_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const statusConfig = z.object({
  /** A registered hypervisor whose agent has not been heard for this long is down (three heartbeats at the agent's 5 s). */
  STATUS_AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** How often the liveness clock decides every registered host. */
  STATUS_LIVENESS_TICK_MS: z.coerce.number().int().min(10).default(1_000),
  /**
   * The bounded wait for every hostview partition's answer. The waits nest: hostview's own wait for `minSeq`
   * (HOSTVIEW_POSITIONS_WAIT_MS, 2 s) < this (3 s) < the api's request timeout (5 s), so each caller gets the
   * reason of the one below it (UNAVAILABLE naming the partition) rather than a timeout of its own.
   */
  STATUS_HOSTVIEW_TIMEOUT_MS: z.coerce.number().int().min(10).default(3_000),
  /** A changed resource is tracked (re-derived, changes published) until it settles or for this long. */
  STATUS_TRACK_MS: z.coerce.number().int().min(1_000).default(600_000),
  /** While something is tracked, derive it again this often even without a trigger. */
  STATUS_SWEEP_MS: z.coerce.number().int().min(10).default(2_000),
  /** Save a snapshot after this many applied followed events; 0 disables snapshots. */
  STATUS_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  STATUS_USE_SNAPSHOT: bool.default(true),
});

export const statusService: ServiceDefinition<typeof statusConfig> = {
  name: 'status',
  config: statusConfig,
  async start(ctx) {
    const { nc, logger, metrics, config } = ctx;
    const now = (): number => Date.now();
    let publisher: ChangePublisher | undefined;
    let liveness: LivenessMonitor | undefined;
    const observations = new Observations({
      nc,
      logger,
      metrics,
      now,
      onHeard: (hostId) => liveness?.check(hostId),
      onChange: (hostId, ports) => publisher?.onHostChanged(hostId, ports),
    });
    const ask = hostviewAsker(nc, `_INBOX_${config.NATS_USER ?? ctx.name}`, config.STATUS_HOSTVIEW_TIMEOUT_MS);
    const reader = new StatusReader(observations, ask);
    return startHostedService(ctx, {
      service: 'status',
      snapshot: { kind: STATUS_SNAPSHOT, every: config.STATUS_SNAPSHOT_EVERY, use: config.STATUS_USE_SNAPSHOT },
      appliedHelp: 'status, IPAM, secgroup and chaining events applied to the status projection',
      isRelevant,
      projection: (store, initial, onApplied) => statusProjection(store, logger, initial, onApplied),
      executor: statusExecutor,
      handlers: (deps) => ({ commands: {}, queries: queryHandlers(deps.projection, reader, deps.store) }),
      // Live events only: `publisher` exists once the projection has caught up.
      onApplied: (_state, event) => publisher?.onEvent(event),
      afterStart: async (deps) => {
        observations.start();
        // The subscriptions are the server's before any agent is asked to report into them.
        await nc.flush();
        const p = new ChangePublisher({ nc, state: () => deps.projection.state, reader, logger, metrics, now, trackMs: config.STATUS_TRACK_MS, sweepMs: config.STATUS_SWEEP_MS });
        const l = new LivenessMonitor({ ...deps, observations, logger, timeoutMs: config.STATUS_AGENT_TIMEOUT_MS, tickMs: config.STATUS_LIVENESS_TICK_MS, now });
        publisher = p;
        liveness = l;
        p.start();
        l.start();
        // Reports are not replayed: every registered host's agent is asked for its full report now.
        for (const hostId of Object.keys(deps.projection.state.hypervisors)) observations.askReport(hostId);
        return {
          async stop() {
            await observations.stop();
            await l.stop();
            await p.stop();
          },
        };
      },
    });
  },
};
