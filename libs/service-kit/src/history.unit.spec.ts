/**
 * resourceHistory over the in-memory event store with a small service of
 * its own (fold and views below, in IPAM's context so the audit kinds'
 * table places its resources): versions, deletion, unreadable events,
 * scoping, and that only the resource's aggregate is read.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import { EventSchemaError, InMemoryEventStore, type AggregateRef, type EventStore, type StoredEvent } from '@strata/eventlog';
import type { AuditKind, ResourceHistoryRequest } from '@strata/contracts';
import type { Caller } from './decision.js';
import { resourceHistory, type HistorySource, type OwnedView } from './history.js';

const at = '2026-01-01T00:00:00.000Z';
const admin: Caller = { actor: 'ops', tenant: 'ops', admin: true, requestId: 'q', at };
const alice: Caller = { actor: 'alice', tenant: 'tenant-a', admin: false, requestId: 'q', at };
const bob: Caller = { actor: 'bob', tenant: 'tenant-b', admin: false, requestId: 'q', at };

const net = (id: string): AggregateRef => ({ context: 'ipam', type: 'network', id });
const cloud: AggregateRef = { context: 'ipam', type: 'cloud', id: 'default' };

/** The toy service's state: ports by id (with their network), pools by id, and what it counted. */
interface Toy {
  ports: Record<string, { tenant: string; network: string; name: string; touched: number }>;
  pools: Record<string, { name: string }>;
}

const toy = (store: EventStore): HistorySource<Toy> => ({
  store,
  context: 'ipam',
  initial: () => ({ ports: {}, pools: {} }),
  fold: (s, e) => {
    const d = e.data as Record<string, string>;
    switch (e.type) {
      case 'toy.PortCreated':
        s.ports[d.portId!] = { tenant: e.tenant, network: e.aggregate.id, name: d.name!, touched: 0 };
        break;
      case 'toy.PortRenamed':
        s.ports[d.portId!]!.name = d.name!;
        break;
      case 'toy.PortTouched':
        // Changes the state, not the view: no version.
        s.ports[d.portId!]!.touched++;
        break;
      case 'toy.PortDeleted':
        delete s.ports[d.portId!];
        break;
      case 'toy.NetworkDeleted':
        for (const [id, p] of Object.entries(s.ports)) if (p.network === d.networkId) delete s.ports[id];
        break;
      case 'toy.PoolCreated':
        s.pools[d.poolId!] = { name: d.name! };
        break;
      default:
        // What a registry says of a type this build does not know.
        throw new EventSchemaError(`unknown event type ${e.type}`, 'unknown-type');
    }
  },
  view: (s, kind: AuditKind, id): OwnedView | null => {
    if (kind === 'port') {
      const p = s.ports[id];
      return p ? { tenant: p.tenant, view: { name: p.name } } : null;
    }
    if (kind === 'pool') return s.pools[id] ? { tenant: '_system', view: { ...s.pools[id] } } : null;
    return null;
  },
});

let n = 0;
async function append(store: EventStore, ref: AggregateRef, type: string, data: Record<string, unknown>, tenant = 'tenant-a'): Promise<number> {
  const id = `ev-${++n}`;
  const env = { id, type, version: 1, aggregate: ref, data, tenant, actor: 'alice', occurredAt: at, correlationId: id, causationId: null, reason: `because ${n}` };
  return (await store.append(ref, env, { expectedVersion: 'any' })).seq;
}

const port = (id: string, networkId: string, toSeq: number): ResourceHistoryRequest => ({ kind: 'port', id, aggregateId: networkId, toSeq });
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: StrataError) => `${e.code}: ${e.message}`,
  );

