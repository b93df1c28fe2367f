/** Wires IPAM on the shared service host: snapshot → projection → executor → recovery → NATS handlers. */
import { z } from 'zod';
import { eventFilter, IPAM_CONTEXT, ipamEvents, type IpamEvent } from '@strata/contracts';
import type { Logger, ServiceDefinition } from '@strata/runtime';
import { Executor, isQuarantineRefusal, Projection, startHostedService, type SnapshotKind } from '@strata/service-kit';
import { finishNetworkDeletion, halfDeletedNetworks, type NewIpamEvent } from './domain/decide/index.js';
import { defaultPolicy, type IpamPolicy } from './domain/policy.js';
import { initialState, type IpamState } from './domain/state.js';
import { foldIpam } from './app/fold.js';
import { startGarpReports } from './app/garp-reports.js';
import { startGatewayMacsReports } from './app/gateway-macs-reports.js';
import { commandHandlers, queryHandlers, type IpamExecutor, type IpamProjection } from './app/handlers.js';

/** Bump when IpamState's shape changes: older snapshots are then ignored and the log replayed. (6: updates' fields and subnets' IPv6 modes; 7: updatedAt, ports' deviceOwner, networks' portSecurityEnabled, floating IPs' description; 8: routers' updatedAt; 9: gateway devices and bindings; 10: networks' federated flag.) */
export const STATE_SCHEMA_VERSION = 10;
export const IPAM_SNAPSHOT: SnapshotKind = { name: 'ipam', schemaVersion: STATE_SCHEMA_VERSION };

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ipamConfig = z.object({
  IPAM_VNI_MIN: z.coerce.number().int().min(1).max(16_777_215).default(defaultPolicy.vniMin),
  IPAM_VNI_MAX: z.coerce.number().int().min(1).max(16_777_215).default(defaultPolicy.vniMax),
  IPAM_DEFAULT_MTU: z.coerce.number().int().min(576).max(9000).default(defaultPolicy.defaultMtu),
  IPAM_MAC_PREFIX: z.string().regex(/^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/).default(defaultPolicy.macPrefix),
  /** Save a snapshot after this many applied events; 0 disables snapshots. */
  IPAM_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  IPAM_USE_SNAPSHOT: bool.default(true),
});

/** Finish deletions a crash interrupted between their two events (handlers.ts: close, then delete). */
async function finishInterruptedDeletions(executor: IpamExecutor, projection: IpamProjection, logger: Logger): Promise<void> {
  for (const networkId of halfDeletedNetworks(projection.state)) {
    const caller = { actor: 'ipam', tenant: '_system', admin: true, requestId: networkId, at: new Date().toISOString() };
    try {
      await executor.execute((s) => finishNetworkDeletion(s, networkId), { caller, correlationId: networkId, step: 'recovered-delete' });
      logger.info({ networkId }, 'completed an interrupted network deletion');
    } catch (err) {
      // A quarantined network stays half-deleted (and refuses commands) rather than keep IPAM from starting.
      if (!isQuarantineRefusal(err)) throw err;
      logger.warn({ networkId, err }, 'interrupted network deletion not completed: the network is quarantined');
    }
  }
}

export const ipamService: ServiceDefinition<typeof ipamConfig> = {
  name: 'ipam',
  config: ipamConfig,
  async start(ctx) {
    const { config, logger } = ctx;
    const policy: IpamPolicy = {
      vniMin: config.IPAM_VNI_MIN,
      vniMax: config.IPAM_VNI_MAX,
      defaultMtu: config.IPAM_DEFAULT_MTU,
      macPrefix: config.IPAM_MAC_PREFIX,
    };
    if (policy.vniMin > policy.vniMax) throw new Error(`IPAM_VNI_MIN ${policy.vniMin} is above IPAM_VNI_MAX ${policy.vniMax}`);

    return startHostedService<IpamState, NewIpamEvent, IpamProjection>(ctx, {
      service: 'ipam',
      snapshot: { kind: IPAM_SNAPSHOT, every: config.IPAM_SNAPSHOT_EVERY, use: config.IPAM_USE_SNAPSHOT },
      appliedHelp: 'IPAM events applied to the projection',
      // The feed is IPAM's own subject only: every event counts.
      isRelevant: () => true,
      // The IPAM state of this instance: from the snapshot, then kept current by an ordered feed of `strata.evt.ipam.>`.
      projection: (store, initial, onApplied) =>
        new Projection<IpamState, IpamEvent>({
          store,
          logger,
          subject: eventFilter(IPAM_CONTEXT),
          initial: initial ?? initialState(),
          decode: (event) => ipamEvents.decode(event),
          evolve: foldIpam,
          onApplied,
        }),
      executor: (store, projection, onConflict) =>
        new Executor<IpamState, NewIpamEvent>({ store, projection, context: IPAM_CONTEXT, encode: (type, data) => ipamEvents.encode(type, data), onConflict }),
      recover: ({ executor, projection }) => finishInterruptedDeletions(executor, projection, logger),
      handlers: (deps) => ({ commands: commandHandlers({ ...deps, policy }), queries: queryHandlers({ ...deps, policy }) }),
      // Agents' GARP reports: the owner of an allowed address pair's address (app/garp-reports.ts);
      // gateway hosts' learned MACs (app/gateway-macs-reports.ts).
      afterStart: ({ executor, projection }) => {
        const deps = { nc: ctx.nc, executor, projection, logger, metrics: ctx.metrics };
        const reports = [startGarpReports(deps), startGatewayMacsReports(deps)];
        return { stop: async () => void (await Promise.all(reports.map((r) => r.stop()))) };
      },
    });
  },
};
