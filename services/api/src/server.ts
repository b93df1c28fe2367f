import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore } from '@strata/eventlog';
import { loadStrataProto } from '@strata/proto';
import { NatsRequester, type CommandSigner, type Logger, type ServiceMetrics } from '@strata/runtime';
import { Authenticator, type ApiToken } from './auth.js';
import { ReadYourWrites } from './context.js';
import { EventsRpc } from './events.js';
import { applicationPrefixHandlers } from './handlers/application-prefixes.js';
import { bgpHandlers } from './handlers/bgp.js';
import { BgpClient } from './bgp.js';
import { floatingIpHandlers } from './handlers/floating-ips.js';
import { hypervisorHandlers } from './handlers/hypervisors.js';
import { networkHandlers } from './handlers/networks.js';
import { poolHandlers } from './handlers/pools.js';
import { portHandlers } from './handlers/ports.js';
import { routerHandlers } from './handlers/routers.js';
import { natHandlers } from './handlers/nat.js';
import { securityGroupHandlers } from './handlers/security-groups.js';
import { subnetHandlers } from './handlers/subnets.js';
import { IpamClient } from './ipam.js';
import { rpcMetrics, type RpcDeps } from './rpc.js';
import { SecgroupClient } from './secgroup.js';
import { NatClient } from './nat.js';

export interface ApiServerOptions {
  nc: NatsConnection;
  tokens: readonly ApiToken[];
  /** Signs every request to the services (they refuse unsigned ones). */
  signer: CommandSigner;
  /** host:port; port 0 picks a free one, reported as `port`. */
  grpcAddr: string;
  logger: Logger;
  /** How long a NATS request to a service may take (default: the requester's). */
  requestTimeoutMs?: number;
  /** Where to count calls; none in tests that do not look. */
  metrics?: ServiceMetrics;
}

export interface ApiServer {
  /** The port actually bound. */
  port: number;
  /** Ends live watches, lets unary calls finish, then closes the listener. */
  stop(): Promise<void>;
}

/** How long stop() lets in-flight calls finish before cutting them off. */
const GRACE_MS = 5_000;

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const v1 = loadStrataProto().strata.v1;
  const store = await JetStreamEventStore.open(opts.nc);
  const requester = new NatsRequester(opts.nc, { signer: opts.signer, ...(opts.requestTimeoutMs === undefined ? {} : { timeoutMs: opts.requestTimeoutMs }) });
  // One tracker for every service: stream sequences are global, and a query of one service may depend on another's write.
  const ryw = new ReadYourWrites();
  const deps: RpcDeps = {
    auth: new Authenticator(opts.tokens),
    ipam: new IpamClient(requester, ryw),
    secgroup: new SecgroupClient(requester, ryw),
    nat: new NatClient(requester, ryw),
    logger: opts.logger,
    ...(opts.metrics ? { metrics: rpcMetrics(opts.metrics) } : {}),
  };
  const events = new EventsRpc(store, deps);

  const server = new Server();
  server.addService(v1.NetworkService.service, networkHandlers(deps));
  server.addService(v1.SubnetService.service, subnetHandlers(deps));
  server.addService(v1.PortService.service, portHandlers(deps));
  server.addService(v1.HypervisorService.service, hypervisorHandlers(deps));
  server.addService(v1.PoolService.service, poolHandlers(deps));
  server.addService(v1.FloatingIpService.service, floatingIpHandlers(deps));
  server.addService(v1.ApplicationPrefixService.service, applicationPrefixHandlers(deps));
  server.addService(v1.RouterService.service, routerHandlers(deps));
  server.addService(v1.SecurityGroupService.service, securityGroupHandlers(deps));
  server.addService(v1.NatService.service, natHandlers(deps));
  server.addService(v1.BgpService.service, bgpHandlers(deps, new BgpClient(requester, ryw)));
  server.addService(v1.EventService.service, events.handlers());

  // Plaintext: the default address is loopback; put TLS in front (or add it here) before exposing it.
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.grpcAddr, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.logger.info({ grpcAddr: opts.grpcAddr, port }, 'gRPC API listening');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await events.closeAll();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    opts.logger.info('gRPC API stopped');
  };
  return { port, stop: () => (stopping ??= stop()) };
}
