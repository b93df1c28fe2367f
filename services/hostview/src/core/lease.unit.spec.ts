import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquired, decide, emptyLease, holds, observe, refused, tickEveryMs, type LeaseRecord, type LeaseState } from './lease.js';

const TTL = 6_000;
const policy = (self: string, preferred = false) => ({ self, ttlMs: TTL, preferred });
const free: LeaseRecord = { revision: 0, holder: undefined };

describe('partition lease: one instance', () => {
  it('takes its preferred partition as soon as it is free, another one only after watching it free for a ttl', () => {
    const s = observe(emptyLease(), free, 0);
    expect(decide(s, 0, policy('a', true))).toEqual({ kind: 'acquire', revision: 0, why: 'free' });
    expect(decide(s, TTL - 1, policy('a'))).toEqual({ kind: 'none' });
    expect(decide(s, TTL, policy('a'))).toEqual({ kind: 'acquire', revision: 0, why: 'free' });
  });

  it('renews every third of the ttl and publishes only within two thirds of it after the last renewal started', () => {
    const s = acquired(observe(emptyLease(), free, 0), 7, 100, 'a');
    expect(holds(s, 100, TTL)).toBe(true);
    expect(decide(s, 100 + TTL / 3 - 1, policy('a'))).toEqual({ kind: 'none' });
    expect(decide(s, 100 + TTL / 3, policy('a'))).toEqual({ kind: 'acquire', revision: 7, why: 'renew' });
    expect(holds(s, 100 + (2 * TTL) / 3 - 1, TTL)).toBe(true);
    expect(holds(s, 100 + (2 * TTL) / 3, TTL)).toBe(false);
  });

  it("takes another's lease only once its record has not changed for a whole ttl, expecting the revision it read", () => {
    let s = observe(emptyLease(), { revision: 3, holder: 'b' }, 0);
    expect(decide(s, TTL - 1, policy('a', true))).toEqual({ kind: 'none' });
    s = observe(s, { revision: 4, holder: 'b' }, 2_000); // renewed: the clock starts again
    expect(decide(s, TTL + 1_000, policy('a', true))).toEqual({ kind: 'none' });
    expect(decide(s, TTL + 2_000, policy('a', true))).toEqual({ kind: 'acquire', revision: 4, why: 'expired' });
  });

  it('a record it did not write ends its hold; a refused write leaves it holding nothing', () => {
    const s = acquired(emptyLease(), 5, 0, 'a');
    expect(observe(s, { revision: 5, holder: 'a' }, 10).held).toBeDefined();
    expect(observe(s, { revision: 6, holder: 'b' }, 10).held).toBeUndefined();
    expect(holds(refused(s), 10, TTL)).toBe(false);
  });

  it('takes a released (deleted) lease expecting the tombstone revision', () => {
    const s = observe(emptyLease(), { revision: 9, holder: undefined }, 0);
    expect(decide(s, 0, policy('a', true))).toEqual({ kind: 'acquire', revision: 9, why: 'free' });
  });
});

/**
 * Instances ticking on their own (each at most a tick plus jitter apart),
 * some crashing, some writes lost, against one revision-checked record: the
 * intervals in which instances publish never overlap, and after the last
 * crash a surviving instance publishes within a bounded time.
 */
describe('partition lease: instances racing (property)', () => {
  interface Sim {
    self: string;
    state: LeaseState;
    crashAt: number;
    publishing: number | undefined;
  }

  it('never lets two instances publish at once, and a survivor takes over', () => {
    const instance = fc.record({ crashAt: fc.option(fc.integer({ min: 0, max: 10 * TTL }), { nil: undefined }), preferred: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(instance, { minLength: 2, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: TTL / 12 }), { minLength: 1, maxLength: 64 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        (specs, jitters, losses) => {
          // At least one instance never crashes.
          const sims: Sim[] = specs.map((s, i) => ({ self: `i${i}`, state: emptyLease(), crashAt: i === 0 ? Infinity : (s.crashAt ?? Infinity), publishing: undefined }));
          let record: LeaseRecord = free;
          let revision = 0;
          const intervals: Array<{ who: string; from: number; to: number }> = [];
          const next = sims.map((_, i) => (jitters[i % jitters.length] ?? 0));
          let step = 0;
          const end = 16 * TTL;
          for (;;) {
            const i = next.indexOf(Math.min(...next));
            const now = next[i]!;
            if (now > end) break;
            const sim = sims[i]!;
            step += 1;
            if (now >= sim.crashAt) {
              if (sim.publishing !== undefined) intervals.push({ who: sim.self, from: sim.publishing, to: sim.crashAt });
              sim.publishing = undefined;
              next[i] = Infinity;
              continue;
            }
            sim.state = observe(sim.state, record, now);
            const action = decide(sim.state, now, { self: sim.self, ttlMs: TTL, preferred: specs[i]!.preferred });
            if (action.kind === 'acquire') {
              // Writes are lost (no answer: the instance does not know the outcome) only in the first half of the run.
              const lost = now < end / 2 && losses[step % losses.length]!;
              if (!lost && record.revision === action.revision) {
                revision += 1;
                record = { revision, holder: sim.self };
                sim.state = acquired(sim.state, revision, now, sim.self);
              } else if (!lost) {
                sim.state = refused(sim.state);
              }
            }
            const may = holds(sim.state, now, TTL);
            if (may && sim.publishing === undefined) sim.publishing = now;
            if (!may && sim.publishing !== undefined) {
              intervals.push({ who: sim.self, from: sim.publishing, to: now });
              sim.publishing = undefined;
            }
            next[i] = now + tickEveryMs(TTL) + (jitters[step % jitters.length] ?? 0);
          }
          for (const s of sims) if (s.publishing !== undefined) intervals.push({ who: s.self, from: s.publishing, to: end });
          intervals.sort((a, b) => a.from - b.from);
          for (let k = 1; k < intervals.length; k++) {
            const [a, b] = [intervals[k - 1]!, intervals[k]!];
            if (a.who !== b.who) expect(b.from, `${b.who} from ${b.from} while ${a.who} until ${a.to}`).toBeGreaterThanOrEqual(a.to);
          }
          // Liveness: after the last crash and the last lost write, a survivor publishes within a bounded time (here, by the end).
          const lastCrash = Math.max(0, ...sims.map((s) => (Number.isFinite(s.crashAt) ? s.crashAt : 0)));
          if (lastCrash < end - 4 * TTL) expect(intervals.some((v) => v.to === end)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
