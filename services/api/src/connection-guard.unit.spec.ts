import { describe, expect, it } from 'vitest';
import { apiConfigSchema, transportLimits } from './config.js';
import { parseListenAddress } from './connection-guard.js';
import { defaultTransportLimits } from './transport.js';

describe('parseListenAddress', () => {
  it('reads host:port and [v6]:port', () => {
    expect(parseListenAddress('127.0.0.1:7443')).toEqual({ host: '127.0.0.1', port: 7443 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress('0.0.0.0:65535')).toEqual({ host: '0.0.0.0', port: 65535 });
  });

  it('refuses anything else', () => {
    for (const bad of ['7443', '127.0.0.1', '::1:7443', '127.0.0.1:70000', 'unix:/tmp/x', 'host:port']) {
      expect(() => parseListenAddress(bad), bad).toThrow(/is not host:port/);
    }
  });
});

describe('transport limits from the environment', () => {
  it('defaults to the production limits and reads each STRATA_GRPC_* override', () => {
    // The signing key is required (NATS security); its value does not matter here.
    const required = { STRATA_COMMAND_SIGNING_KEY: 'k' };
    expect(transportLimits(apiConfigSchema.parse(required))).toEqual(defaultTransportLimits);
    const c = apiConfigSchema.parse({ ...required, STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: '2000', STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: '7' });
    expect(transportLimits(c)).toMatchObject({ handshakeTimeoutMs: 2000, maxConnectionsPerAddress: 7, maxConnections: 1024 });
    expect(() => apiConfigSchema.parse({ ...required, STRATA_GRPC_MAX_CONNECTIONS: '0' })).toThrow();
  });
});