describe('resourceHistory', () => {
  it('one version per event that changed the view, with who, when and why; deletion is a null version; asked up to S, the history ends at S', async () => {
    const store = new InMemoryEventStore();
    const s1 = await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    await append(store, net('n1'), 'toy.PortTouched', { portId: 'p1' });
    await append(store, net('n1'), 'toy.PortCreated', { portId: 'p2', name: 'db' });
    const s4 = await append(store, net('n1'), 'toy.PortRenamed', { portId: 'p1', name: 'web-1' });
    await append(store, net('n1'), 'toy.PortRenamed', { portId: 'p1', name: 'web-1' });
    const s6 = await append(store, net('n1'), 'toy.PortDeleted', { portId: 'p1' });

    const h = await resourceHistory(toy(store), alice, port('p1', 'n1', s6));
    expect(h.versions.map((v) => [v.event.seq, v.view])).toEqual([
      [s1, { name: 'web' }],
      [s4, { name: 'web-1' }],
      [s6, null],
    ]);
    expect(h.versions[1]!.event).toMatchObject({ type: 'toy.PortRenamed', actor: 'alice', reason: 'because 4', correlationId: 'ev-4' });
    expect(h).toMatchObject({ kind: 'port', id: 'p1', tenant: 'tenant-a', eventsRead: 6, unreadable: [] });

    const cut = await resourceHistory(toy(store), alice, port('p1', 'n1', s4));
    expect(cut.versions.map((v) => v.event.seq)).toEqual([s1, s4]);
    expect(cut.eventsRead).toBe(4);
  });

  it('reads only the aggregate holding the resource: other aggregates events are neither read nor folded', async () => {
    const store = new InMemoryEventStore();
    await append(store, net('n2'), 'toy.PortCreated', { portId: 'p1', name: 'elsewhere' });
    const s2 = await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    await append(store, net('n2'), 'toy.PortRenamed', { portId: 'p1', name: 'not this one' });
    await append(store, net('n3'), 'toy.PortCreated', { portId: 'p9', name: 'x' });
    const h = await resourceHistory(toy(store), alice, port('p1', 'n1', 10));
    expect(h.eventsRead).toBe(1);
    expect(h.versions.map((v) => [v.event.seq, v.view])).toEqual([[s2, { name: 'web' }]]);
  });

  it("with alsoIn (a network's lifecycle on the cloud aggregate): the cloud events naming this network are folded, the others read and skipped", async () => {
    const store = new InMemoryEventStore();
    const s1 = await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    await append(store, net('n2'), 'toy.PortCreated', { portId: 'p2', name: 'db' });
    // Another network's deletion: would delete nothing here anyway; a wrongly folded one would be caught below.
    await append(store, cloud, 'toy.NetworkDeleted', { networkId: 'n2' }, '_system');
    await append(store, cloud, 'toy.Unknown', { networkId: 'n2' }, '_system');
    const s5 = await append(store, cloud, 'toy.NetworkDeleted', { networkId: 'n1' }, '_system');
    const h = await resourceHistory(toy(store), alice, port('p1', 'n1', s5));
    expect(h.versions.map((v) => [v.event.seq, v.view])).toEqual([
      [s1, { name: 'web' }],
      [s5, null],
    ]);
    // n1's event and the cloud's three: read; n2's port: not read; the unknown cloud event names n2: not ours, not reported.
    expect(h.eventsRead).toBe(4);
    expect(h.unreadable).toEqual([]);
  });

  it('an event this build cannot decode is reported by position and skipped; the versions go on', async () => {
    const store = new InMemoryEventStore();
    await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    const bad = await append(store, net('n1'), 'toy.FromTheFuture', { portId: 'p1' });
    const s3 = await append(store, net('n1'), 'toy.PortRenamed', { portId: 'p1', name: 'web-2' });
    const h = await resourceHistory(toy(store), alice, port('p1', 'n1', s3));
    expect(h.unreadable).toEqual([{ seq: bad, reason: 'unknown-type' }]);
    expect(h.versions.map((v) => v.view)).toEqual([{ name: 'web' }, { name: 'web-2' }]);
    expect(h.eventsRead).toBe(3);
  });

  it('an event the log marks unreadable (not an envelope) is reported by position and never folded', async () => {
    const store = new InMemoryEventStore();
    await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    const broken = await append(store, net('n1'), 'toy.PortRenamed', { portId: 'p1', name: 'never applied' });
    // The memory store cannot hold a message that is not an envelope; JetStream delivers one marked like this.
    const corrupt: EventStore = Object.assign(Object.create(store) as EventStore, {
      async *read(options: Parameters<EventStore['read']>[0]) {
        for await (const e of store.read(options)) {
          yield e.seq === broken ? ({ ...e, data: null, tenant: '', unreadable: { reason: 'envelope', message: 'not JSON' } } satisfies StoredEvent) : e;
        }
      },
    });
    const h = await resourceHistory(toy(corrupt), alice, port('p1', 'n1', 10));
    expect(h.unreadable).toEqual([{ seq: broken, reason: 'envelope' }]);
    expect(h.versions.map((v) => v.view)).toEqual([{ name: 'web' }]);
  });

  it("another tenant's resource is NOT_FOUND exactly like a missing one; an admin sees it", async () => {
    const store = new InMemoryEventStore();
    const before = await append(store, net('n1'), 'toy.PortCreated', { portId: 'p0', name: 'other' });
    const s = await append(store, net('n1'), 'toy.PortCreated', { portId: 'p1', name: 'web' });
    const theirs = await codeOf(resourceHistory(toy(store), bob, port('p1', 'n1', s)));
    const missing = await codeOf(resourceHistory(toy(store), bob, port('p7', 'n1', s)));
    expect(theirs).toMatch(/^NOT_FOUND: /);
    expect(theirs.replace('p1', 'p7')).toBe(missing);
    expect((await resourceHistory(toy(store), admin, port('p1', 'n1', s))).tenant).toBe('tenant-a');
    // Before it existed it is missing to its owner too.
    expect(await codeOf(resourceHistory(toy(store), alice, port('p1', 'n1', before)))).toBe(`NOT_FOUND: ${theirs.slice('NOT_FOUND: '.length).replace(`position ${s}`, `position ${before}`)}`);
  });

  it('an operator kind (a pool) is NOT_FOUND to a tenant and visible to an admin', async () => {
    const store = new InMemoryEventStore();
    const s = await append(store, cloud, 'toy.PoolCreated', { poolId: 'pool-1', name: 'public' }, '_system');
    const req: ResourceHistoryRequest = { kind: 'pool', id: 'pool-1', aggregateId: 'default', toSeq: s };
    const refused = await codeOf(resourceHistory(toy(store), alice, req));
    expect(refused).toMatch(/^NOT_FOUND: /);
    expect(refused.replace('pool-1', 'pool-9')).toBe(await codeOf(resourceHistory(toy(store), alice, { ...req, id: 'pool-9' })));
    expect(await codeOf(resourceHistory(toy(store), { ...alice, tenant: '_system' }, req))).toMatch(/^NOT_FOUND: /);
    expect((await resourceHistory(toy(store), admin, req)).versions.map((v) => v.view)).toEqual([{ name: 'public' }]);
  });

  it("refuses another context's kind and an aggregate that is not the resource's own, reading nothing", async () => {
    const store = new InMemoryEventStore();
    const read: string[] = [];
    const watched: EventStore = Object.assign(Object.create(store) as EventStore, {
      read: (o: Parameters<EventStore['read']>[0]) => (read.push(o?.subject ?? '*'), store.read(o)),
    });
    const secgroup = await codeOf(resourceHistory(toy(watched), admin, { kind: 'security-group', id: 'g1', aggregateId: 'g1', toSeq: 1 }));
    expect(secgroup).toBe(`${ErrorCode.InvalidArgument}: kind security-group belongs to secgroup, not ipam`);
    const router = await codeOf(resourceHistory(toy(watched), admin, { kind: 'router', id: 'r1', aggregateId: 'r2', toSeq: 1 }));
    expect(router).toBe(`${ErrorCode.InvalidArgument}: a router is its own aggregate: aggregateId must equal id (r1)`);
    expect(read).toEqual([]);
  });
});
