import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JetStreamManager, NatsConnection } from 'nats';
import { nodeHealthy } from './nats-cluster.js';
import { startStrataNats, type StrataNats } from './strata-nats.js';
import { waitFor } from './wait-for.js';

const enc = new TextEncoder();

describe('a three-node nats-server cluster with the production users', () => {
  let nats: StrataNats;
  let admin: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startStrataNats({ clusterSize: 3 });
    admin = await nats.connect('admin');
    jsm = await admin.jetstreamManager();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  /** Publish until acknowledged: while a leader is being elected a publish times out or finds no responder. */
  const publish = (subject: string): Promise<number> =>
    waitFor(async () => (await admin.jetstream().publish(subject, enc.encode(subject), { timeout: 2_000 })).seq, { timeoutMs: 30_000, intervalMs: 100, message: `a publish on ${subject} to be acknowledged` });

  it('gives every node its own ports and store, and lists every node in url', () => {
    const cluster = nats.cluster!;
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(nats.url).toBe(cluster.nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(','));
    expect(new Set(cluster.nodes.map((n) => n.server.storeDir)).size).toBe(3);
    expect(nats.env('ipam')['NATS_URL']).toBe(nats.url);
    expect(new Set(cluster.nodes.flatMap((n) => [n.port, n.clusterPort, n.monitorPort])).size).toBe(9);
  });

  it('keeps an R3 stream writable when its leader is killed, and the node rejoins and catches up', async () => {
    const cluster = nats.cluster!;
    await jsm.streams.add({ name: 'C', subjects: ['c.>'], num_replicas: 3 });
    await publish('c.before');
    const info = await jsm.streams.info('C');
    const leader = info.cluster!.leader!;
    expect([leader, ...(info.cluster!.replicas ?? []).map((r) => r.name)].sort()).toEqual(['n1', 'n2', 'n3']);

    const victim = cluster.indexOf(leader);
    const pid = cluster.nodes[victim]!.server.pid;
    await cluster.killNode(victim);
    expect(cluster.nodes[victim]!.server.pid).toBeUndefined();
    expect(pid).toBeDefined();
    expect(await nodeHealthy(cluster.nodes[victim]!.monitorPort)).toBe(false);
    await publish('c.during');
    const during = await waitFor(async () => {
      const i = await jsm.streams.info('C');
      return i.cluster?.leader !== undefined && i.cluster.leader !== leader ? i : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100, message: 'a new leader' });
    expect(during.state.messages).toBe(2);

    await cluster.startNode(victim);
    await publish('c.after');
    // The restarted node has every message: ask it alone (a connection to it, a direct get is served by any replica).
    await waitFor(async () => {
      const i = await jsm.streams.info('C');
      const back = (i.cluster?.replicas ?? []).find((r) => r.name === leader) ?? (i.cluster?.leader === leader ? { current: true, lag: 0 } : undefined);
      return back !== undefined && back.current && (back.lag ?? 0) === 0 && i.state.messages === 3;
    }, { timeoutMs: 30_000, intervalMs: 100, message: `${leader} to be current again` });
  });

  it('stopNode stops a node gracefully and startNode brings it back', async () => {
    const cluster = nats.cluster!;
    await cluster.stopNode(2);
    expect(await nodeHealthy(cluster.nodes[2]!.monitorPort)).toBe(false);
    await publish('c.stopped');
    await cluster.startNode(2);
    await cluster.waitHealthy();
    expect((await jsm.streams.info('C')).state.messages).toBe(4);
  });
});
