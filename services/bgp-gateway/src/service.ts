/** Wires the BGP gateway on the shared service host: projection → executor → NATS handlers, then the control loop driving gobgpd. */
import { z } from 'zod';
import { bgpRouteAggregate } from '@strata/contracts';
import { aggregateSubject } from '@strata/eventlog';
import type { ServiceDefinition } from '@strata/runtime';
import { startHostedService } from '@strata/service-kit';
import type { NewBgpEvent } from './domain/decide/index.js';
import { isRelevant } from './domain/evolve.js';
import type { BgpState } from './domain/state.js';
import { GobgpClient } from './gobgp/client.js';
import { Ipv6NextHops } from './gobgp/next-hop6.js';
import { DEFAULT_GOBGP_PROTO_DIR } from './gobgp/proto.js';
import { BgpGateway } from './app/gateway.js';
import { commandHandlers, queryHandlers } from './app/handlers.js';
import { bgpExecutor, bgpProjection } from './app/projection.js';
import { Secrets } from './app/secrets.js';

export const bgpConfig = z.object({
  /** gRPC target of this instance's gobgpd: a Unix socket (`unix:///run/strata/gobgp.sock`) or host:port. */
  GOBGP_TARGET: z.string().min(1).default('unix:///run/strata/gobgp.sock'),
  /** Where gobgp.proto and friends are (Debian golang-github-osrg-gobgp-dev). */
  GOBGP_PROTO_DIR: z.string().min(1).default(DEFAULT_GOBGP_PROTO_DIR),
  /** Directory of TCP-MD5 secrets, one file per passwordRef (alternative to BGP_PASSWORD_<REF> variables). */
  BGP_SECRETS_DIR: z.string().min(1).optional(),
  /** Full RIB read and engine check at least this often. */
  BGP_RESYNC_MS: z.coerce.number().int().min(1000).default(30_000),
  /** A new session's table counts as complete after this long (missing routes are then withdrawals). */
  BGP_SETTLE_MS: z.coerce.number().int().min(0).default(5_000),
  /** Wait before re-enabling an appliance session the engine stopped at its hard prefix limit (doubles per trip within an hour). */
  BGP_LIMIT_RETRY_MS: z.coerce.number().int().min(1000).default(30_000),
  /** This instance's BGP identifier, when several instances share the settings (an anycast route-server pair). */
  BGP_ROUTER_ID: z.ipv4({ message: 'must be an IPv4 address' }).optional(),
  /** An IPv6 /96 of the underlay: IPv6 routes (appliances' /64s) go via the VTEP embedded in it; unset: IPv4-mapped (gobgp/next-hop6.ts). */
  BGP_IPV6_NEXTHOP_PREFIX: z
    .string()
    .optional()
    .refine((v) => v === undefined || ipv6NextHopsOrError(v) === null, { message: 'must be an IPv6 /96, e.g. 2001:db8:ffff::/96' }),
});

const ipv6NextHopsOrError = (v: string): string | null => {
  try {
    Ipv6NextHops.parse(v);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

export const bgpGatewayService: ServiceDefinition<typeof bgpConfig> = {
  name: 'bgp',
  config: bgpConfig,
  async start(ctx) {
    const { config, logger, metrics, readiness } = ctx;
    let gateway: BgpGateway | undefined;
    // No snapshots: the gateway's state is small, and is rebuilt from the log at every start.
    return startHostedService<BgpState, NewBgpEvent>(ctx, {
      service: 'bgp',
      isRelevant,
      projection: (store, _initial, onApplied) => bgpProjection({ store, logger, onApplied }),
      onApplied: (_state, event) => gateway?.notify(event),
      executor: (store, projection, onConflict) => bgpExecutor({ store, projection, onConflict }),
      handlers: (deps) => ({ commands: commandHandlers(deps), queries: queryHandlers(deps) }),
      afterStart: ({ store, projection, executor }) => {
        const client = new GobgpClient({ target: config.GOBGP_TARGET, protoDir: config.GOBGP_PROTO_DIR, ipv6NextHops: Ipv6NextHops.parse(config.BGP_IPV6_NEXTHOP_PREFIX) });
        const started = new BgpGateway({
          client,
          projection,
          executor,
          secrets: new Secrets(process.env, config.BGP_SECRETS_DIR),
          logger,
          metrics,
          resyncMs: config.BGP_RESYNC_MS,
          settleMs: config.BGP_SETTLE_MS,
          routerId: config.BGP_ROUTER_ID,
          limitRetryMs: config.BGP_LIMIT_RETRY_MS,
          routeVersion: (id) => store.lastSeq(aggregateSubject(bgpRouteAggregate(id))),
        });
        gateway = started;
        started.start();
        readiness.register('gobgpd', () => started.converged);
        // gobgpd keeps running with its routes when the gateway stops (a restart changes only the difference).
        return started;
      },
    });
  },
};
