/**
 * The EventStore contract, run against every implementation (in-memory and
 * JetStream) so services can unit-test on the in-memory store and trust
 * that production behaves the same.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, ValidationError } from '@strata/errors';
import { waitFor } from '@strata/testing';
import { newEventId } from './ids.js';
import type { AggregateRef, EventEnvelope, EventStore, StoredEvent } from './types.js';

export interface StoreUnderTest {
  store: EventStore;
  /** Subject prefix of this store's aggregates (stores under test may each use their own). */
  prefix: string;
  /**
   * A store appending as the owner of `context` (under the production NATS
   * users each service writes only its own context); `store` if omitted.
   */
  writer?: (context: string) => EventStore;
  close?: () => Promise<void>;
}

export function event(ref: AggregateRef, type: string, data: unknown = {}, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: newEventId(),
    type,
    version: 1,
    aggregate: ref,
    tenant: 'tenant-a',
    actor: 'tester',
    correlationId: 'corr-1',
    causationId: null,
    occurredAt: '2024-05-01T12:00:00.000Z',
    data,
    ...overrides,
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Resolve once the wall clock has passed `iso`, so later events get a later storedAt (no fixed sleep). */
export async function clockPast(iso: string): Promise<void> {
  const t = Date.parse(iso);
  await waitFor(() => Date.now() > t + 1, { intervalMs: 1, message: `clock past ${iso}` });
}

const seqs = (events: StoredEvent[]): number[] => events.map((e) => e.seq);

export function eventStoreContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: EventStore;
    const net1: AggregateRef = { context: 'ipam', type: 'network', id: 'net-1' };
    const net2: AggregateRef = { context: 'ipam', type: 'network', id: 'net-2' };
    const sg1: AggregateRef = { context: 'secgroup', type: 'group', id: 'sg-1' };
    const writer = (r: AggregateRef): EventStore => sut.writer?.(r.context) ?? store;
    const subj = (r: AggregateRef): string => `${sut.prefix}.${r.context}.${r.type}.${r.id}`;

    beforeEach(async () => {
      sut = await factory();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.close?.();
    });

    it('appends and reads an aggregate back with every envelope field', async () => {
      const e = event(net1, 'NetworkCreated', { name: 'n', cidr: '10.0.0.0/24' }, {
        causationId: 'cmd-1',
        reason: 'CHG-1042: the web tier',
        trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'k=v' },
      });
      const r = await store.append(net1, e, { expectedVersion: 'none' });
      expect(r).toEqual({ seq: 1, duplicate: false });

      const { events, version } = await store.readAggregate(net1);
      expect(version).toBe(1);
      expect(events).toHaveLength(1);
      const stored = events[0]!;
      expect(stored).toMatchObject({ ...e, seq: 1, subject: subj(net1) });
      expect(new Date(stored.storedAt).toISOString()).toBe(stored.storedAt);
    });

    it('reads an unknown aggregate as empty with version 0', async () => {
      expect(await store.readAggregate(net1)).toEqual({ events: [], version: 0 });
    });

    it("versions are per aggregate: the last sequence of the aggregate's own events", async () => {
      await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
      await store.append(net2, event(net2, 'A'), { expectedVersion: 'none' });
      await store.append(net1, event(net1, 'B'), { expectedVersion: 1 });
      await store.append(net2, event(net2, 'B'), { expectedVersion: 2 });
      const a = await store.readAggregate(net1);
      expect(seqs(a.events)).toEqual([1, 3]);
      expect(a.version).toBe(3);
      expect((await store.readAggregate(net2)).version).toBe(4);
    });

    it("expectedVersion 'none' refuses an aggregate that already exists", async () => {
      await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
      const err = await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConcurrencyError);
      expect(err).toMatchObject({ subject: subj(net1), expectedVersion: 0, actualVersion: 1, code: 'ABORTED' });
    });

    it('a stale numeric expectedVersion is a ConcurrencyError carrying the actual version', async () => {
      await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
      await store.append(net1, event(net1, 'B'), { expectedVersion: 1 });
      const err = await store.append(net1, event(net1, 'C'), { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConcurrencyError);
      expect(err).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect((await store.readAggregate(net1)).events.map((e) => e.type)).toEqual(['A', 'B']);
    });

    it("expectedVersion 'any' appends without a check", async () => {
      await store.append(net1, event(net1, 'A'), { expectedVersion: 'any' });
      await store.append(net1, event(net1, 'B'), { expectedVersion: 'any' });
      expect((await store.readAggregate(net1)).version).toBe(2);
    });

    it('an event appended twice with the same id is stored once', async () => {
      const e = event(net1, 'A');
      const first = await store.append(net1, e, { expectedVersion: 'none' });
      const again = await store.append(net1, e, { expectedVersion: 'none' });
      expect(again).toEqual({ seq: first.seq, duplicate: true });
      expect((await store.readAggregate(net1)).events).toHaveLength(1);
    });

    it('a re-sent event whose expected version is stale by now is a duplicate, not a conflict', async () => {
      const e1 = event(net1, 'A');
      await store.append(net1, e1, { expectedVersion: 'none' });
      await store.append(net1, event(net1, 'B'), { expectedVersion: 1 });
      expect(await store.append(net1, e1, { expectedVersion: 'none' })).toEqual({ seq: 1, duplicate: true });
      expect(seqs((await store.readAggregate(net1)).events)).toEqual([1, 2]);
    });

    it('rejects subject tokens that are empty, dotted, wildcards or contain whitespace', async () => {
      for (const id of ['', 'a.b', '*', '>', 'a b', 'tab\there']) {
        const ref = { ...net1, id };
        await expect(store.append(ref, event(ref, 'A'), { expectedVersion: 'any' })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.readAggregate(ref)).rejects.toBeInstanceOf(ValidationError);
      }
      const badCtx = { ...net1, context: 'ip.am' };
      await expect(store.append(badCtx, event(badCtx, 'A'), { expectedVersion: 'any' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('rejects an event whose aggregate is not the one appended to', async () => {
      await expect(store.append(net1, event(net2, 'A'), { expectedVersion: 'any' })).rejects.toBeInstanceOf(ValidationError);
    });

    describe('read', () => {
      beforeEach(async () => {
        await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' }); // 1
        await writer(sg1).append(sg1, event(sg1, 'A'), { expectedVersion: 'none' }); // 2
        await store.append(net2, event(net2, 'A'), { expectedVersion: 'none' }); // 3
        await store.append(net1, event(net1, 'B'), { expectedVersion: 1 }); // 4
        await writer(sg1).append(sg1, event(sg1, 'B'), { expectedVersion: 2 }); // 5
      });

      it('reads everything in order', async () => {
        expect(seqs(await collect(store.read()))).toEqual([1, 2, 3, 4, 5]);
      });

      it('reads from and up to a sequence', async () => {
        expect(seqs(await collect(store.read({ fromSeq: 2, toSeq: 4 })))).toEqual([2, 3, 4]);
        expect(seqs(await collect(store.read({ fromSeq: 5 })))).toEqual([5]);
        expect(seqs(await collect(store.read({ fromSeq: 6 })))).toEqual([]);
        expect(seqs(await collect(store.read({ toSeq: 99 })))).toEqual([1, 2, 3, 4, 5]);
      });

      it('filters by subject, with wildcards', async () => {
        expect(seqs(await collect(store.read({ subject: `${sut.prefix}.ipam.>` })))).toEqual([1, 3, 4]);
        expect(seqs(await collect(store.read({ subject: `${sut.prefix}.*.*.net-1` })))).toEqual([1, 4]);
        expect(seqs(await collect(store.read({ subject: subj(sg1), fromSeq: 3 })))).toEqual([5]);
        expect(seqs(await collect(store.read({ subject: `${sut.prefix}.nat.>` })))).toEqual([]);
        expect(seqs(await collect(store.read({ subject: `${sut.prefix}.ipam.>`, toSeq: 3 })))).toEqual([1, 3]);
      });

      it('reads up to a time: events stored at or before it', async () => {
        const all = await collect(store.read());
        await clockPast(all[4]!.storedAt);
        await store.append(net2, event(net2, 'B'), { expectedVersion: 3 }); // 6, strictly later
        const cut = new Date(all[4]!.storedAt);
        expect(seqs(await collect(store.read({ toTime: cut })))).toEqual([1, 2, 3, 4, 5]);
        expect(seqs(await collect(store.read({ toTime: new Date(Date.parse(all[0]!.storedAt) - 1) })))).toEqual([]);
        expect(seqs(await collect(store.read({ toTime: new Date(Date.now() + 60_000) })))).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it('resolves a position to its stored time, and nothing before 1 or past the end', async () => {
        const all = await collect(store.read());
        expect(await store.pointAt(3)).toEqual({ seq: 3, storedAt: all[2]!.storedAt });
        expect(await store.pointAt(5)).toEqual({ seq: 5, storedAt: all[4]!.storedAt });
        expect(await store.pointAt(6)).toBeUndefined();
        expect(await store.pointAt(0)).toBeUndefined();
      });

      it('resolves a time to the last event stored at or before it', async () => {
        const first = await collect(store.read());
        await clockPast(first[4]!.storedAt);
        await store.append(net2, event(net2, 'B'), { expectedVersion: 3 }); // 6, strictly later
        const all = await collect(store.read());
        const at = (iso: string, deltaMs = 0) => store.pointAtTime(new Date(Date.parse(iso) + deltaMs));
        // Several events may share a millisecond: the last of them is the answer.
        const lastAtSameMs = (i: number) => Math.max(...all.filter((e) => e.storedAt === all[i]!.storedAt).map((e) => e.seq));
        expect(await at(all[4]!.storedAt)).toEqual({ seq: lastAtSameMs(4), storedAt: all[4]!.storedAt });
        expect(await at(all[5]!.storedAt, -1)).toEqual({ seq: 5, storedAt: all[4]!.storedAt });
        expect(await at(all[5]!.storedAt)).toEqual({ seq: 6, storedAt: all[5]!.storedAt });
        expect(await at(all[5]!.storedAt, 60_000)).toEqual({ seq: 6, storedAt: all[5]!.storedAt });
        expect(await at(all[0]!.storedAt, -1)).toBeUndefined();
      });

      it('ends at the log end as of its start, even while writers keep appending', async () => {
        const seen: number[] = [];
        for await (const e of store.read()) {
          seen.push(e.seq);
          if (seen.length === 1) await store.append(net2, event(net2, 'late'), { expectedVersion: 'any' });
        }
        expect(seen).toEqual([1, 2, 3, 4, 5]);
      });

      it('reports the last sequence, overall and per subject filter', async () => {
        expect(await store.lastSeq()).toBe(5);
        expect(await store.lastSeq(subj(net1))).toBe(4);
        expect(await store.lastSeq(`${sut.prefix}.ipam.>`)).toBe(4);
        expect(await store.lastSeq(`${sut.prefix}.secgroup.>`)).toBe(5);
        expect(await store.lastSeq(`${sut.prefix}.nat.>`)).toBe(0);
      });
    });

    it('lastSeq of an empty log is 0, and no point resolves in it', async () => {
      expect(await store.pointAt(1)).toBeUndefined();
      expect(await store.pointAtTime(new Date())).toBeUndefined();
      expect(await store.lastSeq()).toBe(0);
      expect(await store.lastSeq(`${sut.prefix}.>`)).toBe(0);
    });

    describe('subscribe', () => {
      it('delivers history, resolves caughtUp, then delivers live events', async () => {
        await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
        await writer(sg1).append(sg1, event(sg1, 'A'), { expectedVersion: 'none' });
        await store.append(net1, event(net1, 'B'), { expectedVersion: 1 });

        const sub = store.subscribe({ subject: `${sut.prefix}.ipam.>` });
        const seen: StoredEvent[] = [];
        const loop = (async () => {
          for await (const e of sub) seen.push(e);
        })();
        await sub.caughtUp;
        expect(seqs(seen)).toEqual([1, 3]);

        await writer(sg1).append(sg1, event(sg1, 'B'), { expectedVersion: 2 }); // 4, filtered out
        await store.append(net2, event(net2, 'A'), { expectedVersion: 'none' }); // 5
        await waitFor(() => seen.length === 3, { message: 'live event' });
        expect(seqs(seen)).toEqual([1, 3, 5]);
        expect(seen[2]).toMatchObject({ type: 'A', aggregate: net2, subject: subj(net2) });

        await sub.stop();
        await loop;
      });

      it('starts at fromSeq', async () => {
        for (let i = 0; i < 4; i++) await store.append(net1, event(net1, `E${i}`), { expectedVersion: 'any' });
        const sub = store.subscribe({ fromSeq: 3 });
        const seen: number[] = [];
        const loop = (async () => {
          for await (const e of sub) seen.push(e.seq);
        })();
        await sub.caughtUp;
        expect(seen).toEqual([3, 4]);
        await sub.stop();
        await loop;
      });

      it('is caught up at once on an empty log, and still receives what comes later', async () => {
        const sub = store.subscribe();
        await sub.caughtUp;
        const seen: number[] = [];
        const loop = (async () => {
          for await (const e of sub) seen.push(e.seq);
        })();
        await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
        await waitFor(() => seen.length === 1, { message: 'first live event' });
        await sub.stop();
        await loop;
        expect(seen).toEqual([1]);
      });

      it('is caught up at once when nothing matches its filter', async () => {
        await store.append(net1, event(net1, 'A'), { expectedVersion: 'none' });
        const sub = store.subscribe({ subject: `${sut.prefix}.nat.>` });
        await sub.caughtUp;
        await sub.stop();
      });

      it('stop() ends an iteration that is waiting for live events', async () => {
        const sub = store.subscribe();
        const loop = collect(sub);
        await sub.caughtUp;
        await sub.stop();
        expect(await loop).toEqual([]);
      });
    });
  });
}
