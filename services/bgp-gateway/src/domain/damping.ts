/**
 * Route flap damping (RFC 2439), as pure functions of a small record and a
 * time. The gateway damps what it records about appliance routes: every
 * recorded change charges the route's penalty, the penalty halves every
 * `halfLifeMs`, and a route whose penalty reaches `suppress` is suppressed
 * (not advertised, no further change recorded) until its penalty has decayed
 * to `reuse`. The penalty never exceeds the ceiling from which it decays to
 * `reuse` in `maxSuppressMs`, so no route is suppressed longer than that
 * after its last flap.
 *
 * The damping record lives on the route's record in the state and is
 * advanced by evolve from the recorded events and their times: every gateway
 * instance (and a replay) computes the same penalty, so both instances of a
 * pair suppress a route at the same point of the log, and the log itself can
 * never hold more than a handful of changes per route per suppression period,
 * whatever causes them (a flapping appliance, or two gateways that hear
 * different things).
 */

export interface DampingParams {
  /** Penalty of a withdrawal (the route was learned and is gone). */
  withdrawal: number;
  /** Penalty of a change of a learned route's attributes (next hop, AS path). */
  attributeChange: number;
  /** Suppress a route once its penalty reaches this. */
  suppress: number;
  /** A suppressed route is reused once its penalty has decayed to this. */
  reuse: number;
  halfLifeMs: number;
  /** Longest suppression after the last flap (bounds the penalty). */
  maxSuppressMs: number;
}

/** RFC 2439's and the common router defaults (Cisco, Juniper, FRR). */
export const DEFAULT_DAMPING: DampingParams = {
  withdrawal: 1000,
  attributeChange: 500,
  suppress: 2000,
  reuse: 750,
  halfLifeMs: 15 * 60_000,
  maxSuppressMs: 60 * 60_000,
};

export interface Damping {
  /** Penalty at `at`. */
  penalty: number;
  /** ms since epoch of the last charge. */
  at: number;
  /** Suppressed until this time (ms since epoch); 0: not suppressed. */
  suppressedUntil: number;
}

export const UNDAMPED: Damping = { penalty: 0, at: 0, suppressedUntil: 0 };

/** The penalty's ceiling: decays to `reuse` in exactly `maxSuppressMs`. */
export const ceiling = (p: DampingParams): number => p.reuse * 2 ** (p.maxSuppressMs / p.halfLifeMs);

/** The penalty of `d` at time `now` (exponential decay; never increases without a charge). */
export function penaltyAt(d: Damping, now: number, p: DampingParams = DEFAULT_DAMPING): number {
  if (d.penalty === 0) return 0;
  const dt = Math.max(0, now - d.at);
  return d.penalty * 2 ** (-dt / p.halfLifeMs);
}

export const isSuppressed = (d: Damping, now: number): boolean => now < d.suppressedUntil;

/**
 * Charge `amount` at `now`. A route already suppressed stays so until its
 * (new) penalty decays to `reuse`; one that is not becomes suppressed when
 * the penalty reaches `suppress`.
 */
export function charge(d: Damping, amount: number, now: number, p: DampingParams = DEFAULT_DAMPING): Damping {
  const penalty = Math.min(ceiling(p), penaltyAt(d, now, p) + amount);
  const suppressed = isSuppressed(d, now) || penalty >= p.suppress;
  if (!suppressed) return { penalty, at: now, suppressedUntil: 0 };
  // Time for the penalty to decay to `reuse`: halfLife · log2(penalty / reuse), at most maxSuppressMs (the ceiling).
  const decayMs = Math.max(0, p.halfLifeMs * Math.log2(penalty / p.reuse));
  return { penalty, at: now, suppressedUntil: now + Math.ceil(decayMs) };
}

/** The penalty a change from `before` to `after` costs (null: withdrawn). */
export function flapCost(before: 'learned' | null, after: 'learned' | null, attributesChanged: boolean, p: DampingParams = DEFAULT_DAMPING): number {
  if (before === 'learned' && after === null) return p.withdrawal;
  if (before === 'learned' && after === 'learned' && attributesChanged) return p.attributeChange;
  return 0; // first learn, or learned again after a withdrawal (charged at the withdrawal)
}

/** Has the damping decayed enough by `now` that its history may be erased (below half the reuse threshold, as routers do)? */
export const forgotten = (d: Damping, now: number, p: DampingParams = DEFAULT_DAMPING): boolean => !isSuppressed(d, now) && penaltyAt(d, now, p) < p.reuse / 2;
