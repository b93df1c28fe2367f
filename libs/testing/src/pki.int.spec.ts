import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePki, type Pki } from './pki.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (ca: string, cert: string): string => {
  try {
    return execFileSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr);
  }
};
const x509 = (path: string): X509Certificate => new X509Certificate(readFileSync(path));

describe('makePki', () => {
  let pki: Pki;
  it('makes the whole set with openssl', () => {
    pki = makePki(join(dir, 'pki'), ['nats-1', '198.18.0.9']);
  });

  it("the CA's certificates verify against it, the foreign CA's do not", () => {
    for (const c of [pki.server, pki.client]) expect(verify(pki.ca.cert, c.cert)).toMatch(/: OK/);
    for (const c of [pki.foreign.server, pki.foreign.client]) {
      expect(verify(pki.foreign.ca.cert, c.cert)).toMatch(/: OK/);
      expect(verify(pki.ca.cert, c.cert)).toMatch(/unable to get local issuer certificate/);
    }
  });

  it('the expired certificate is refused for its dates only', () => {
    expect(verify(pki.ca.cert, pki.expired.cert)).toMatch(/certificate has expired/);
    expect(new Date(x509(pki.expired.cert).validTo).getTime()).toBeLessThan(Date.now());
  });

  it('server certificates name loopback and the names asked for', () => {
    const server = x509(pki.server.cert);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkHost('nats-1')).toBe('nats-1');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.checkIP('198.18.0.9')).toBe('198.18.0.9');
    expect(server.checkHost('elsewhere.example')).toBeUndefined();
    expect(x509(pki.server.cert).checkIssued(x509(pki.ca.cert))).toBe(true);
  });
});
