import { ipamEvents, eventFilter, IPAM_CONTEXT } from '@strata/contracts';
import type { EventStore, ReadOptions } from '@strata/eventlog';
import { foldIpam, initialState, stateDigest, type IpamState } from '@strata/ipam';

/** IPAM state (with its request index, as the service folds it) rebuilt from the log alone (optionally only up to a sequence or time). */
export async function replayIpam(store: EventStore, options: Omit<ReadOptions, 'subject'> = {}): Promise<IpamState> {
  const state = initialState();
  for await (const event of store.read({ ...options, subject: eventFilter(IPAM_CONTEXT) })) {
    foldIpam(state, ipamEvents.decode(event));
  }
  return state;
}

export async function replayDigest(store: EventStore, options: Omit<ReadOptions, 'subject'> = {}): Promise<{ seq: number; sha256: string }> {
  return stateDigest(await replayIpam(store, options));
}
