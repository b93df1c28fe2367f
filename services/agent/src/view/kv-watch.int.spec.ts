/**
 * The agent's host-view watch against a real nats-server with the production
 * users: each watcher connects as its host's agent user, the test writes as
 * hostview, and the operator (admin) creates the buckets, as in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KV, type NatsConnection } from 'nats';
import { HOSTVIEW_BUCKET_OPTIONS, hostviewBucket, hostviewKey } from '@strata/contracts';
import { provisionStreams } from '@strata/lab';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import type { AgentLogger } from '../logger.js';
import { HostViewWatcher } from './kv-watch.js';

const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const domain = (id: string) => ({ id, tenant: 't', kind: 'router', networkIds: [] });

/** Every host of these tests; hlate's bucket is provisioned only during its test. */
const HOSTS = ['ha', 'hb', 'hempty', 'hlate', 'hother', 'hr', 'hgone'];

let server: StrataNats;
/** hostview's connection (the writer). */
let nc: NatsConnection;
/** The operator's connection: creates buckets. */
let admin: NatsConnection;

/** A host's bucket as hostview writes it (bound: the operator has created it). */
const bucketOf = (hostId: string, conn = nc): Promise<KV> => conn.jetstream().views.kv(hostviewBucket(hostId), HOSTVIEW_BUCKET_OPTIONS);

/** A connection as the host's agent user, reconnecting quickly. */
const agentConnection = (hostId: string): Promise<NatsConnection> =>
  connect({ ...server.options(`agent-${hostId}`), maxReconnectAttempts: -1, reconnectTimeWait: 100 });

const agents: NatsConnection[] = [];

beforeAll(async () => {
  server = await startStrataNats({ agents: HOSTS });
  admin = await server.connect('admin');
  await provisionStreams(admin, { hosts: HOSTS.filter((h) => h !== 'hlate') });
  nc = await server.connect('hostview');
});

afterAll(async () => {
  for (const a of agents) await a.close().catch(() => undefined);
  await server?.stop();
});

async function watcher(hostId: string, onChange = (): void => undefined): Promise<HostViewWatcher> {
  const conn = await agentConnection(hostId);
  agents.push(conn);
  return new HostViewWatcher({ nc: conn, hostId, logger: quiet, onChange, retryMs: 50 });
}

