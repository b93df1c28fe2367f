import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KV, type NatsConnection } from 'nats';
import { hostviewBucket, hostviewKey } from '@strata/contracts';
import { startNatsServer, waitFor, type NatsServerHandle } from '@strata/testing';
import type { AgentLogger } from '../agent.js';
import { HostViewWatcher } from './kv-watch.js';

const quiet: AgentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const domain = (id: string) => ({ id, tenant: 't', kind: 'router', networkIds: [] });

let server: NatsServerHandle;
let nc: NatsConnection;

/** A host's bucket, created as hostview creates it. */
const bucketOf = (hostId: string, conn = nc): Promise<KV> => conn.jetstream().views.kv(hostviewBucket(hostId), { history: 1 });

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

function watcher(hostId: string, onChange = (): void => undefined, conn = nc): HostViewWatcher {
  return new HostViewWatcher({ nc: conn, hostId, logger: quiet, onChange, retryMs: 50 });
}

describe('HostViewWatcher (real nats-server)', () => {
  it('is not in sync until the initial snapshot is complete, then holds exactly this host’s keys', async () => {
    const kv = await bucketOf('hA');
    for (let i = 0; i < 200; i++) await kv.put(hostviewKey.domain('hA', `d${i}`), JSON.stringify(domain(`d${i}`)));
    await (await bucketOf('hB')).put(hostviewKey.domain('hB', 'other'), JSON.stringify(domain('other')));
    let changes = 0;
    const w = watcher('hA', () => changes++);
    expect(w.current()).toBeNull();
    w.start();
    try {
      const cur = await waitFor(() => w.current(), { message: 'sync' });
      // The first view the agent can see is already complete: never a prefix of the snapshot.
      expect(Object.keys(cur.view.domains)).toHaveLength(200);
      expect(cur.view.domains.other).toBeUndefined();
      expect(changes).toBe(1);

      await kv.put(hostviewKey.domain('hA', 'new'), JSON.stringify(domain('new')));
      await kv.delete(hostviewKey.domain('hA', 'd0'));
      await waitFor(() => w.current()!.view.domains.new && !w.current()!.view.domains.d0, { message: 'updates' });
      expect(w.current()!.revision).toBeGreaterThan(cur.revision);
    } finally {
      await w.stop();
    }
  });

  it('a host whose bucket is empty is in sync with an empty view', async () => {
    await bucketOf('hEmpty');
    const w = watcher('hEmpty');
    w.start();
    try {
      const cur = await waitFor(() => w.current(), { message: 'sync' });
      expect(cur.view).toEqual({ networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {} });
    } finally {
      await w.stop();
    }
  });

  it('has no view while its bucket does not exist, and keeps trying until it does', async () => {
    let failures = 0;
    const logger: AgentLogger = { ...quiet, warn: () => void failures++, debug: () => void failures++ };
    const w = new HostViewWatcher({ nc, hostId: 'hLate', logger, onChange: () => undefined, retryMs: 20 });
    w.start();
    try {
      await waitFor(() => failures >= 2, { message: 'retries while the bucket is missing' });
      expect(w.current()).toBeNull();
      // Another host's bucket is no substitute.
      await (await bucketOf('hOther')).put(hostviewKey.domain('hOther', 'x'), JSON.stringify(domain('x')));
      await (await bucketOf('hLate')).put(hostviewKey.domain('hLate', 'a'), JSON.stringify(domain('a')));
      // (It may first sync the bucket while it is still empty: created, then written.)
      await waitFor(() => w.current()?.view.domains.a, { message: 'sync once the bucket exists' });
      expect(Object.keys(w.current()!.view.domains)).toEqual(['a']);
    } finally {
      await w.stop();
    }
  });

  it('after a server restart it watches again from scratch and sees what changed meanwhile', async () => {
    await (await bucketOf('hR')).put(hostviewKey.domain('hR', 'a'), JSON.stringify(domain('a')));
    const conn = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const w = watcher('hR', () => undefined, conn);
    w.start();
    try {
      await waitFor(() => w.current()?.view.domains.a, { message: 'sync' });
      await server.restart();
      const writer = await connect({ servers: server.url });
      const kv2 = await bucketOf('hR', writer);
      await kv2.put(hostviewKey.domain('hR', 'b'), JSON.stringify(domain('b')));
      await writer.close();
      await waitFor(() => w.current()?.view.domains.b && w.syncs >= 2, { timeoutMs: 20_000, message: 're-watch after restart' });
      expect(Object.keys(w.current()!.view.domains).sort()).toEqual(['a', 'b']);
    } finally {
      await w.stop();
      await conn.close();
    }
  });
});
