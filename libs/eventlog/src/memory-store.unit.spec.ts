import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from './memory-store.js';
import { collect, event, eventStoreContract } from './event-store.contract.js';

eventStoreContract('InMemoryEventStore', async () => ({ store: new InMemoryEventStore(), prefix: 'strata.evt' }));

describe('InMemoryEventStore', () => {
  it('stamps storedAt from the injected clock, so time-based replays can be driven', async () => {
    let now = new Date('2024-01-01T00:00:00.000Z');
    const store = new InMemoryEventStore({ now: () => now });
    const ref = { context: 'ipam', type: 'network', id: 'n' };
    await store.append(ref, event(ref, 'A'), { expectedVersion: 'none' });
    now = new Date('2024-01-02T00:00:00.000Z');
    await store.append(ref, event(ref, 'B'), { expectedVersion: 1 });
    const early = await collect(store.read({ toTime: new Date('2024-01-01T12:00:00.000Z') }));
    expect(early.map((e) => e.type)).toEqual(['A']);
    expect(early[0]!.storedAt).toBe('2024-01-01T00:00:00.000Z');
  });

  it('hands out copies: mutating a read event does not change the log', async () => {
    const store = new InMemoryEventStore();
    const ref = { context: 'ipam', type: 'network', id: 'n' };
    const e = event(ref, 'A', { name: 'x' });
    await store.append(ref, e, { expectedVersion: 'none' });
    (e.data as { name: string }).name = 'changed-after-append';
    const [read] = (await store.readAggregate(ref)).events;
    (read!.data as { name: string }).name = 'changed-after-read';
    expect((await store.readAggregate(ref)).events[0]!.data).toEqual({ name: 'x' });
  });
});
