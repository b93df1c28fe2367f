/**
 * A client of the gRPC API as a program using Strata would be: long-lived
 * channels, a fresh x-request-id per command, and on UNAVAILABLE,
 * DEADLINE_EXCEEDED or ABORTED the same command re-sent with the same
 * request id (the API's own advice: "retry it with the same x-request-id")
 * until it is answered or the client gives up. Every command goes through
 * the ledger.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, credentials, status, type CallOptions, type ClientUnaryCall, type ServiceError, type requestCallback } from '@grpc/grpc-js';
import {
  loadStrataProto,
  type FloatingIpServiceClient,
  type HypervisorServiceClient,
  type NetworkServiceClient,
  type PoolServiceClient,
  type PortServiceClient,
  type SecurityGroupServiceClient,
  type SubnetServiceClient,
} from '@strata/proto';
import type { Ledger, LedgerEntry } from './ledger.js';

/** Codes after which the outcome is unknown or transient: the command is re-sent with its request id. */
const RETRIED = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED]);

export interface ClientOptions {
  /** Deadline of one send. */
  callTimeoutMs: number;
  /** How long one command is retried before the client gives up (failed with the last code). */
  giveUpAfterMs: number;
}

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = { callTimeoutMs: 5_000, giveUpAfterMs: 90_000 };

export interface Services {
  networks: NetworkServiceClient;
  subnets: SubnetServiceClient;
  ports: PortServiceClient;
  securityGroups: SecurityGroupServiceClient;
  floatingIps: FloatingIpServiceClient;
  pools: PoolServiceClient;
  hypervisors: HypervisorServiceClient;
}

type Invoke<T> = (s: Services, md: Metadata, opts: CallOptions, cb: requestCallback<T>) => ClientUnaryCall;

/** A command the client could not get applied: its last gRPC status. */
export class CommandFailed extends Error {
  constructor(
    readonly op: string,
    readonly code: string,
    detail: string,
  ) {
    super(`${op}: ${code}: ${detail}`);
    this.name = 'CommandFailed';
  }
}

const codeName = (code: number): string => status[code] ?? `CODE_${code}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultClient {
  readonly services: Services;

  constructor(
    server: string,
    private readonly token: string,
    private readonly ledger: Ledger,
    private readonly options: ClientOptions = DEFAULT_CLIENT_OPTIONS,
  ) {
    const v1 = loadStrataProto().strata.v1;
    const creds = credentials.createInsecure();
    // Reconnect soon after the API comes back (grpc-js backs off up to 120 s by default), and no DNS TXT lookup.
    const opts = { 'grpc.service_config_disable_resolution': 1, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 };
    this.services = {
      networks: new v1.NetworkService(server, creds, opts),
      subnets: new v1.SubnetService(server, creds, opts),
      ports: new v1.PortService(server, creds, opts),
      securityGroups: new v1.SecurityGroupService(server, creds, opts),
      floatingIps: new v1.FloatingIpService(server, creds, opts),
      pools: new v1.PoolService(server, creds, opts),
      hypervisors: new v1.HypervisorService(server, creds, opts),
    };
  }

  /** One command under a new request id, re-sent until answered; resolves with the reply, or throws CommandFailed. */
  async command<T>(op: string, invoke: Invoke<T>, resourceIdOf: (reply: T) => string = (r) => (r as { id: string }).id): Promise<T> {
    const entry = this.ledger.sent(randomUUID(), op);
    const giveUpAt = Date.now() + this.options.giveUpAfterMs;
    let backoff = 100;
    for (;;) {
      entry.attempts++;
      try {
        const { reply, position } = await this.once(entry, invoke);
        entry.outcome = 'acknowledged';
        if (position !== undefined) entry.position = position;
        entry.resourceId = resourceIdOf(reply);
        return reply;
      } catch (err) {
        const code = (err as ServiceError).code ?? status.UNKNOWN;
        if (!RETRIED.has(code) || Date.now() + backoff > giveUpAt) return this.fail(entry, code, err);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1_000);
      }
    }
  }

  close(): void {
    for (const c of Object.values(this.services)) c.close();
  }

  private once<T>(entry: LedgerEntry, invoke: Invoke<T>): Promise<{ reply: T; position: number | undefined }> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.token}`);
    md.set('x-request-id', entry.requestId);
    let position: number | undefined;
    return new Promise((resolve, reject) => {
      const call = invoke(this.services, md, { deadline: new Date(Date.now() + this.options.callTimeoutMs) }, (err, reply) =>
        err ? reject(err) : resolve({ reply: reply as T, position }),
      );
      // Response headers come before the reply: a command's carry the log position of its events.
      call.on('metadata', (m: Metadata) => {
        const [v] = m.get('strata-position');
        if (typeof v === 'string' && /^\d+$/.test(v)) position = Number(v);
      });
    });
  }

  private fail(entry: LedgerEntry, code: number, err: unknown): never {
    entry.outcome = 'failed';
    entry.code = codeName(code);
    throw new CommandFailed(entry.op, entry.code, (err as ServiceError).details ?? String(err));
  }
}
