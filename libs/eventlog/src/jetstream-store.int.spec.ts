import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageType, type NatsConnection } from 'nats';
import { ConcurrencyError } from '@strata/errors';
import { startStrataNats, waitFor, type StrataNats } from '@strata/testing';
import { JetStreamEventStore } from './jetstream-store.js';
import { collect, event, eventStoreContract } from './event-store.contract.js';
import { DEFAULT_EVENT_LOG_OPTIONS, ensureEventStream, eventStreamConfig as eventStreamConfigOf, jsErrCode, JS_ERR_STREAM_NOT_FOUND, type EventLogOptions } from './stream-config.js';
import type { AggregateRef, EventStore, StoredEvent } from './types.js';

/**
 * Production users (infra/nats/render-accounts.mjs): the operator (`admin`)
 * provisions STRATA_EVENTS, and the store runs as the service owning the
 * events it writes (`ipam`, `secgroup` for its own context). Each test gets
 * an empty log: the operator drops and re-creates the stream.
 */
const STREAM = DEFAULT_EVENT_LOG_OPTIONS.streamName;
const PREFIX = DEFAULT_EVENT_LOG_OPTIONS.subjectPrefix;
let nats: StrataNats;
let admin: NatsConnection;
let ipam: NatsConnection;

/** The operator's part: drop whatever log there was (deny_delete stops message deletes, not this). */
async function dropStream(): Promise<void> {
  await (await admin.jetstreamManager()).streams.delete(STREAM).catch((err: unknown) => {
    if (jsErrCode(err) !== JS_ERR_STREAM_NOT_FOUND) throw err;
  });
}

/** An empty log provisioned by the operator, and IPAM's store on it. */
async function freshStore(conn: NatsConnection = ipam, extra: Partial<EventLogOptions> = {}) {
  const options = { ...DEFAULT_EVENT_LOG_OPTIONS, ...extra };
  await dropStream();
  await ensureEventStream(await admin.jetstreamManager(), options);
  const store = await JetStreamEventStore.open(conn, options);
  return { store, prefix: PREFIX, streamName: STREAM, options };
}

beforeAll(async () => {
  nats = await startStrataNats();
  admin = await nats.connect('admin');
  ipam = await nats.connect('ipam');
});
afterAll(async () => {
  await nats?.stop();
});

eventStoreContract('JetStreamEventStore', async () => {
  const s = await freshStore();
  const secgroup = await JetStreamEventStore.open(await nats.connect('secgroup'));
  return { ...s, writer: (context) => (context === 'secgroup' ? secgroup : s.store), close: dropStream };
});

