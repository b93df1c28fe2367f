import { z } from 'zod';
import { keystoneEnvShape } from '@strata/identity';
import { positiveInt } from '@strata/runtime';
import { defaultTransportLimits as d, type TransportLimits } from './transport.js';

/** The API's own settings; NATS_URL/NATS_USER/NATS_PASSWORD come from the runtime's base config. */
export const apiConfigSchema = z.object({
  /** host:port to serve gRPC on; port 0 picks a free one (logged at start). */
  STRATA_GRPC_ADDR: z.string().min(1).default('127.0.0.1:7443'),
  /** JSON file: [{"name", "sha256" (hex of the token), "tenant", "admin"}]. */
  STRATA_API_TOKENS_FILE: z.string().min(1).optional(),
  /** The same JSON inline, for tests and throwaway setups. */
  STRATA_API_TOKENS: z.string().min(1).optional(),
  /** Transport limits (transport.ts explains each). */
  STRATA_GRPC_MAX_CONNECTIONS: positiveInt(d.maxConnections),
  STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(d.maxConnectionsPerAddress),
  STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: positiveInt(d.handshakeTimeoutMs),
  STRATA_GRPC_IDLE_TIMEOUT_MS: positiveInt(d.idleTimeoutMs),
  STRATA_GRPC_KEEPALIVE_TIME_MS: positiveInt(d.keepaliveTimeMs),
  STRATA_GRPC_KEEPALIVE_TIMEOUT_MS: positiveInt(d.keepaliveTimeoutMs),
  STRATA_GRPC_MAX_CONCURRENT_STREAMS: positiveInt(d.maxConcurrentStreams),
  STRATA_GRPC_MAX_RECEIVE_BYTES: positiveInt(d.maxReceiveBytes),
  /** Base64 master secret (≥ 32 bytes): every command and query is authenticated under the addressed service's key derived from it (docs/architecture.md, "Authenticated requests"). */
  STRATA_COMMAND_SIGNING_KEY: z.string().min(1),
  /** Keystone (KEYSTONE_URL and the service user's credentials): bearer tokens that are not static ones are validated there. */
  ...keystoneEnvShape,
});
export type ApiConfig = z.output<typeof apiConfigSchema>;

export function transportLimits(c: ApiConfig): TransportLimits {
  return {
    maxConnections: c.STRATA_GRPC_MAX_CONNECTIONS,
    maxConnectionsPerAddress: c.STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS,
    handshakeTimeoutMs: c.STRATA_GRPC_HANDSHAKE_TIMEOUT_MS,
    idleTimeoutMs: c.STRATA_GRPC_IDLE_TIMEOUT_MS,
    keepaliveTimeMs: c.STRATA_GRPC_KEEPALIVE_TIME_MS,
    keepaliveTimeoutMs: c.STRATA_GRPC_KEEPALIVE_TIMEOUT_MS,
    maxConcurrentStreams: c.STRATA_GRPC_MAX_CONCURRENT_STREAMS,
    maxReceiveBytes: c.STRATA_GRPC_MAX_RECEIVE_BYTES,
  };
}
