/**
 * Issue 11, defect 12: 1,000 TCP connections that never sent a byte stayed
 * open past 60 s; 20,100 of them exhausted the API's file descriptors and
 * new clients got UNAVAILABLE. Attacks against the real API process
 * (startControlPlane) with test-shortened bounds (STRATA_GRPC_* env):
 *
 * 1. 1,000 silent TCP connections: a legitimate client is served during the
 *    flood, and the server closes every one of them (handshake deadline);
 *    an HTTP/2 session that opens no stream, and one that sends the preface
 *    and then goes silent, are closed too (idle bound).
 * 2. One address floods past its per-address limit: the excess is closed
 *    at once, the admitted ones hold exactly the limit, and a client from
 *    another address (127.0.0.2, still loopback) is served meanwhile.
 *
 * Only loopback; every socket the test opens is destroyed in teardown.
 */
import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@strata/testing';
import { startApiUnderAttack, type ApiUnderAttack } from './api-boundary.js';

const listNetworks = '/strata.v1.NetworkService/ListNetworks';
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]);

/** Opens `n` TCP connections from `localAddress`, 100 at a time, and tracks which the server closed. */
async function flood(target: string, n: number, localAddress = '127.0.0.1'): Promise<{ sockets: Socket[]; closed: () => number }> {
  const [host, port] = target.split(':') as [string, string];
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => {
      const s = tcpConnect({ host, port: Number(port), localAddress });
      s.on('error', () => undefined);
      // Read (and drop) what the server sends: a socket that is not read never sees the server's FIN.
      s.resume();
      s.once('close', () => closed++);
      sockets.push(s);
      return new Promise<void>((resolve) => {
        s.once('connect', () => resolve());
        s.once('close', () => resolve());
      });
    });
    await Promise.all(batch);
  }
  return { sockets, closed: () => closed };
}

/** One unary gRPC call over a fresh HTTP/2 connection from `localAddress` (grpc-js cannot choose its source address). */
async function callFrom(localAddress: string, target: string, path: string, token: string): Promise<number> {
  const [host, port] = target.split(':') as [string, string];
  const session: ClientHttp2Session = http2Connect(`http://${target}`, {
    createConnection: () => tcpConnect({ host, port: Number(port), localAddress }),
  });
  session.on('error', () => undefined);
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = session.request({
        [h2.HTTP2_HEADER_METHOD]: 'POST',
        [h2.HTTP2_HEADER_PATH]: path,
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${token}`,
      });
      req.on('trailers', (t) => resolve(Number(t['grpc-status'])));
      req.on('response', (h) => h['grpc-status'] !== undefined && resolve(Number(h['grpc-status'])));
      req.on('error', reject);
      req.on('close', () => reject(new Error('stream closed without a gRPC status')));
      req.resume();
      req.end(Buffer.from([0, 0, 0, 0, 0])); // an empty, uncompressed message
    });
  } finally {
    session.destroy();
  }
}

describe('hostile: idle and half-open connections', () => {
  const opened: Socket[] = [];
  const sessions: ClientHttp2Session[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.destroy();
    for (const s of sessions.splice(0)) s.destroy();
  });

  describe('a flood of silent connections', () => {
    let api: ApiUnderAttack;
    beforeAll(async () => {
      api = await startApiUnderAttack('idle', {
        STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: '5000',
        STRATA_GRPC_IDLE_TIMEOUT_MS: '2000',
        STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: '2000',
        STRATA_GRPC_MAX_CONNECTIONS: '4000',
      });
    });
    afterAll(async () => api?.stop());

    it('serves a legitimate client during a flood of 1,000 silent connections, then closes every one of them', async () => {
      const f = await flood(api.cp.apiAddr, 1000);
      opened.push(...f.sockets);
      expect(f.closed()).toBeLessThan(1000);
      expect((await api.call(listNetworks, new Uint8Array())).code).toBe(status.OK);
      // The server closes them (the client side never does): the 5 s handshake deadline, waited for, not slept.
      await waitFor(() => f.closed() === 1000, { timeoutMs: 60_000, intervalMs: 100, message: 'the server to close all 1,000 silent connections' });
      expect((await api.call(listNetworks, new Uint8Array())).code).toBe(status.OK);
    });

    it('closes an HTTP/2 session that never opens a stream', async () => {
      const session = http2Connect(`http://${api.cp.apiAddr}`);
      sessions.push(session);
      session.on('error', () => undefined);
      await new Promise<void>((resolve) => session.once('connect', () => resolve()));
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
      expect(session.destroyed).toBe(true);
    });

    it('closes a connection that sends the preface and then goes silent', async () => {
      const f = await flood(api.cp.apiAddr, 1);
      opened.push(...f.sockets);
      f.sockets[0]!.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
      await waitFor(() => f.closed() === 1, { timeoutMs: 60_000, intervalMs: 100, message: 'the server to close the silent HTTP/2 connection' });
    });
  });

  describe('a flood from one address past its limit', () => {
    const perAddress = 100;
    let api: ApiUnderAttack;
    beforeAll(async () => {
      // A long handshake deadline: the admitted connections stay for the whole test, so the counts below are exact.
      api = await startApiUnderAttack('conn-limit', {
        STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: '600000',
        STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: String(perAddress),
        STRATA_GRPC_MAX_CONNECTIONS: '1000',
      });
    });
    afterAll(async () => api?.stop());

    it('closes the excess at once, keeps exactly the limit, and serves another address meanwhile', async () => {
      const f = await flood(api.cp.apiAddr, 300);
      opened.push(...f.sockets);
      await waitFor(() => f.closed() >= 300 - perAddress, { timeoutMs: 30_000, intervalMs: 50, message: 'the over-limit connections to be closed' });
      expect(f.closed()).toBe(300 - perAddress);
      expect(await callFrom('127.0.0.2', api.cp.apiAddr, listNetworks, api.cp.tokens['admin']!)).toBe(status.OK);
      // The flooding address gets nothing more while its slots are taken.
      const more = await flood(api.cp.apiAddr, 1);
      opened.push(...more.sockets);
      await waitFor(() => more.closed() === 1, { timeoutMs: 30_000, intervalMs: 50, message: 'a further connection from the flooding address to be closed' });
      // Freeing the slots lets the address in again.
      for (const s of f.sockets) s.destroy();
      await waitFor(async () => (await callFrom('127.0.0.1', api.cp.apiAddr, listNetworks, api.cp.tokens['admin']!)) === status.OK, {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: 'the flooding address to be served again once its connections are gone',
      });
    });
  });
});
