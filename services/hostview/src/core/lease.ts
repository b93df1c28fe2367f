/**
 * Partition leases, the pure part (docs/architecture.md, "High
 * availability"): which instance publishes a hostview partition, decided
 * through one key per partition in a KV bucket whose writes are
 * revision-checked (a write names the revision it read; JetStream refuses it
 * when the key moved on), so of two instances acting on the same reading
 * exactly one wins.
 *
 * No clock is shared. A lease is alive while its record keeps changing: the
 * holder rewrites it every `ttl/3`; an observer that sees the same revision
 * for a whole `ttl` of its own clock takes it over. The holder publishes only
 * while its last successful renewal started less than `2/3 ttl` ago: it
 * checks that every `ttl/6` (to stop its partition) and right before each
 * write it sends (app/publisher.ts `mayWrite`: a process frozen past its
 * lease wakes up with writes to make before its timer fires), so it has
 * stopped before anyone can take the lease (a full ttl after they saw that
 * renewal, which they saw only after it started). Clocks need only run at
 * the same rate.
 *
 * An instance prefers one partition (its HOSTVIEW_PARTITION index): it takes
 * that one whenever it is free (no record, or released); any other free or
 * expired one only after watching it stay so for a ttl, so at start-up each
 * partition's preferred instance gets it first.
 */

/** The lease record of a partition as read: revision 0 = never written; holder undefined = released (deleted). */
export interface LeaseRecord {
  revision: number;
  holder: string | undefined;
}

export interface LeaseState {
  /** The record last read, and when (this instance's clock) that revision was first seen. */
  seen: (LeaseRecord & { since: number }) | undefined;
  /** This instance's hold: the revision it wrote and when that write started. */
  held: { revision: number; renewedAt: number } | undefined;
}

export interface LeasePolicy {
  /** This instance's id in lease records (unique per process). */
  self: string;
  ttlMs: number;
  /** The partition this instance takes as soon as it is free. */
  preferred: boolean;
}

export type LeaseAction =
  | { kind: 'none' }
  /** Write the record naming us, expecting `revision` (0: create). */
  | { kind: 'acquire'; revision: number; why: 'free' | 'expired' | 'renew' };

export const emptyLease = (): LeaseState => ({ seen: undefined, held: undefined });

/** How often a holder renews, and how often an instance looks at every lease. */
export const renewEveryMs = (ttlMs: number): number => ttlMs / 3;
export const tickEveryMs = (ttlMs: number): number => ttlMs / 6;
/** How long after a renewal started the holder may still publish. */
export const validForMs = (ttlMs: number): number => (2 * ttlMs) / 3;

/** A fresh reading of the record. A revision we did not write means we no longer hold it. */
export function observe(state: LeaseState, record: LeaseRecord, now: number): LeaseState {
  const seen = state.seen !== undefined && state.seen.revision === record.revision ? state.seen : { ...record, since: now };
  const held = state.held !== undefined && state.held.revision === record.revision ? state.held : undefined;
  return { seen, held };
}

/** What to write now, given the last reading. */
export function decide(state: LeaseState, now: number, policy: LeasePolicy): LeaseAction {
  const { held, seen } = state;
  if (held !== undefined) {
    return now - held.renewedAt >= renewEveryMs(policy.ttlMs) ? { kind: 'acquire', revision: held.revision, why: 'renew' } : { kind: 'none' };
  }
  if (seen === undefined) return { kind: 'none' };
  const unchangedFor = now - seen.since;
  if (seen.holder === undefined) {
    return policy.preferred || unchangedFor >= policy.ttlMs ? { kind: 'acquire', revision: seen.revision, why: 'free' } : { kind: 'none' };
  }
  return unchangedFor >= policy.ttlMs ? { kind: 'acquire', revision: seen.revision, why: 'expired' } : { kind: 'none' };
}

/** Our write that started at `startedAt` was accepted as `revision`. */
export function acquired(_state: LeaseState, revision: number, startedAt: number, self: string): LeaseState {
  return { held: { revision, renewedAt: startedAt }, seen: { revision, holder: self, since: startedAt } };
}

/** Our write was refused (the record moved on): we hold nothing; the next reading says who does. */
export function refused(state: LeaseState): LeaseState {
  return { seen: state.seen, held: undefined };
}

/** Whether this instance may publish the partition now. */
export function holds(state: LeaseState, now: number, ttlMs: number): boolean {
  return state.held !== undefined && now - state.held.renewedAt < validForMs(ttlMs);
}
