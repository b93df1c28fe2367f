/**
 * The Neutron API over HTTPS (STRATA_NEUTRON_TLS_*): served with the
 * private CA's certificate, its links say https, a client that trusts
 * another CA or speaks plain HTTP gets nothing, and the settings are read
 * by the same serverTlsOptions as the gRPC API's (mutual TLS included).
 * Identity is not what is tested here: the versions document needs no
 * token, and every token is refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, commandSignerFrom, serverTlsOptions } from '@strata/runtime';
import { makePki, startStrataNats, type Pki, type StrataNats } from '@strata/testing';
import { startNeutronServer, type NeutronServer } from './server.js';

describe('the Neutron API over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-neutron-tls-'));
  let pki: Pki;
  let nats: StrataNats;
  let neutron: NeutronServer;

  beforeAll(async () => {
    pki = makePki(join(dir, 'pki'));
    nats = await startStrataNats();
    const tls = serverTlsOptions('STRATA_NEUTRON_TLS', { STRATA_NEUTRON_TLS_CERT: pki.server.cert, STRATA_NEUTRON_TLS_KEY: pki.server.key });
    neutron = await startNeutronServer({
      nc: await nats.connect('neutron'),
      signer: commandSignerFrom(),
      validator: { validate: () => Promise.reject(new Error('no identity in this test')) },
      listen: '127.0.0.1:0',
      logger: createLogger('neutron', 'silent'),
      http: { headersTimeoutMs: 1_000 },
      ...(tls ? { tls } : {}),
    });
  }, 30_000);
  afterAll(async () => {
    await neutron?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const fetchOver = (get: typeof httpsGet, url: string, ca?: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = get(url, ca ? { ca: readFileSync(ca) } : {}, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    });

  it('answers over HTTPS verified against the CA, with https links', async () => {
    expect(neutron.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetchOver(httpsGet, `${neutron.url}/`, pki.ca.cert);
    expect(r.status).toBe(200);
    expect(r.body).toContain(`"href":"https://127.0.0.1:${neutron.port}/v2.0/"`);
  });

  it('a client that trusts another CA, or none, is refused; plain HTTP gets no answer', async () => {
    await expect(fetchOver(httpsGet, `${neutron.url}/`, pki.foreign.ca.cert)).rejects.toThrow(/self-signed certificate|unable to verify|unable to get local issuer/);
    await expect(fetchOver(httpsGet, `${neutron.url}/`)).rejects.toThrow(/self-signed certificate|unable to verify|unable to get local issuer/);
    await expect(fetchOver(httpGet as typeof httpsGet, `http://127.0.0.1:${neutron.port}/`)).rejects.toThrow();
  });

  it('closes a connection that never starts its TLS handshake (the headers bound)', async () => {
    const silent = tcpConnect(neutron.port, '127.0.0.1');
    silent.on('error', () => undefined);
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
  });

  it('bad TLS settings are configuration errors naming the variable', () => {
    expect(() => serverTlsOptions('STRATA_NEUTRON_TLS', { STRATA_NEUTRON_TLS_CERT: pki.server.cert })).toThrow(/STRATA_NEUTRON_TLS_KEY: missing/);
    expect(() => serverTlsOptions('STRATA_NEUTRON_TLS', { STRATA_NEUTRON_TLS_CLIENT_CA: pki.ca.cert })).toThrow(/STRATA_NEUTRON_TLS_CERT: missing/);
    expect(() => serverTlsOptions('STRATA_NEUTRON_TLS', { STRATA_NEUTRON_TLS_CERT: join(dir, 'nope'), STRATA_NEUTRON_TLS_KEY: pki.server.key })).toThrow(/STRATA_NEUTRON_TLS_CERT: cannot read/);
    expect(serverTlsOptions('STRATA_NEUTRON_TLS', {})).toBeUndefined();
    expect(serverTlsOptions('STRATA_NEUTRON_TLS', { STRATA_NEUTRON_TLS_CERT: pki.server.cert, STRATA_NEUTRON_TLS_KEY: pki.server.key, STRATA_NEUTRON_TLS_CLIENT_CA: pki.ca.cert })).toMatchObject({ requestCert: true, rejectUnauthorized: true });
  });
});
