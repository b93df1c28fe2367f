/**
 * Support for hostview's integration tests (not used by the service): a log
 * writer that appends as the services' executors do, the operator's view of
 * the buckets, an agent's watch, and the oracle (a fresh model replayed from
 * the log, every host derived in full).
 */
import { randomUUID } from 'node:crypto';
import type { KV, KvEntry, NatsConnection, QueuedIterator } from 'nats';
import {
  hostOfHostviewStream,
  hostviewBucket,
  hostviewKey,
  ipamEvents,
  parseHostviewKey,
  secgroupEvents,
  type IpamEvent,
  type SecgroupEvent,
} from '@strata/contracts';
import type { AggregateRef, JetStreamEventStore } from '@strata/eventlog';
import { waitFor, type StrataNats } from '@strata/testing';
import { hostOfKey } from '../../core/derive.js';
import { applyEvent, emptyModel, toModelEvent, type Model } from '../../core/model.js';
import { deriveAll } from '../../core/test/given.js';

type Ev = IpamEvent | SecgroupEvent;
type DataOf<K extends Ev['type']> = Extract<Ev, { type: K }>['data'];

/** Appends events the way the services' executors do: validated data, full envelope, optimistic concurrency. */
export class TestLog {
  private readonly versions = new Map<string, number>();
  constructor(
    /** For reading the whole log; also the writer of every context when `writers` is not given. */
    readonly store: JetStreamEventStore,
    /** The writer of each context: the store of its service's NATS user. */
    private readonly writers?: Readonly<Record<string, JetStreamEventStore>>,
  ) {}

  /** An IPAM or secgroup event, encoded by its context's registry. */
  async emit<K extends Ev['type']>(aggregate: AggregateRef, tenant: string, type: K, data: DataOf<K>): Promise<number> {
    const encoded = type.startsWith('ipam.')
      ? ipamEvents.encode(type as IpamEvent['type'], data as never)
      : secgroupEvents.encode(type as SecgroupEvent['type'], data as never);
    return this.append(aggregate, tenant, type, encoded.version, encoded.data);
  }

  /** Any context's event, undecoded (the host view must skip what it does not read). */
  async append(aggregate: AggregateRef, tenant: string, type: string, version: number, data: unknown): Promise<number> {
    const id = randomUUID();
    const subject = this.store.subjectOf(aggregate);
    const last = this.versions.get(subject) ?? 0;
    const writer = this.writers ? this.writers[aggregate.context] : this.store;
    if (writer === undefined) throw new Error(`no writer for context ${aggregate.context}`);
    const { seq } = await writer.append(
      aggregate,
      { id, type, version, aggregate, data, tenant, actor: 'hostview-test', occurredAt: new Date().toISOString(), correlationId: id, causationId: id },
      { expectedVersion: last === 0 ? 'none' : last },
    );
    this.versions.set(subject, seq);
    return seq;
  }
}

/** The buckets as the operator (admin) sees them: bound, so a bucket must exist to be read. */
export class OperatorBuckets {
  private readonly handles = new Map<string, KV>();
  constructor(private readonly nc: NatsConnection) {}

  /** Forget the handle of a host's bucket (all: none given), after destroying it by hand. */
  forget(hostId?: string): void {
    if (hostId === undefined) this.handles.clear();
    else this.handles.delete(hostId);
  }

  async kvOf(hostId: string): Promise<KV> {
    let kv = this.handles.get(hostId);
    if (!kv) {
      kv = await this.nc.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
      this.handles.set(hostId, kv);
    }
    return kv;
  }

  /** Hosts that have a bucket. */
  async hosts(): Promise<string[]> {
    const jsm = await this.nc.jetstreamManager();
    const hosts: string[] = [];
    for await (const name of jsm.streams.names()) {
      const h = hostOfHostviewStream(name);
      if (h !== undefined) hosts.push(h);
    }
    return hosts.sort();
  }

  /** One bucket's live content. */
  async bucket(hostId: string): Promise<Map<string, string>> {
    const kv = await this.kvOf(hostId);
    const out = new Map<string, string>();
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    for (const k of keys) {
      const e = await kv.get(k);
      if (e?.operation === 'PUT') out.set(k, e.string());
    }
    return out;
  }

  /** Every bucket's live content; a key in the bucket of a host it does not name shows up as `<bucket host>!<key>`. */
  async all(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const h of await this.hosts()) for (const [k, v] of await this.bucket(h)) out.set(hostOfKey(k) === h ? k : `${h}!${k}`, v);
    return out;
  }
}

/** A bucket's content without its position key (what the derivation computes). */
export const withoutPosition = (m: ReadonlyMap<string, string>): Map<string, string> => new Map([...m].filter(([k]) => parseHostviewKey(k)?.kind !== 'position'));

/** The position a bucket's content (or an `all()` map) holds for a host, or undefined. */
export const positionIn = (m: ReadonlyMap<string, string>, hostId: string): number | undefined => {
  const v = m.get(hostviewKey.position(hostId));
  return v === undefined ? undefined : (JSON.parse(v) as { seq: number }).seq;
};

/**
 * What an agent sees: the snapshot, then every delta as `PUT key` / `DEL key`
 * (the derived keys; the position key's apart: `position` and `positions`),
 * and `all`, every delta in order, position included.
 */
export interface AgentWatch {
  snapshot: Map<string, string>;
  deltas: string[];
  /** The snapshot's position (undefined: none). */
  position: number | undefined;
  /** Each position delta's seq (null: deleted). */
  positions: Array<number | null>;
  all: string[];
  initialized: () => boolean;
  stop(): void;
}

/** An agent's watch of its bucket, as the host's own NATS user. */
export async function watchHost(nats: StrataNats, hostId: string): Promise<AgentWatch> {
  const agent = await nats.connect(`agent-${hostId}`);
  const kv = await agent.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
  const snapshot = new Map<string, string>();
  const watch: AgentWatch = { snapshot, deltas: [], position: undefined, positions: [], all: [], initialized: () => initialized, stop: () => void agent.close() };
  const positionKey = hostviewKey.position(hostId);
  let initialized = false;
  const iter: QueuedIterator<KvEntry> = await kv.watch({ key: hostviewKey.all(hostId), initializedFn: () => void (initialized = true) });
  void (async () => {
    for await (const e of iter) {
      const seq = e.operation === 'PUT' && e.key === positionKey ? (e.json() as { seq: number }).seq : null;
      if (!initialized) {
        if (e.key === positionKey) watch.position = seq ?? undefined;
        else if (e.operation === 'PUT') snapshot.set(e.key, e.string());
        else snapshot.delete(e.key);
        continue;
      }
      watch.all.push(`${e.operation} ${e.key}`);
      if (e.key === positionKey) watch.positions.push(seq);
      else watch.deltas.push(`${e.operation} ${e.key}`);
    }
  })();
  await waitFor(() => initialized, { message: `initial snapshot of ${hostId}` });
  return watch;
}

/** The oracle: a fresh model replayed from the whole log (other contexts skipped), every host derived in full. */
export async function derivedFromLog(store: JetStreamEventStore): Promise<{ model: Model; all: Map<string, string> }> {
  const model = emptyModel();
  for await (const stored of store.read()) {
    const event = toModelEvent(stored);
    if (event) applyEvent(model, event);
  }
  return { model, all: deriveAll(model) };
}

export const sorted = (m: Map<string, string>): [string, string][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