describe('HostViewWatcher (real nats-server)', () => {
  it('is not in sync until the initial snapshot is complete, then holds exactly this host’s keys', async () => {
    const kv = await bucketOf('ha');
    for (let i = 0; i < 200; i++) await kv.put(hostviewKey.domain('ha', `d${i}`), JSON.stringify(domain(`d${i}`)));
    await kv.put(hostviewKey.position('ha'), JSON.stringify({ seq: 1 }));
    await (await bucketOf('hb')).put(hostviewKey.domain('hb', 'other'), JSON.stringify(domain('other')));
    let changes = 0;
    const w = await watcher('ha', () => changes++);
    expect(w.current()).toBeNull();
    w.start();
    try {
      const cur = await waitFor(() => w.current(), { message: 'sync' });
      // The first view the agent can see is already complete: never a prefix of the snapshot.
      expect(Object.keys(cur.view.domains)).toHaveLength(200);
      expect(cur.view.domains.other).toBeUndefined();
      expect(changes).toBe(1);

      await kv.put(hostviewKey.domain('ha', 'new'), JSON.stringify(domain('new')));
      await kv.delete(hostviewKey.domain('ha', 'd0'));
      await waitFor(() => w.current()!.view.domains.new && !w.current()!.view.domains.d0, { message: 'updates' });
      expect(w.current()!.revision).toBeGreaterThan(cur.revision);
    } finally {
      await w.stop();
    }
  });

  it('a bucket that holds nothing is no view (fail static); one emptied by hostview (position deleted) is an empty view', async () => {
    const w = await watcher('hempty');
    w.start();
    try {
      await waitFor(() => w.feed().reason?.includes('no position'), { message: 'held back' });
      expect(w.current()).toBeNull();
      const kv = await bucketOf('hempty');
      await kv.put(hostviewKey.domain('hempty', 'a'), JSON.stringify(domain('a')));
      await kv.put(hostviewKey.position('hempty'), JSON.stringify({ seq: 5 }));
      await waitFor(() => w.current()?.view.domains.a, { message: 'sync once the position is written' });
      expect(w.feed()).toEqual({ live: true, reason: null, since: null });
      await kv.delete(hostviewKey.domain('hempty', 'a'));
      await kv.delete(hostviewKey.position('hempty'));
      await waitFor(() => w.current()?.viewPosition === null, { message: 'emptied' });
      expect(w.current()!.view).toEqual({ networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {}, l2gateways: {} });
    } finally {
      await w.stop();
    }
    // A fresh watch of the emptied bucket (delete markers only) is an empty view too: the host was emptied on purpose.
    const again = await watcher('hempty');
    again.start();
    try {
      const cur = await waitFor(() => again.current(), { message: 'sync of the emptied bucket' });
      expect(cur.view.domains).toEqual({});
    } finally {
      await again.stop();
    }
  });

  it('keeps its view, and says it is not live, while its bucket is gone and while a re-created one holds nothing', async () => {
    let kv = await bucketOf('hgone');
    await kv.put(hostviewKey.domain('hgone', 'a'), JSON.stringify(domain('a')));
    await kv.put(hostviewKey.position('hgone'), JSON.stringify({ seq: 3 }));
    const feeds: boolean[] = [];
    const conn = await agentConnection('hgone');
    agents.push(conn);
    const w = new HostViewWatcher({ nc: conn, hostId: 'hgone', logger: quiet, onChange: () => undefined, retryMs: 50, onFeed: (f) => feeds.push(f.live) });
    w.start();
    try {
      await waitFor(() => w.current()?.view.domains.a && w.feed().live, { message: 'sync' });
      const jsm = await admin.jetstreamManager();
      await jsm.streams.delete(`KV_${hostviewBucket('hgone')}`);
      // A reconnect (as after any outage) watches again: the bucket is not there.
      w.rewatch();
      await waitFor(() => !w.feed().live && /not found/i.test(w.feed().reason ?? ''), { message: 'not live: bucket gone' });
      expect(Object.keys(w.current()!.view.domains)).toEqual(['a']);
      // The operator provisions it again, empty: still no view of its own, the last one stays.
      await provisionStreams(admin, { hosts: ['hgone'] });
      await waitFor(() => w.feed().reason?.includes('no position'), { message: 'held back' });
      expect(Object.keys(w.current()!.view.domains)).toEqual(['a']);
      // hostview writes it again, keys first: still held back until the position follows them.
      kv = await bucketOf('hgone');
      await kv.put(hostviewKey.domain('hgone', 'b'), JSON.stringify(domain('b')));
      await new Promise((r) => setTimeout(r, 200));
      expect(Object.keys(w.current()!.view.domains)).toEqual(['a']);
      await kv.put(hostviewKey.position('hgone'), JSON.stringify({ seq: 9 }));
      await waitFor(() => w.current()?.view.domains.b && w.feed().live, { message: 'adopted with its position' });
      expect(Object.keys(w.current()!.view.domains)).toEqual(['b']);
      expect(feeds.filter((f, i) => i === 0 || f !== feeds[i - 1])).toEqual([true, false, true]);
    } finally {
      await w.stop();
    }
  });

  it('has no view while its bucket does not exist, and keeps trying until it does', async () => {
    let failures = 0;
    const logger: AgentLogger = { ...quiet, warn: () => void failures++, debug: () => void failures++ };
    const conn = await agentConnection('hlate');
    agents.push(conn);
    const w = new HostViewWatcher({ nc: conn, hostId: 'hlate', logger, onChange: () => undefined, retryMs: 20 });
    w.start();
    try {
      await waitFor(() => failures >= 2, { message: 'retries while the bucket is missing' });
      expect(w.current()).toBeNull();
      // Another host's bucket is no substitute.
      await (await bucketOf('hother')).put(hostviewKey.domain('hother', 'x'), JSON.stringify(domain('x')));
      await provisionStreams(admin, { hosts: ['hlate'] });
      await (await bucketOf('hlate')).put(hostviewKey.domain('hlate', 'a'), JSON.stringify(domain('a')));
      await (await bucketOf('hlate')).put(hostviewKey.position('hlate'), JSON.stringify({ seq: 1 }));
      await waitFor(() => w.current()?.view.domains.a, { message: 'sync once the bucket exists' });
      expect(Object.keys(w.current()!.view.domains)).toEqual(['a']);
    } finally {
      await w.stop();
    }
  });

  it('after a server restart it watches again from scratch and sees what changed meanwhile; not live while the server is away', async () => {
    await (await bucketOf('hr')).put(hostviewKey.domain('hr', 'a'), JSON.stringify(domain('a')));
    await (await bucketOf('hr')).put(hostviewKey.position('hr'), JSON.stringify({ seq: 1 }));
    const w = await watcher('hr');
    w.start();
    try {
      await waitFor(() => w.current()?.view.domains.a, { message: 'sync' });
      await server.server.kill9();
      await waitFor(() => !w.feed().live, { message: 'not live while the server is down' });
      expect(w.feed().reason).toBe('NATS disconnected');
      expect(w.current()?.view.domains.a).toBeDefined();
      await server.server.restart();
      const writer = await connect(server.options('hostview'));
      const kv2 = await bucketOf('hr', writer);
      await kv2.put(hostviewKey.domain('hr', 'b'), JSON.stringify(domain('b')));
      await writer.close();
      await waitFor(() => w.current()?.view.domains.b && w.syncs >= 2, { timeoutMs: 20_000, message: 're-watch after restart' });
      expect(Object.keys(w.current()!.view.domains).sort()).toEqual(['a', 'b']);
    } finally {
      await w.stop();
    }
  });
});