describe('JetStreamEventStore on a real nats-server', () => {
  it('reports caught up from any start position, also with a whole-stream filter', async () => {
    const { store, prefix } = await freshStore();
    const ref: AggregateRef = { context: 'ipam', type: 'network', id: 'x' };
    for (let v = 0; v < 5; v++) await store.append(ref, event(ref, `e${v}`), { expectedVersion: v === 0 ? 'none' : v });
    for (const fromSeq of [1, 3, 5, 6]) {
      const sub = store.subscribe({ subject: `${prefix}.>`, fromSeq });
      const seen: number[] = [];
      const drain = (async () => {
        for await (const e of sub) seen.push(e.seq);
      })();
      await sub.caughtUp;
      expect(seen).toEqual([1, 2, 3, 4, 5].filter((q) => q >= fromSeq));
      await sub.stop();
      await drain;
    }
  });

  it('the operator creates the stream as the source of truth: no limits, deny delete and purge, no rollups', async () => {
    await freshStore();
    const { config } = await (await admin.jetstreamManager()).streams.info(STREAM);
    expect(config).toMatchObject({
      subjects: [`${PREFIX}.>`],
      storage: 'file',
      num_replicas: 1,
      duplicate_window: 120_000_000_000,
      discard: 'old',
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      deny_delete: true,
      deny_purge: true,
    });
    expect(config.allow_rollup_hdrs ?? false).toBe(false);
  });

  it('a service cannot create the stream: opening fails until the operator has provisioned it', async () => {
    await dropStream();
    await expect(JetStreamEventStore.open(ipam)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect((await admin.jetstreamManager()).streams.info(STREAM)).rejects.toSatisfy((e) => jsErrCode(e) === JS_ERR_STREAM_NOT_FOUND);
    await ensureEventStream(await admin.jetstreamManager(), DEFAULT_EVENT_LOG_OPTIONS);
    await expect(JetStreamEventStore.open(ipam)).resolves.toBeInstanceOf(JetStreamEventStore);
  });

  it('the operator adopts a stream created without protections and with limits and brings it in line; a service cannot', async () => {
    await dropStream();
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ name: STREAM, subjects: [`${PREFIX}.>`], max_age: 3_600_000_000_000, max_msgs: 1000 });
    // Bringing it in line is a stream update, which only the operator may do: the service says what differs.
    const refused = JetStreamEventStore.open(ipam);
    await expect(refused).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(refused).rejects.toThrow(/stream STRATA_EVENTS differs from this process's configuration: max_msgs is 1000, configured -1.*Permissions Violation/);
    expect((await jsm.streams.info(STREAM)).config).toMatchObject({ max_msgs: 1000 });
    await ensureEventStream(jsm, DEFAULT_EVENT_LOG_OPTIONS);
    const { config } = await jsm.streams.info(STREAM);
    expect(config).toMatchObject({ deny_delete: true, deny_purge: true, max_age: 0, max_msgs: -1 });
    // Once set, the server itself refuses to lift the protections.
    await expect(jsm.streams.update(STREAM, { ...config, deny_purge: false })).rejects.toThrow(/can not cancel deny purge/);
    await expect(jsm.streams.update(STREAM, { ...config, deny_delete: false })).rejects.toThrow(/can not cancel deny message deletes/);
    await expect(JetStreamEventStore.open(ipam)).resolves.toBeInstanceOf(JetStreamEventStore);
  });

  it('refuses to open a stream whose storage type differs (it cannot be changed in place)', async () => {
    await dropStream();
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ ...eventStreamConfigOf(DEFAULT_EVENT_LOG_OPTIONS), storage: StorageType.Memory });
    await expect(JetStreamEventStore.open(ipam)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(ensureEventStream(jsm, DEFAULT_EVENT_LOG_OPTIONS)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('reads an aggregate with thousands of events, interleaved with others, completely and in order', async () => {
    const { store } = await freshStore();
    const big: AggregateRef = { context: 'ipam', type: 'subnet', id: 'big' };
    const other: AggregateRef = { context: 'ipam', type: 'subnet', id: 'other' };
    const total = 5_000;
    for (let i = 0; i < total; i += 500) {
      const appends = [];
      for (let j = i; j < i + 500; j++) {
        const ref = j % 5 === 0 ? other : big;
        appends.push(store.append(ref, event(ref, 'Allocated', { j }), { expectedVersion: 'any' }));
      }
      await Promise.all(appends);
    }
    const { events, version } = await store.readAggregate(big);
    expect(events).toHaveLength(4_000);
    expect(events.every((e) => e.aggregate.id === 'big')).toBe(true);
    expect(events.every((e, k) => k === 0 || e.seq > events[k - 1]!.seq)).toBe(true);
    expect(version).toBe(events.at(-1)!.seq);
    expect(await collect(store.read({ fromSeq: 1 }))).toHaveLength(total);
  });

  it('cleans up its consumers after reads and stopped subscriptions', async () => {
    const { store, streamName } = await freshStore();
    const ref: AggregateRef = { context: 'ipam', type: 'network', id: 'n' };
    await store.append(ref, event(ref, 'A'), { expectedVersion: 'none' });
    await collect(store.read());
    await store.readAggregate(ref);
    for await (const _ of store.read()) break;
    const sub = store.subscribe();
    const loop = collect(sub);
    await sub.caughtUp;
    await sub.stop();
    expect(await loop).toHaveLength(1);
    const jsm = await admin.jetstreamManager();
    await waitFor(async () => (await jsm.streams.info(streamName)).state.consumer_count === 0, { message: 'no consumers left' });
  });
});

describe('a subscription whose consumer is lost reads on from where it was: nothing skipped, nothing twice', () => {
  const ref: AggregateRef = { context: 'ipam', type: 'network', id: 'n' };

  /** A fresh log with one event, and a subscription from its start collecting event types. */
  async function following() {
    const { store, streamName } = await freshStore();
    await store.append(ref, event(ref, 'e0'), { expectedVersion: 'none' });
    const sub = store.subscribe();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of sub) seen.push(e.type);
    })();
    await sub.caughtUp;
    const stop = async (): Promise<string[]> => {
      await sub.stop();
      await loop;
      return seen;
    };
    return { store, streamName, seen, stop };
  }

  it('the server deleted the consumer (twice: the replacement too)', async () => {
    const { store, streamName, seen, stop } = await following();
    const jsm = await admin.jetstreamManager();
    for (let round = 1; round <= 2; round++) {
      const consumers = await jsm.consumers.list(streamName).next();
      expect(consumers).toHaveLength(1);
      await jsm.consumers.delete(streamName, consumers[0]!.name);
      await store.append(ref, event(ref, `e${round}`), { expectedVersion: round });
      await waitFor(() => seen.length === round + 1, { message: `event ${round} read after the consumer was deleted` });
    }
    expect(await stop()).toEqual(['e0', 'e1', 'e2']);
  });

  it('a message the server delivered never reached the reader, and nothing comes after it: read again once the reader sees it idle', async () => {
    const { store, streamName, seen, stop } = await following();
    const [consumer] = await (await admin.jetstreamManager()).consumers.list(streamName).next();
    // A second pull on the reader's own consumer, queued ahead of the reader's next one: the server serves waiting
    // pulls in order, so the next message is delivered to it and never reaches the reader, and no later message
    // shows the gap. The reader's pull waiting now expires within its live period (5 s) and is queued behind.
    const thief = await admin.jetstream().consumers.get(streamName, consumer!.name);
    const stolen = thief.next({ expires: 20_000 });
    await new Promise((r) => setTimeout(r, 8_000));
    await store.append(ref, event(ref, 'e1'), { expectedVersion: 1 });
    expect((await stolen)?.seq).toBe(2);
    await waitFor(() => seen.length === 2, { timeoutMs: 30_000, message: 'the stolen event read from a new consumer' });
    expect(await stop()).toEqual(['e0', 'e1']);
  });

  it('its server stopped gracefully and started again (the consumer gone, the client reconnected)', async () => {
    const { store, seen, stop } = await following();
    await nats.server.restart(); // SIGTERM, then the same port and store
    // The same event until the server takes it (a re-send is recognised by its id).
    const e1 = event(ref, 'e1');
    await waitFor(() => store.append(ref, e1, { expectedVersion: 1 }).then(() => true, () => false), { intervalMs: 200, message: 'an append after the restart' });
    await waitFor(() => seen.length === 2, { message: 'the event appended after the restart read' });
    expect(await stop()).toEqual(['e0', 'e1']);
  });
});

