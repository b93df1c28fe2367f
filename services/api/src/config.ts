import { z } from 'zod';
import { keystoneEnvShape } from '@strata/identity';
import { defaultTransportLimits as d, type TransportLimits } from './transport.js';

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** The API's own settings; NATS_URL/NATS_USER/NATS_PASSWORD come from the runtime's base config. */
export const apiConfigSchema = z.object({
  /** host:port to serve gRPC on; port 0 picks a free one (logged at start). */
  STRATA_GRPC_ADDR: z.string().min(1).default('127.0.0.1:7443'),
  /** TLS (api-tls.ts): the server's certificate and key (PEM files); with the client CA, mutual TLS. */
  STRATA_API_TLS_CERT: z.string().min(1).optional(),
  STRATA_API_TLS_KEY: z.string().min(1).optional(),
  STRATA_API_TLS_CLIENT_CA: z.string().min(1).optional(),
  /** JSON file: [{"name", "sha256" (hex of the token), "tenant", "admin"}]. */
  STRATA_API_TOKENS_FILE: z.string().min(1).optional(),
  /** The same JSON inline, for tests and throwaway setups. */
  STRATA_API_TOKENS: z.string().min(1).optional(),
  /** Transport limits (transport.ts explains each). */
  STRATA_GRPC_MAX_CONNECTIONS: count(d.maxConnections),
  STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: count(d.maxConnectionsPerAddress),
  STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: ms(d.handshakeTimeoutMs),
  STRATA_GRPC_IDLE_TIMEOUT_MS: ms(d.idleTimeoutMs),
  STRATA_GRPC_KEEPALIVE_TIME_MS: ms(d.keepaliveTimeMs),
  STRATA_GRPC_KEEPALIVE_TIMEOUT_MS: ms(d.keepaliveTimeoutMs),
  STRATA_GRPC_MAX_CONCURRENT_STREAMS: count(d.maxConcurrentStreams),
  STRATA_GRPC_MAX_RECEIVE_BYTES: count(d.maxReceiveBytes),
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
