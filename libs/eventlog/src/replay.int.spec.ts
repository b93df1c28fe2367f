import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStrataNats, type StrataNats } from '@strata/testing';
import { JetStreamEventStore } from './jetstream-store.js';
import { DEFAULT_EVENT_LOG_OPTIONS, ensureEventStream } from './stream-config.js';
import { clockPast, collect, event } from './event-store.contract.js';
import type { AggregateRef, StoredEvent } from './types.js';

/** A tiny read model: network name and member count per network. */
type State = Record<string, { name: string; members: number }>;
function evolve(state: State, e: StoredEvent): State {
  const data = e.data as { name?: string };
  const cur = state[e.aggregate.id];
  switch (e.type) {
    case 'NetworkCreated':
      return { ...state, [e.aggregate.id]: { name: data.name!, members: 0 } };
    case 'NetworkRenamed':
      return { ...state, [e.aggregate.id]: { ...cur!, name: data.name! } };
    case 'MemberAdded':
      return { ...state, [e.aggregate.id]: { ...cur!, members: cur!.members + 1 } };
    default:
      return state;
  }
}
const fold = (events: StoredEvent[]): State => events.reduce(evolve, {});

// Production users: the operator (admin) provisions the stream, IPAM appends and reads as ipam.
describe('replay to a past sequence or time reproduces the state at that point', () => {
  let nats: StrataNats;
  let store: JetStreamEventStore;
  // State after each event, recorded while writing: the ground truth a replay must reproduce.
  const history: Array<{ seq: number; storedAt: string; state: State }> = [];

  beforeAll(async () => {
    nats = await startStrataNats();
    await ensureEventStream(await (await nats.connect('admin')).jetstreamManager(), DEFAULT_EVENT_LOG_OPTIONS);
    store = await JetStreamEventStore.open(await nats.connect('ipam'));
    const a: AggregateRef = { context: 'ipam', type: 'network', id: 'a' };
    const b: AggregateRef = { context: 'ipam', type: 'network', id: 'b' };
    const phases = [
      [[a, 'NetworkCreated', { name: 'alpha' }], [a, 'MemberAdded', {}], [b, 'NetworkCreated', { name: 'beta' }]],
      [[a, 'NetworkRenamed', { name: 'alpha-2' }], [b, 'MemberAdded', {}], [b, 'MemberAdded', {}]],
      [[a, 'MemberAdded', {}], [b, 'NetworkRenamed', { name: 'beta-2' }]],
    ] as const;
    let state: State = {};
    for (const phase of phases) {
      // Phases are separated in time (by polling the clock, not sleeping) so a time cut falls between them.
      if (history.length > 0) await clockPast(history.at(-1)!.storedAt);
      for (const [ref, type, data] of phase) {
        const { seq } = await store.append(ref, event(ref, type, data), { expectedVersion: 'any' });
        const stored = (await store.readAggregate(ref)).events.find((e) => e.seq === seq)!;
        state = evolve(state, stored);
        history.push({ seq, storedAt: stored.storedAt, state });
      }
    }
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('to every sequence', async () => {
    for (const point of history) {
      expect(fold(await collect(store.read({ toSeq: point.seq }))), `toSeq ${point.seq}`).toEqual(point.state);
    }
  });

  it('to the end of each phase in time', async () => {
    for (const end of [2, 5, 7]) {
      const point = history[end]!;
      const replayed = await collect(store.read({ toTime: new Date(point.storedAt) }));
      expect(replayed.at(-1)!.seq).toBe(point.seq);
      expect(fold(replayed)).toEqual(point.state);
    }
    expect(await collect(store.read({ toTime: new Date(Date.parse(history[0]!.storedAt) - 1) }))).toEqual([]);
  });

  it('from a snapshot position onwards gives the same result as a full replay', async () => {
    const mid = history[3]!;
    const rest = await collect(store.read({ fromSeq: mid.seq + 1 }));
    expect(rest.reduce(evolve, mid.state)).toEqual(history.at(-1)!.state);
  });
});
