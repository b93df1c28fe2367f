/**
 * What a remembered validation is worth now: the validator's whole caching
 * rule as one pure function of the entry and the clock.
 */
import type { StrataError } from '@strata/errors';
import type { Identity } from './identity.js';
import type { TokenFacts } from './revocation.js';

export type CacheEntry =
  /** Keystone accepted the token at `checkedAt` (ms). */
  | { kind: 'valid'; identity: Identity; facts: TokenFacts; checkedAt: number }
  /** Refused (unknown, revoked, unscoped, no role) until `until` (ms). */
  | { kind: 'refused'; error: StrataError; until: number };

export interface CachePolicy {
  /** A validation is trusted this long at most (ms), however long the token lives. */
  maxAgeMs: number;
  /** Whether the revocation events are current (the last poll succeeded recently): without them no acceptance is trusted. */
  revocationsCurrent: boolean;
}

export type Verdict =
  | { use: 'identity'; identity: Identity }
  | { use: 'refusal'; error: StrataError }
  | { use: 'expired'; expiresAt: number }
  /** Nothing usable remembered: ask Keystone. */
  | { use: 'keystone' };

export function cachedVerdict(entry: CacheEntry | undefined, now: number, policy: CachePolicy): Verdict {
  if (entry === undefined) return { use: 'keystone' };
  if (entry.kind === 'refused') return now < entry.until ? { use: 'refusal', error: entry.error } : { use: 'keystone' };
  // An expired token is refused whatever else holds: Keystone would refuse it too.
  if (now >= entry.identity.expiresAt) return { use: 'expired', expiresAt: entry.identity.expiresAt };
  if (!policy.revocationsCurrent) return { use: 'keystone' };
  if (now - entry.checkedAt >= policy.maxAgeMs) return { use: 'keystone' };
  return { use: 'identity', identity: entry.identity };
}
