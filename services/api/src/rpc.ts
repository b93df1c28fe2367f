/** What every RPC does before and after its own work: authenticate, stamp metadata, trace, map errors. */
import type { Metadata, handleUnaryCall } from '@grpc/grpc-js';
import { ErrorCode, toStrataError } from '@strata/errors';
import {
  extractTrace,
  injectTrace,
  withCorrelation,
  withSpan,
  type ChainingClient,
  type IpamClient,
  type Logger,
  type NatClient,
  type RequestMeta,
  type SecgroupClient,
  type ServiceMetrics,
  type StatusClient,
} from '@strata/runtime';
import type { Authenticator, Principal } from './auth.js';
import { buildRequestMeta, incomingTrace } from './context.js';
import { toServiceError } from './errors.js';
import { positionMetadata, type CallPositions } from './positions.js';
import type { CallCallers } from './read-only.js';

export interface RpcDeps {
  auth: Authenticator;
  ipam: IpamClient;
  secgroup: SecgroupClient;
  nat: NatClient;
  chaining: ChainingClient;
  status: StatusClient;
  /** The clients' shared read-your-writes tracker, which also gives each call its own writes' position. */
  positions: CallPositions;
  /** Who the call in progress is for: the requester refuses a reader's commands (read-only.ts). */
  callers: CallCallers;
  logger: Logger;
  metrics?: RpcMetrics;
}

export interface RpcMetrics {
  observe(rpc: string, code: string, seconds: number): void;
}

/** Per-RPC call counts by outcome and durations (a Watch's duration is the stream's lifetime). */
export function rpcMetrics(metrics: ServiceMetrics): RpcMetrics {
  const calls = metrics.counter('strata_grpc_requests_total', 'gRPC calls served', ['method', 'code']);
  const duration = metrics.histogram('strata_grpc_duration_seconds', 'gRPC call duration', ['method']);
  return {
    observe(rpc, code, seconds) {
      calls.inc({ method: rpc, code });
      duration.observe({ method: rpc }, seconds);
    },
  };
}

export interface CallContext {
  principal: Principal;
  meta: RequestMeta;
  logger: Logger;
}

/**
 * Run `work` for the call named `rpc` with an authenticated context, inside
 * a span continuing the client's trace (its context goes out in meta.trace).
 */
export async function withCall<T>(
  deps: RpcDeps,
  rpc: string,
  metadata: Metadata,
  work: (ctx: CallContext) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const done = (code: string): void => deps.metrics?.observe(rpc, code, (performance.now() - started) / 1000);
  try {
    const principal = await deps.auth.authenticate(metadata);
    const incoming = incomingTrace(metadata);
    const result = await deps.callers.run({ rpc, principal }, () => withSpan(`grpc ${rpc}`, { 'rpc.method': rpc, 'strata.tenant': principal.tenant }, extractTrace(incoming), (_, otel) => {
      // The span's own context (a child of the client's, or the client's itself without an OTel SDK); a malformed header yields none.
      const meta = buildRequestMeta(metadata, principal, { trace: injectTrace(otel) });
      const logger = withCorrelation(deps.logger, { rpc, requestId: meta.requestId, correlationId: meta.correlationId });
      return work({ principal, meta, logger });
    }));
    done('OK');
    return result;
  } catch (err) {
    done(toStrataError(err).code);
    logFailure(deps.logger, rpc, err);
    throw err;
  }
}

/**
 * A unary handler from a plain async function of the request. A call whose
 * commands wrote events answers with the log position of the last of them
 * in the response metadata `strata-position` (positions.ts).
 */
export function unary<Req, Res>(deps: RpcDeps, rpc: string, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    deps.positions.track(() => withCall(deps, rpc, call.metadata, (ctx) => fn(call.request, ctx))).then(
      ({ result, position }) => {
        if (position !== undefined) call.sendMetadata(positionMetadata(position));
        callback(null, result);
      },
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

/** Server-side faults are errors; a caller's mistakes are routine and only logged at debug. */
export function logFailure(logger: Logger, rpc: string, err: unknown): void {
  const e = toStrataError(err);
  if (e.code === ErrorCode.Internal) logger.error({ rpc, err: e.cause ?? e }, 'rpc failed');
  else if (e.code === ErrorCode.Unavailable || e.code === ErrorCode.DeadlineExceeded) logger.warn({ rpc, err: e }, 'rpc failed');
  else logger.debug({ rpc, code: e.code, msg: e.message }, 'rpc rejected');
}

/** Paging fields every List request has; an absent limit lets the service apply its default. */
export function paging(req: { limit?: number; after: string }): { limit?: number; after: string } {
  return req.limit === undefined ? { after: req.after } : { limit: req.limit, after: req.after };
}
