import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { BgpEvent } from '@strata/contracts';
import { ceiling, charge, DEFAULT_DAMPING as P, isSuppressed, penaltyAt, UNDAMPED, type Damping } from './damping.js';
import { recordRoute } from './decide/routes.js';
import { evolve } from './evolve.js';
import { given, T0 } from './test/given.js';

const T = Date.parse(T0);
/** Increasing event times: gaps of 0 to 2 half-lives. */
const times = (n: number) => fc.array(fc.integer({ min: 0, max: 2 * P.halfLifeMs }), { minLength: 1, maxLength: n }).map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? T) + g], []));

/** Feed withdrawals at these times, charging only while not suppressed (what the recorder does). Returns the times charged. */
function recordWithdrawals(at: number[]): { charged: number[]; d: Damping } {
  let d = UNDAMPED;
  const charged: number[] = [];
  for (const t of at) {
    if (isSuppressed(d, t)) continue;
    d = charge(d, P.withdrawal, t);
    charged.push(t);
  }
  return { charged, d };
}

const PEER = '198.19.1.10';
const LEARNED = { nextHop: PEER, asPath: [65100], deviceId: 'fw-1' };

/** A log of one state: decide a route's record (as the recorder does) and, if an event is due, apply it (as the projection does). */
class Log {
  readonly g = given();
  private seq = 0;
  events = 0;

  record(prefix: string, target: typeof LEARNED | null, now: number, storedVersion = 0): ReturnType<typeof recordRoute> {
    const d = recordRoute(this.g.state, PEER, prefix, target, now, storedVersion);
    if (d.kind !== 'append') return d;
    this.events++;
    evolve(this.g.state, { ...d.event, seq: ++this.seq, occurredAt: new Date(now).toISOString(), aggregate: d.aggregate, tenant: '_system' } as unknown as BgpEvent);
    return d;
  }
}

describe('route flap damping (RFC 2439)', () => {
  it('the penalty decays: it halves every half-life and never grows without a charge', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 0, max: 10 * P.halfLifeMs }), fc.integer({ min: 0, max: P.halfLifeMs }), (penalty, dt, more) => {
        const d = { penalty, at: T, suppressedUntil: 0 };
        expect(penaltyAt(d, T + dt + more)).toBeLessThanOrEqual(penaltyAt(d, T + dt));
        expect(penaltyAt(d, T + P.halfLifeMs)).toBeCloseTo(penalty / 2, 6);
      }),
    );
  });

  it('the penalty never exceeds the ceiling, and no route stays suppressed longer than maxSuppress after its last charge', () => {
    fc.assert(
      fc.property(times(60), (at) => {
        let d = UNDAMPED;
        for (const t of at) {
          d = charge(d, P.withdrawal, t);
          expect(d.penalty).toBeLessThanOrEqual(ceiling(P) + 1e-6);
          expect(d.suppressedUntil - d.at).toBeLessThanOrEqual(P.maxSuppressMs);
        }
        expect(isSuppressed(d, d.at + P.maxSuppressMs)).toBe(false);
      }),
    );
  });

  it('flaps recorded within a quarter half-life: at most 3 (the third reaches the suppress threshold)', () => {
    fc.assert(
      fc.property(times(200), (at) => {
        const { charged } = recordWithdrawals(at);
        for (let i = 0; i < charged.length; i++) {
          const inWindow = charged.filter((t) => t >= charged[i]! && t < charged[i]! + P.halfLifeMs / 4);
          expect(inWindow.length).toBeLessThanOrEqual(3);
        }
      }),
    );
  });

  it('a route flapping without pause: 3 changes, then 2 each time it becomes reusable (about every 28 min): 7 an hour', () => {
    const at = Array.from({ length: 3600 }, (_, i) => T + i * 1000); // one withdrawal a second
    expect(recordWithdrawals(at).charged.length).toBe(7);
  });

  it('once flapping stops, the route is reusable when the penalty has decayed to the reuse threshold', () => {
    fc.assert(
      fc.property(times(30), (at) => {
        const { d } = recordWithdrawals(at);
        if (!isSuppressed(d, d.at)) return;
        expect(penaltyAt(d, d.suppressedUntil)).toBeLessThanOrEqual(P.reuse + 1e-6);
        expect(penaltyAt(d, d.suppressedUntil - 1000)).toBeGreaterThan(P.reuse - 1);
      }),
    );
  });

  it('two instances that hear different things (one: announced, the other: withdrawn) cannot overwrite each other forever', () => {
    const log = new Log();
    // For an hour each instance decides against the shared log once a second, taking turns.
    for (let i = 0; i < 3600; i++) log.record('198.51.100.129/32', i % 2 === 0 ? LEARNED : null, T + i * 1000);
    // Learned and withdrawn in turn until suppressed (3 withdrawals), then 2 of each per reuse: 7 withdrawals and 7 learns an hour.
    expect(log.events).toBe(14);
  });

  it('a withdrawn route leaves the state once its damping history may be erased; recorded again, it is decided against the store\'s version', () => {
    const log = new Log();
    log.record('198.51.100.129/32', LEARNED, T);
    log.record('198.51.100.129/32', null, T + 1000);
    expect(Object.keys(log.g.state.routes)).toHaveLength(1);
    // Another route's change an hour later sweeps the forgotten one (penalty 1000 is below reuse/2 after ~21 min).
    log.record('198.51.100.130/32', LEARNED, T + 60 * 60_000);
    expect(Object.values(log.g.state.routes).map((r) => r.prefix)).toEqual(['198.51.100.130/32']);
    expect(log.record('198.51.100.129/32', LEARNED, T + 61 * 60_000, 2)).toMatchObject({ expectedVersion: 2 });
    expect(Object.values(log.g.state.routes).find((r) => r.prefix === '198.51.100.129/32')?.damping.penalty).toBe(0);
  });

  it('decide + evolve: 2,000 announce/withdraw cycles in 60 s leave a handful of events in the log', () => {
    const log = new Log();
    // An observation every 15 ms: announced on even steps, withdrawn on odd ones.
    for (let i = 0; i < 4000; i++) log.record('198.51.100.129/32', i % 2 === 0 ? LEARNED : null, T + i * 15);
    expect(log.events).toBeLessThanOrEqual(6);
    expect(isSuppressed(Object.values(log.g.state.routes)[0]!.damping, T + 60_000)).toBe(true);
  });
});
