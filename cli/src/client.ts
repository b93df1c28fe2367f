/** The CLI's connection to the API: one typed client per service, bearer token on every call. */
import { randomUUID } from 'node:crypto';
import { Metadata, credentials, type CallOptions, type ClientUnaryCall, type requestCallback } from '@grpc/grpc-js';
import {
  loadStrataProto,
  type ApplicationPrefixServiceClient,
  type BgpServiceClient,
  type ChainingServiceClient,
  type EventServiceClient,
  type FloatingIpServiceClient,
  type HypervisorServiceClient,
  type NatServiceClient,
  type NetworkServiceClient,
  type PoolServiceClient,
  type PortServiceClient,
  type RouterServiceClient,
  type SecurityGroupServiceClient,
  type SubnetServiceClient,
} from '@strata/proto';
import { UsageError } from './errors.js';

export interface ConnectOptions {
  server: string;
  token: string | undefined;
  /** Sent as x-request-id (one per CLI invocation), so a retried command is applied once. */
  requestId?: string | undefined;
  /** Per-call deadline for unary calls. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class Api {
  readonly networks: NetworkServiceClient;
  readonly subnets: SubnetServiceClient;
  readonly ports: PortServiceClient;
  readonly hypervisors: HypervisorServiceClient;
  readonly pools: PoolServiceClient;
  readonly floatingIps: FloatingIpServiceClient;
  readonly appPrefixes: ApplicationPrefixServiceClient;
  readonly routers: RouterServiceClient;
  readonly securityGroups: SecurityGroupServiceClient;
  readonly nat: NatServiceClient;
  readonly chaining: ChainingServiceClient;
  readonly bgp: BgpServiceClient;
  readonly events: EventServiceClient;
  private readonly token: string;
  private readonly requestId: string;
  private readonly timeoutMs: number;

  constructor(opts: ConnectOptions) {
    if (!opts.token) throw new UsageError('no API token: pass --token or set STRATA_TOKEN');
    this.token = opts.token;
    this.requestId = opts.requestId ?? randomUUID();
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const v1 = loadStrataProto().strata.v1;
    // Clients of one target share a channel (grpc-js pools subchannels), so this is one connection.
    const creds = credentials.createInsecure();
    // No service-config lookup: for a host name grpc-js asks DNS for a TXT record, which can hang for
    // seconds where no DNS server answers (a container, a lab). The API publishes no service config.
    const options = { 'grpc.service_config_disable_resolution': 1 };
    this.networks = new v1.NetworkService(opts.server, creds, options);
    this.subnets = new v1.SubnetService(opts.server, creds, options);
    this.ports = new v1.PortService(opts.server, creds, options);
    this.hypervisors = new v1.HypervisorService(opts.server, creds, options);
    this.pools = new v1.PoolService(opts.server, creds, options);
    this.floatingIps = new v1.FloatingIpService(opts.server, creds, options);
    this.appPrefixes = new v1.ApplicationPrefixService(opts.server, creds, options);
    this.routers = new v1.RouterService(opts.server, creds, options);
    this.securityGroups = new v1.SecurityGroupService(opts.server, creds, options);
    this.nat = new v1.NatService(opts.server, creds, options);
    this.chaining = new v1.ChainingService(opts.server, creds, options);
    this.bgp = new v1.BgpService(opts.server, creds, options);
    this.events = new v1.EventService(opts.server, creds, options);
  }

  metadata(): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.token}`);
    md.set('x-request-id', this.requestId);
    return md;
  }

  /**
   * One unary call as a promise: `api.call<Network__Output>((md, opts, cb) => api.networks.GetNetwork(req, md, opts, cb))`.
   * The result type is explicit because TypeScript cannot infer it through the generated overloads.
   */
  call<T>(invoke: (md: Metadata, opts: CallOptions, cb: requestCallback<T>) => ClientUnaryCall): Promise<T> {
    const deadline = new Date(Date.now() + this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      invoke(this.metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  close(): void {
    for (const c of [this.networks, this.subnets, this.ports, this.hypervisors, this.pools, this.floatingIps, this.appPrefixes, this.routers, this.securityGroups, this.nat, this.chaining, this.bgp, this.events]) {
      c.close();
    }
  }
}