describe('two concurrent writers on one aggregate at the same version', () => {
  // A tiny decider: allocate the lowest free host number of a subnet.
  type Evt = StoredEvent<'SubnetCreated' | 'AddressAllocated', { host?: number; owner?: string }>;
  const allocated = (events: Evt[]) => new Set(events.filter((e) => e.type === 'AddressAllocated').map((e) => e.data.host!));
  const lowestFree = (taken: Set<number>) => {
    let h = 2;
    while (taken.has(h)) h++;
    return h;
  };

  /** The command handler shape every service uses: read, decide, append with OCC, retry on conflict. */
  async function allocate(store: EventStore, ref: AggregateRef, owner: string, attempts: { n: number }): Promise<number> {
    for (;;) {
      attempts.n++;
      const { events, version } = await store.readAggregate(ref);
      const host = lowestFree(allocated(events as Evt[]));
      try {
        await store.append(ref, event(ref, 'AddressAllocated', { host, owner }), { expectedVersion: version });
        return host;
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
  }

  it('exactly one wins, the other gets a ConcurrencyError, and its retry succeeds against fresh state', async () => {
    const { store: s1 } = await freshStore();
    // Two IPAM instances: separate connections (both as ipam), separate store objects.
    const nc2 = await nats.connect('ipam');
    try {
      const s2 = await JetStreamEventStore.open(nc2);
      const ref: AggregateRef = { context: 'ipam', type: 'subnet', id: 's1' };
      await s1.append(ref, event(ref, 'SubnetCreated'), { expectedVersion: 'none' });
      const { version } = await s1.readAggregate(ref);

      const results = await Promise.allSettled([
        s1.append(ref, event(ref, 'AddressAllocated', { host: 2, owner: 'a' }), { expectedVersion: version }),
        s2.append(ref, event(ref, 'AddressAllocated', { host: 2, owner: 'b' }), { expectedVersion: version }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const err = lost[0]!.reason as ConcurrencyError;
      expect(err).toBeInstanceOf(ConcurrencyError);
      expect(err.expectedVersion).toBe(version);
      expect(err.actualVersion).toBe((won[0] as PromiseFulfilledResult<{ seq: number }>).value.seq);

      // The loser's command is retried: re-read, decide again (host 2 is taken now), append.
      const loser = results[0]!.status === 'rejected' ? { store: s1, owner: 'a' } : { store: s2, owner: 'b' };
      const host = await allocate(loser.store, ref, loser.owner, { n: 0 });
      expect(host).toBe(3);
      const final = (await s1.readAggregate(ref)).events as Evt[];
      expect(final.filter((e) => e.type === 'AddressAllocated').map((e) => e.data.host).sort()).toEqual([2, 3]);
    } finally {
      await nc2.close();
    }
  });

  it('many writers racing with retries never hand out the same address twice', async () => {
    const { store } = await freshStore();
    const conns = await Promise.all([1, 2, 3].map(() => nats.connect('ipam')));
    try {
      const stores = [store, ...(await Promise.all(conns.map((c) => JetStreamEventStore.open(c))))];
      const ref: AggregateRef = { context: 'ipam', type: 'subnet', id: 's2' };
      await store.append(ref, event(ref, 'SubnetCreated'), { expectedVersion: 'none' });
      const attempts = { n: 0 };
      const hosts = await Promise.all(Array.from({ length: 12 }, (_, i) => allocate(stores[i % stores.length]!, ref, `o${i}`, attempts)));
      expect(new Set(hosts).size).toBe(12);
      expect([...hosts].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
      expect(allocated((await store.readAggregate(ref)).events as Evt[]).size).toBe(12);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });
});

describe('the same event appended twice (same id) is stored once', () => {
  const ref: AggregateRef = { context: 'ipam', type: 'port', id: 'p1' };

  it('sequentially and concurrently', async () => {
    const { store } = await freshStore();
    const e = event(ref, 'PortCreated');
    const first = await store.append(ref, e, { expectedVersion: 'none' });
    expect(await store.append(ref, e, { expectedVersion: 'none' })).toEqual({ seq: first.seq, duplicate: true });
    expect(await store.append(ref, e, { expectedVersion: 'any' })).toEqual({ seq: first.seq, duplicate: true });

    const e2 = event(ref, 'PortUpdated');
    const both = await Promise.all([
      store.append(ref, e2, { expectedVersion: first.seq }),
      store.append(ref, e2, { expectedVersion: first.seq }),
    ]);
    expect(both.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(both[0]!.seq).toBe(both[1]!.seq);
    expect((await store.readAggregate(ref)).events.map((x) => x.id)).toEqual([e.id, e2.id]);
  });

  it('a re-send with a now-stale expected version, inside the duplicate window: the server reports the duplicate first', async () => {
    const { store } = await freshStore();
    const e1 = event(ref, 'PortCreated');
    await store.append(ref, e1, { expectedVersion: 'none' });
    await store.append(ref, event(ref, 'PortUpdated'), { expectedVersion: 1 });
    expect(await store.append(ref, e1, { expectedVersion: 'none' })).toEqual({ seq: 1, duplicate: true });
    expect((await store.readAggregate(ref)).events).toHaveLength(2);
  });

  it('a re-send with a now-stale expected version, after the duplicate window: detected by looking the id up', async () => {
    const { store, prefix } = await freshStore(ipam, { duplicateWindowMs: 100 });
    const e1 = event(ref, 'PortCreated');
    const e2 = event(ref, 'PortUpdated');
    await store.append(ref, e1, { expectedVersion: 'none' });
    await store.append(ref, e2, { expectedVersion: 1 });
    // Wait (by polling) until the server itself no longer recognises the id: a raw re-send now
    // fails the sequence check instead of being reported duplicate. It is never stored either way.
    const js = ipam.jetstream();
    const subject = `${prefix}.ipam.port.p1`;
    await waitFor(
      () =>
        js.publish(subject, new Uint8Array(), { msgID: e1.id, expect: { lastSubjectSequence: 0 } }).then(
          () => false,
          (err: { api_error?: { err_code?: number } }) => err.api_error?.err_code === 10071,
        ),
      { message: 'duplicate window to pass', intervalMs: 25 },
    );

    expect(await store.append(ref, e1, { expectedVersion: 'none' })).toEqual({ seq: 1, duplicate: true });
    expect(await store.append(ref, e2, { expectedVersion: 1 })).toEqual({ seq: 2, duplicate: true });
    // A genuinely different event with the stale version still conflicts.
    await expect(store.append(ref, event(ref, 'PortUpdated'), { expectedVersion: 1 })).rejects.toMatchObject({
      name: 'ConcurrencyError',
      actualVersion: 2,
    });
    expect((await store.readAggregate(ref)).events.map((x) => x.id)).toEqual([e1.id, e2.id]);
  });
});
