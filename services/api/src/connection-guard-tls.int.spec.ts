/**
 * The connection guard serving TLS: the connection limits still apply to
 * the TCP connection before any handshake, a connection that never
 * finishes its handshake is closed at the handshake bound, and only a
 * connection whose handshake succeeded is handed on (decrypted).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@strata/runtime';
import { makePki, waitFor, type Pki } from '@strata/testing';
import { ConnectionGuard } from './connection-guard.js';

describe('ConnectionGuard with TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-guard-tls-'));
  let pki: Pki;
  let guard: ConnectionGuard;
  let port: number;
  const admitted: Socket[] = [];
  const closed: string[] = [];
  const clients: Socket[] = [];

  beforeAll(async () => {
    pki = makePki(join(dir, 'pki'));
    guard = new ConnectionGuard(
      { maxConnections: 2, maxConnectionsPerAddress: 2, handshakeTimeoutMs: 500 },
      (s) => admitted.push(s),
      createLogger('api', 'silent'),
      (reason) => closed.push(reason),
      { cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key), ALPNProtocols: ['h2'] },
    );
    port = await guard.listen('127.0.0.1', 0);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    guard.destroyAll();
    await guard.stopAccepting();
    rmSync(dir, { recursive: true, force: true });
  });

  const closedPromise = (s: Socket): Promise<void> => new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

  it('hands on a verified TLS connection, decrypted', async () => {
    const c: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca.cert), ALPNProtocols: ['h2'] });
    clients.push(c);
    await new Promise<void>((resolve, reject) => c.once('secureConnect', () => resolve()).once('error', reject));
    await waitFor(() => admitted.length === 1);
    expect((admitted[0] as TLSSocket).encrypted).toBe(true);
    expect((admitted[0] as TLSSocket).alpnProtocol).toBe('h2');
  });

  it('closes a connection that never starts its handshake at the bound', async () => {
    const silent = tcpConnect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    clients.push(silent);
    await closedPromise(silent);
    expect(closed).toContain('tls-refused');
    expect(admitted).toHaveLength(1);
  });

  it('refuses a connection over the limit before any handshake', async () => {
    const second = tcpConnect(port, '127.0.0.1');
    second.on('error', () => undefined);
    clients.push(second);
    await new Promise<void>((resolve) => second.once('connect', () => resolve()));
    await waitFor(() => guard.stats().open === 2);
    const third = tcpConnect(port, '127.0.0.1');
    third.on('error', () => undefined);
    clients.push(third);
    await closedPromise(third);
    expect(closed).toContain('over-limit');
    expect(guard.stats().refused).toBe(1);
  });
});
