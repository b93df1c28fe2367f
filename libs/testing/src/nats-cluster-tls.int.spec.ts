import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsClientTls } from './nats-server.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { makePki, type Pki } from './pki.js';

describe('a NATS cluster over TLS (clients and routes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cluster-tls-'));
  let pki: Pki;
  let cluster: NatsCluster;

  beforeAll(async () => {
    pki = makePki(join(dir, 'pki'));
    cluster = await startNatsCluster({ size: 3, tls: { ...pki.server, ca: pki.ca.cert, verify: true, client: pki.client } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forms over TLS routes: a three-replica stream is placed and takes a message', async () => {
    expect(cluster.url.split(',').every((u) => u.startsWith('tls://'))).toBe(true);
    const nc = await connect({ servers: cluster.url.split(','), tls: natsClientTls({ ...pki.server, ca: pki.ca.cert, client: pki.client }) });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'TLS_R3', subjects: ['tls.r3'], num_replicas: 3 });
      await nc.jetstream().publish('tls.r3', new TextEncoder().encode('x'));
      const info = await jsm.streams.info('TLS_R3');
      expect(info.state.messages).toBe(1);
      expect(info.cluster?.replicas?.length).toBe(2);
    } finally {
      await nc.close();
    }
    // Every route is TLS (nats-server says so when it sets one up).
    expect(cluster.logs()).toMatch(/Route connection created/);
    expect(cluster.logs()).not.toMatch(/TLS route handshake error/);
  });

  it("a route from a node with another CA's certificate is refused", async () => {
    const port = cluster.nodes[0]!.clusterPort;
    const error = await new Promise<string>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca.cert), cert: readFileSync(pki.foreign.server.cert), key: readFileSync(pki.foreign.server.key) });
      s.on('error', (e) => resolve(e.message));
      s.on('close', () => resolve('closed'));
      // A refused certificate ends the connection; accepted, the route would go on to INFO/CONNECT.
      s.on('secureConnect', () => s.write('PING\r\n'));
    });
    expect(error).not.toBe('');
    await expect.poll(() => cluster.logs()).toMatch(/TLS route handshake error: .*(unknown authority|certificate)/);
  });
});
