/**
 * The API's transport bounds: how many connections and streams it serves,
 * how long an idle or silent connection may stay, how large a request may
 * be. Each is configurable (config.ts: STRATA_GRPC_*); the defaults are for
 * production.
 */
import type { ServerOptions } from '@grpc/grpc-js';
import type { ConnectionLimits } from './connection-guard.js';

export interface TransportLimits extends ConnectionLimits {
  /** An HTTP/2 session with no open stream for this long is closed (GOAWAY). */
  idleTimeoutMs: number;
  /** The server pings a connection this often; a peer that does not answer within keepaliveTimeoutMs is dropped. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** Streams (calls) open at once on one connection. */
  maxConcurrentStreams: number;
  /**
   * Largest request message. Above it grpc-js answers RESOURCE_EXHAUSTED
   * before decoding; below it every field has its own bound (contracts
   * bounds.ts) answered with INVALID_ARGUMENT. Large enough that a
   * megabyte-sized field still gets the field's own error.
   */
  maxReceiveBytes: number;
}

export const defaultTransportLimits: TransportLimits = {
  maxConnections: 1024,
  maxConnectionsPerAddress: 128,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxConcurrentStreams: 100,
  maxReceiveBytes: 2 * 1024 * 1024,
};

/** The grpc-js server options that carry the limits grpc-js enforces itself. */
export function grpcServerOptions(l: TransportLimits): ServerOptions {
  return {
    'grpc.max_connection_idle_ms': l.idleTimeoutMs,
    'grpc.keepalive_time_ms': l.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
    'grpc.max_concurrent_streams': l.maxConcurrentStreams,
    'grpc.max_receive_message_length': l.maxReceiveBytes,
  };
}
