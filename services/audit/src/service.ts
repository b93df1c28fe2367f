/**
 * Wires the audit service on the shared service host: snapshot → the
 * catalogue's projection → query handlers. It writes nothing; its answers
 * read the log's points (the event store) and ask hostview for hosts' past
 * views, rendered with the agent's own code.
 */
import { z } from 'zod';
import { renderHostLines } from '@strata/agent';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import { isRelevant } from './domain/catalogue.js';
import { queryHandlers } from './app/handlers.js';
import { hostAtAsker } from './app/hostview.js';
import { catalogueExecutor, catalogueProjection } from './app/projection.js';
import { CATALOGUE_SNAPSHOT } from './app/snapshots.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const auditConfig = z.object({
  /**
   * The bounded wait for hostview's answer about a host's past (it replays the log from its nearest audit
   * snapshot). Below the api's request timeout, so a caller gets UNAVAILABLE naming hostview, not a timeout.
   */
  AUDIT_HOSTVIEW_TIMEOUT_MS: z.coerce.number().int().min(10).default(4_000),
  /** The agents' routing-domain namespace prefix (their AGENT_NETNS_PREFIX): host lines name namespaces as the agents do; `{host}` stands for the hypervisor's id. */
  AUDIT_AGENT_NETNS_PREFIX: z.string().min(1).default('strata-'),
  /** The agents' DHCP lease time (their AGENT_DHCP_LEASE_SECONDS), for the dhcp lines. */
  AUDIT_AGENT_DHCP_LEASE_SECONDS: z.coerce.number().int().positive().default(86_400),
  /** Save a snapshot of the catalogue after this many applied events; 0 disables snapshots. */
  AUDIT_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50_000),
  /** Start from the latest snapshot (true) or replay the whole log (false). */
  AUDIT_USE_SNAPSHOT: bool.default(true),
});

export const auditService: ServiceDefinition<typeof auditConfig> = {
  name: 'audit',
  config: auditConfig,
  async start(ctx) {
    const { nc, logger, config } = ctx;
    const askHostAt = hostAtAsker(nc, config.AUDIT_HOSTVIEW_TIMEOUT_MS);
    // `{host}` in the prefix stands for the hypervisor (a lab whose agents share one kernel names their namespaces per host).
    const renderOptions = (hostId: string) => ({ nsPrefix: config.AUDIT_AGENT_NETNS_PREFIX.replaceAll('{host}', hostId), leaseSeconds: config.AUDIT_AGENT_DHCP_LEASE_SECONDS });
    return startHostedService(ctx, {
      service: 'audit',
      snapshot: { kind: CATALOGUE_SNAPSHOT, every: config.AUDIT_SNAPSHOT_EVERY, use: config.AUDIT_USE_SNAPSHOT },
      appliedHelp: 'events of auditable aggregates applied to the catalogue',
      isRelevant,
      projection: (store, initial, onApplied) => catalogueProjection(store, logger, initial, onApplied),
      executor: catalogueExecutor,
      handlers: (deps) => ({
        commands: {},
        queries: queryHandlers(deps.projection, { log: deps.store, askHostAt, render: (hostId, view) => renderHostLines(hostId, view, renderOptions(hostId)) }),
      }),
    });
  },
};
