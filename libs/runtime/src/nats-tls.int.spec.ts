import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, startStrataNats, type Pki, type StrataNats } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { baseConfigSchema, ConfigError, loadConfig } from './config.js';
import { natsOptions, startService } from './lifecycle.js';
import { natsTlsOptions } from './nats-tls.js';

describe('NATS over TLS (NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nats-tls-'));
  let pki: Pki;
  let nats: StrataNats;
  const service = { name: 'ipam', start: async () => () => undefined };

  beforeAll(async () => {
    pki = makePki(join(dir, 'pki'));
    nats = await startStrataNats({ tls: { ...pki.server, ca: pki.ca.cert, verify: true, client: pki.client } });
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a service connects over TLS with the shared settings', async () => {
    const running = await startService(service, { ...nats.env('ipam'), STRATA_LOG_LEVEL: 'silent' });
    try {
      expect(nats.url).toMatch(/^tls:\/\//);
      expect(running.ctx.nc.info?.tls_required).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('refuses a server whose certificate is not of NATS_TLS_CA', async () => {
    const env = { ...nats.env('ipam'), NATS_TLS_CA: pki.foreign.ca.cert, STRATA_LOG_LEVEL: 'silent' };
    await expect(startService(service, env)).rejects.toThrow(/self-signed certificate|unable to verify|unable to get local issuer/i);
  });

  it('is refused with a client certificate of another CA, an expired one, or none', async () => {
    // The options a service connects with, but no retry and a short wait: under TLS 1.3 the server's refusal of a
    // client certificate arrives after the client's handshake, and nats.js would otherwise wait its 20 s timeout.
    const attempt = (env: Record<string, string>) =>
      connect({ ...natsOptions('ipam', loadConfig(baseConfigSchema, env)), reconnect: false, timeout: 3000 }).then((nc) => nc.close());
    const base = nats.env('ipam');
    await expect(attempt(base)).resolves.toBeUndefined();
    for (const cert of [pki.foreign.client, pki.expired]) {
      await expect(attempt({ ...base, NATS_TLS_CERT: cert.cert, NATS_TLS_KEY: cert.key })).rejects.toThrow();
    }
    const { NATS_TLS_CERT: _c, NATS_TLS_KEY: _k, ...noClientCert } = base;
    await expect(attempt(noClientCert)).rejects.toThrow();
    const refusals = nats.server.logs().match(/TLS handshake error: .*/g) ?? [];
    expect(refusals.join('\n')).toMatch(/certificate has expired/);
    expect(refusals.join('\n')).toMatch(/unknown authority|certificate signed by unknown/);
    expect(refusals.join('\n')).toMatch(/didn't provide a certificate|certificate required/);
  });

  it('bad settings are configuration errors naming the variable', () => {
    const errorOf = (s: Parameters<typeof natsTlsOptions>[0]): string => {
      try {
        natsTlsOptions(s);
        return 'no error';
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
    };
    expect(errorOf({ NATS_URL: 'nats://a:4222,tls://b:4222' })).toMatch(/NATS_TLS_CA: missing \(NATS_URL has a tls:\/\/ server\)/);
    expect(errorOf({ NATS_URL: 'tls://a:4222', NATS_TLS_CA: pki.ca.cert, NATS_TLS_CERT: pki.client.cert })).toMatch(/NATS_TLS_KEY: missing/);
    expect(errorOf({ NATS_URL: 'tls://a:4222', NATS_TLS_CA: join(dir, 'nope.pem') })).toMatch(/NATS_TLS_CA: cannot read/);
    expect(natsTlsOptions({ NATS_URL: 'nats://a:4222' })).toBeUndefined();
  });
});
