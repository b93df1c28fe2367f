/**
 * The Neutron service's own settings; NATS_URL/NATS_USER/NATS_PASSWORD come
 * from the runtime's base config.
 */
import { z } from 'zod';
import { positiveInt } from '@strata/runtime';
import { DEFAULT_HTTP_LIMITS as d, DEFAULT_MAX_BODY_BYTES, type HttpLimits } from './server.js';

export const neutronConfigSchema = z.object({
  /** host:port to serve Neutron v2.0 on (Neutron's port is 9696); port 0 picks a free one (logged at start). */
  STRATA_NEUTRON_LISTEN: z.string().min(1).default('127.0.0.1:9696'),
  /** The base of the links the API answers (Neutron's network_link_prefix), e.g. https://network.example.com; default http://<Host header>. */
  STRATA_NEUTRON_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The largest request body accepted (413 above it). */
  STRATA_NEUTRON_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_MAX_BODY_BYTES),
  /** Connection limits (server.ts HttpLimits explains each). */
  STRATA_NEUTRON_MAX_CONNECTIONS: positiveInt(d.maxConnections),
  STRATA_NEUTRON_HEADERS_TIMEOUT_MS: positiveInt(d.headersTimeoutMs),
  STRATA_NEUTRON_REQUEST_TIMEOUT_MS: positiveInt(d.requestTimeoutMs),
  STRATA_NEUTRON_KEEPALIVE_TIMEOUT_MS: positiveInt(d.keepAliveTimeoutMs),
  /** Base64 master secret (≥ 32 bytes): every command and query is authenticated under the addressed service's key derived from it, as the api's. */
  STRATA_COMMAND_SIGNING_KEY: z.string().min(1),
});
export type NeutronConfig = z.output<typeof neutronConfigSchema>;

export function httpLimits(c: NeutronConfig): HttpLimits {
  return {
    maxConnections: c.STRATA_NEUTRON_MAX_CONNECTIONS,
    headersTimeoutMs: c.STRATA_NEUTRON_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: c.STRATA_NEUTRON_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: c.STRATA_NEUTRON_KEEPALIVE_TIMEOUT_MS,
  };
}
