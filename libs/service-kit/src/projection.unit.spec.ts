import { describe, expect, it } from 'vitest';
import { InMemoryEventStore, type AggregateRef, type StoredEvent } from '@strata/eventlog';
import { createLogger } from '@strata/runtime';
import { Projection } from './projection.js';

const ev = (ref: AggregateRef, id: string) => ({
  id,
  type: 'T',
  version: 1,
  aggregate: ref,
  data: {},
  tenant: 't',
  actor: 'a',
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: id,
  causationId: null,
});

describe('Projection.waitFor', () => {
  it("treats another service's sequence as reached once its own filter is caught up", async () => {
    const store = new InMemoryEventStore();
    const mine: AggregateRef = { context: 'a', type: 'x', id: '1' };
    const theirs: AggregateRef = { context: 'b', type: 'x', id: '1' };
    await store.append(mine, ev(mine, 'e1'), { expectedVersion: 'none' });
    const p = new Projection<{ seq: number; n: number }, StoredEvent>({
      store,
      logger: createLogger('test', 'silent'),
      subject: 'strata.evt.a.>',
      initial: { seq: 0, n: 0 },
      decode: (e) => e,
      evolve: (s, e) => {
        s.seq = e.seq;
        s.n += 1;
        return s;
      },
    });
    await p.start();
    const { seq } = await store.append(theirs, ev(theirs, 'e2'), { expectedVersion: 'none' });
    // Sequence 2 is b's: a's projection never sees it, yet a reader that saw 2 must not wait forever.
    await p.waitFor(seq, 1_000);
    const { seq: next } = await store.append(mine, ev(mine, 'e3'), { expectedVersion: 1 });
    await p.waitFor(next, 1_000);
    expect(p.state).toEqual({ seq: 3, n: 2 });
    await p.stop();
  });
});
