import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import type { TlsOptions } from 'node:tls';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore } from '@strata/eventlog';
import { loadStrataProto } from '@strata/proto';
import { auditContract, bgpContract, chainingContract, ipamContract, natContract, secgroupContract, statusContract } from '@strata/contracts';
import { ContractClient, NatsRequester, type CommandSigner, type Logger, type ServiceMetrics } from '@strata/runtime';
import type { TokenValidator } from '@strata/identity';
import { Authenticator, type ApiToken } from './auth.js';
import { EventsRpc } from './events.js';
import { auditHandlers } from './handlers/audit.js';
import { applicationPrefixHandlers } from './handlers/application-prefixes.js';
import { bgpHandlers } from './handlers/bgp.js';
import { floatingIpHandlers } from './handlers/floating-ips.js';
import { hypervisorHandlers } from './handlers/hypervisors.js';
import { networkHandlers } from './handlers/networks.js';
import { poolHandlers } from './handlers/pools.js';
import { portHandlers } from './handlers/ports.js';
import { routerHandlers } from './handlers/routers.js';
import { gatewayHandlers } from './handlers/gateways.js';
import { peeringHandlers } from './handlers/peering.js';
import { natHandlers } from './handlers/nat.js';
import { chainingHandlers } from './handlers/chaining.js';
import { securityGroupHandlers } from './handlers/security-groups.js';
import { subnetHandlers } from './handlers/subnets.js';
import { statusHandlers } from './handlers/status.js';
import { CallPositions, LogEnd } from './positions.js';
import { StatusWatch } from './status-watch.js';
import { rpcMetrics, type RpcDeps } from './rpc.js';
import { addStrictService } from './strict-requests.js';
import { CallCallers, commandSubjects, ReaderGuardedRequester } from './read-only.js';
import { ConnectionGuard, parseListenAddress } from './connection-guard.js';
import { defaultTransportLimits, grpcServerOptions, type TransportLimits } from './transport.js';

export interface ApiServerOptions {
  nc: NatsConnection;
  tokens: readonly ApiToken[];
  /** Validates bearer tokens that are not static ones (Keystone); absent, only the static tokens are accepted. */
  keystone?: TokenValidator;
  /** Signs every request to the services (they refuse unsigned ones). */
  signer: CommandSigner;
  /** host:port; port 0 picks a free one, reported as `port`. */
  grpcAddr: string;
  logger: Logger;
  /** How long a NATS request to a service may take (default: the requester's). */
  requestTimeoutMs?: number;
  /** Where to count calls; none in tests that do not look. */
  metrics?: ServiceMetrics;
  /** Connection, stream and size limits; unset ones keep their production default. */
  transport?: Partial<TransportLimits>;
  /** Serve over TLS (serverTlsOptions in @strata/runtime: certificate, key, and for mutual TLS the client CA); plaintext without. */
  tls?: TlsOptions;
}

export interface ApiServer {
  /** The port actually bound. */
  port: number;
  /** Ends live watches, lets unary calls finish, then closes the listener. */
  stop(): Promise<void>;
}

/** The services' answer time when the options do not say (the requester's own default). */
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** How long stop() lets in-flight calls finish before cutting them off. */
const GRACE_MS = 5_000;

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const v1 = loadStrataProto().strata.v1;
  const store = await JetStreamEventStore.open(opts.nc);
  const callers = new CallCallers();
  const contracts = [ipamContract, secgroupContract, natContract, chainingContract, statusContract, bgpContract, auditContract];
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const requester = new ReaderGuardedRequester(
    new NatsRequester(opts.nc, { signer: opts.signer, timeoutMs: requestTimeoutMs }),
    commandSubjects(contracts),
    callers,
  );
  // One tracker for every service: stream sequences are global, and a query of one service may depend on another's write.
  // It also gives each call the position of its own writes (response metadata strata-position).
  const ryw = new CallPositions();
  const deps: RpcDeps = {
    auth: new Authenticator(opts.tokens, opts.keystone),
    ipam: new ContractClient(ipamContract, requester, ryw),
    secgroup: new ContractClient(secgroupContract, requester, ryw),
    nat: new ContractClient(natContract, requester, ryw),
    chaining: new ContractClient(chainingContract, requester, ryw),
    status: new ContractClient(statusContract, requester, ryw),
    positions: ryw,
    logEnd: new LogEnd(() => store.lastSeq()),
    requestTimeoutMs,
    callers,
    logger: opts.logger,
    ...(opts.metrics ? { metrics: rpcMetrics(opts.metrics) } : {}),
  };
  const events = new EventsRpc(store, deps);
  const statusWatch = new StatusWatch(opts.nc, deps, opts.logger);

  const limits: TransportLimits = { ...defaultTransportLimits, ...opts.transport };
  const server = new Server(grpcServerOptions(limits));
  const add = (definition: ServiceDefinition, handlers: object): void => addStrictService(server, deps, definition, handlers);
  add(v1.NetworkService.service, networkHandlers(deps));
  add(v1.SubnetService.service, subnetHandlers(deps));
  add(v1.PortService.service, portHandlers(deps));
  add(v1.HypervisorService.service, hypervisorHandlers(deps));
  add(v1.PoolService.service, poolHandlers(deps));
  add(v1.FloatingIpService.service, floatingIpHandlers(deps));
  add(v1.ApplicationPrefixService.service, applicationPrefixHandlers(deps));
  add(v1.RouterService.service, routerHandlers(deps));
  add(v1.GatewayService.service, gatewayHandlers(deps));
  add(v1.PeeringService.service, peeringHandlers(deps));
  add(v1.SecurityGroupService.service, securityGroupHandlers(deps));
  add(v1.NatService.service, natHandlers(deps));
  add(v1.ChainingService.service, chainingHandlers(deps));
  const bgp = new ContractClient(bgpContract, requester, ryw);
  add(v1.BgpService.service, bgpHandlers(deps, bgp));
  add(v1.EventService.service, events.handlers());
  add(v1.StatusService.service, statusHandlers(deps, statusWatch));
  const owners = { ipam: deps.ipam, secgroup: deps.secgroup, nat: deps.nat, chaining: deps.chaining, bgp, status: deps.status };
  add(v1.AuditService.service, auditHandlers(deps, new ContractClient(auditContract, requester, ryw), owners));

  // The guard owns the listening socket (connection limits, handshake timeout, TLS when configured) and hands
  // admitted sockets to grpc-js, already decrypted: grpc-js itself sees a plaintext HTTP/2 connection.
  // Without TLS the default address is loopback; configure STRATA_API_TLS_* before exposing it.
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const closedByGuard = opts.metrics?.counter('strata_grpc_connections_closed_total', 'connections the API closed by a limit', ['reason']);
  const tls = opts.tls && { ...opts.tls, ALPNProtocols: ['h2'] };
  const guard = new ConnectionGuard(limits, (socket) => injector.injectConnection(socket), opts.logger, (reason) => closedByGuard?.inc({ reason }), tls);
  const { host, port: wanted } = parseListenAddress(opts.grpcAddr);
  const port = await guard.listen(host, wanted);
  const security = !tls ? 'plaintext' : tls.requestCert ? 'mutual TLS' : 'TLS';
  opts.logger.info({ grpcAddr: opts.grpcAddr, port, limits, security }, 'gRPC API listening');

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    statusWatch.closeAll();
    await events.closeAll();
    const listenerClosed = guard.stopAccepting();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    injector.destroy();
    guard.destroyAll();
    await listenerClosed;
    opts.logger.info('gRPC API stopped');
  };
  return { port, stop: () => (stopping ??= stop()) };
}
