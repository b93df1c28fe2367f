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
 *    A peer that stops answering (a Watch client frozen with SIGSTOP: its
 *    kernel still ACKs, nothing answers HTTP/2 PINGs) is dropped by
 *    keepalive although its stream is open; a live watcher is kept.
 * 2. One address floods past its per-address limit: the excess is closed
 *    at once, the admitted ones hold exactly the limit, and a client from
 *    another address (127.0.0.2, still loopback) is served meanwhile.
 *
 * Only loopback; every socket the test opens is destroyed in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** A separate process holding a Watch open; prints its local port once the stream delivers. */
const WATCHER = `
const http2 = require('node:http2');
const [addr, token] = process.argv.slice(1);
const s = http2.connect('http://' + addr);
s.on('error', () => {});
const req = s.request({ ':method': 'POST', ':path': '/strata.v1.EventService/Watch', 'content-type': 'application/grpc', te: 'trailers', authorization: 'Bearer ' + token });
req.on('error', () => {});
req.once('data', () => console.log('streaming ' + s.socket.localPort));
req.resume();
req.end(Buffer.from([0, 0, 0, 0, 0]));
`;

function startWatcher(apiAddr: string, token: string): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(process.execPath, ['-e', WATCHER, apiAddr, token], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /streaming (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('watcher exited')));
  });
  return { child, port };
}

/** Whether the TCP connection from local port `port` to `remotePort` is still ESTABLISHED (from /proc/net/tcp). */
function established(port: number, remotePort: number): boolean {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .some((f) => f.length > 3 && parseInt(f[1]!.split(':')[1]!, 16) === port && parseInt(f[2]!.split(':')[1]!, 16) === remotePort && f[3] === '01');
}

describe('hostile: idle and half-open connections', () => {
  const opened: Socket[] = [];
  const sessions: ClientHttp2Session[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.destroy();
    for (const s of sessions.splice(0)) s.destroy();
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  describe('a flood of silent connections', () => {
    let api: ApiUnderAttack;
    beforeAll(async () => {
      api = await startApiUnderAttack({
        STRATA_GRPC_HANDSHAKE_TIMEOUT_MS: '5000',
        STRATA_GRPC_IDLE_TIMEOUT_MS: '2000',
        STRATA_GRPC_MAX_CONNECTIONS_PER_ADDRESS: '2000',
        STRATA_GRPC_MAX_CONNECTIONS: '4000',
        STRATA_GRPC_KEEPALIVE_TIME_MS: '1000',
        STRATA_GRPC_KEEPALIVE_TIMEOUT_MS: '1000',
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

    it('drops a peer that stops answering although its Watch is open (keepalive), and keeps a live one', async () => {
      const apiPort = Number(api.cp.apiAddr.split(':')[1]);
      const token = api.cp.tokens['admin']!;
      const frozen = startWatcher(api.cp.apiAddr, token);
      const live = startWatcher(api.cp.apiAddr, token);
      children.push(frozen.child, live.child);
      const [frozenPort, livePort] = await Promise.all([frozen.port, live.port]);
      frozen.child.kill('SIGSTOP');
      await waitFor(() => !established(frozenPort, apiPort), { timeoutMs: 60_000, intervalMs: 100, message: 'the server to drop the frozen watcher' });
      expect(established(livePort, apiPort)).toBe(true);
    });
  });

  describe('a flood from one address past its limit', () => {
    const perAddress = 100;
    let api: ApiUnderAttack;
    beforeAll(async () => {
      // A long handshake deadline: the admitted connections stay for the whole test, so the counts below are exact.
      api = await startApiUnderAttack({
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
