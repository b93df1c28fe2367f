/** The CLI's connection to the API: one typed client per service, bearer token on every call. */
import { randomUUID } from 'node:crypto';
import { Metadata, type ChannelCredentials, type CallOptions, type ClientUnaryCall, type requestCallback } from '@grpc/grpc-js';
import {
  loadStrataProto,
  type ApplicationPrefixServiceClient,
  type AuditServiceClient,
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
  type GatewayServiceClient,
  type PeeringServiceClient,
  type SecurityGroupServiceClient,
  type StatusServiceClient,
  type SubnetServiceClient,
} from '@strata/proto';
import { UsageError } from './errors.js';

export interface ConnectOptions {
  server: string;
  token: string | undefined;
  /** TLS (verified) or, asked for by name, plaintext: transport-security.ts. */
  credentials: ChannelCredentials;
  /** Sent as x-request-id (one per CLI invocation), so a retried command is applied once. */
  requestId?: string | undefined;
  /** Per-call deadline for unary calls. */
  timeoutMs?: number;
  /** Sent as x-reason: why, stored on every event the command causes. */
  reason?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Response metadata of a command RPC: the log position of its events (the
 * API's positions.ts); sent back on every later call of the invocation.
 */
export const POSITION_METADATA_KEY = 'strata-position';

export interface Written {
  position: number;
  reply: unknown;
}

function positionOf(md: Metadata): number | undefined {
  const [v] = md.get(POSITION_METADATA_KEY);
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export class Api {
  readonly networks: NetworkServiceClient;
  readonly subnets: SubnetServiceClient;
  readonly ports: PortServiceClient;
  readonly hypervisors: HypervisorServiceClient;
  readonly pools: PoolServiceClient;
  readonly floatingIps: FloatingIpServiceClient;
  readonly appPrefixes: ApplicationPrefixServiceClient;
  readonly routers: RouterServiceClient;
  readonly gateways: GatewayServiceClient;
  readonly peering: PeeringServiceClient;
  readonly securityGroups: SecurityGroupServiceClient;
  readonly nat: NatServiceClient;
  readonly chaining: ChainingServiceClient;
  readonly bgp: BgpServiceClient;
  readonly events: EventServiceClient;
  readonly status: StatusServiceClient;
  readonly audit: AuditServiceClient;
  private readonly token: string;
  private written: Written | undefined;
  private readonly requestId: string;
  private readonly reason: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: ConnectOptions) {
    if (!opts.token) throw new UsageError('no API token: pass --token or set STRATA_TOKEN');
    this.token = opts.token;
    this.requestId = opts.requestId ?? randomUUID();
    this.reason = opts.reason;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const v1 = loadStrataProto().strata.v1;
    // Clients of one target share a channel (grpc-js pools subchannels), so this is one connection.
    const creds = opts.credentials;
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
    this.gateways = new v1.GatewayService(opts.server, creds, options);
    this.peering = new v1.PeeringService(opts.server, creds, options);
    this.securityGroups = new v1.SecurityGroupService(opts.server, creds, options);
    this.nat = new v1.NatService(opts.server, creds, options);
    this.chaining = new v1.ChainingService(opts.server, creds, options);
    this.bgp = new v1.BgpService(opts.server, creds, options);
    this.events = new v1.EventService(opts.server, creds, options);
    this.status = new v1.StatusService(opts.server, creds, options);
    this.audit = new v1.AuditService(opts.server, creds, options);
  }

  metadata(): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.token}`);
    md.set('x-request-id', this.requestId);
    if (this.reason !== undefined) md.set('x-reason', this.reason);
    // Read-your-writes through any api instance: a later call of this invocation is answered as of its writes.
    if (this.written !== undefined) md.set(POSITION_METADATA_KEY, String(this.written.position));
    return md;
  }

  /**
   * One unary call as a promise: `api.call<Network__Output>((md, opts, cb) => api.networks.GetNetwork(req, md, opts, cb))`.
   * The result type is explicit because TypeScript cannot infer it through the generated overloads.
   */
  call<T>(invoke: (md: Metadata, opts: CallOptions, cb: requestCallback<T>) => ClientUnaryCall): Promise<T> {
    const deadline = new Date(Date.now() + this.timeoutMs);
    let position: number | undefined;
    return new Promise<T>((resolve, reject) => {
      const call = invoke(this.metadata(), { deadline }, (err, res) => {
        if (err) return reject(err);
        if (position !== undefined) this.written = { position: Math.max(position, this.written?.position ?? 0), reply: res };
        resolve(res as T);
      });
      // Response headers arrive before the reply: a command's carry the log position of its events.
      call.on('metadata', (md: Metadata) => (position = positionOf(md)));
    });
  }

  /** The last command reply of this invocation and the highest log position any of its replies carried; undefined: nothing written. */
  lastWrite(): Written | undefined {
    return this.written;
  }

  close(): void {
    for (const c of [this.networks, this.subnets, this.ports, this.hypervisors, this.pools, this.floatingIps, this.appPrefixes, this.routers, this.gateways, this.peering, this.securityGroups, this.nat, this.chaining, this.bgp, this.events, this.status, this.audit]) {
      c.close();
    }
  }
}

