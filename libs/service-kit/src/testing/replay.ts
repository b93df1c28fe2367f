/** Integration-test helpers over a real event store: what a full replay gives, and one aggregate's events. */
import type { EventStore, StoredEvent } from '@strata/eventlog';
import { stateDigest } from '../digest.js';

/** The digest of the state a full replay of the log gives up to `toSeq` (compare with the service's `state.digest`). */
export async function replayDigest<S extends { seq: number }>(
  store: EventStore,
  fold: (state: S, event: StoredEvent) => S,
  initial: S,
  toSeq: number,
  subject?: string,
): Promise<{ seq: number; sha256: string }> {
  let state = initial;
  for await (const event of store.read({ ...(subject === undefined ? {} : { subject }), toSeq })) state = fold(state, event);
  return stateDigest(state);
}

export async function eventsOf(store: EventStore, subject: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.read({ subject })) out.push(e);
  return out;
}
