import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countProbe, initialHealth, type HealthState } from './health-core.js';

const check = { rise: 2, fall: 3 };
const run = (s: HealthState, results: boolean[], c = check): { state: HealthState; changes: number } => {
  let changes = 0;
  for (const ok of results) {
    const r = countProbe(s, ok, c);
    s = r.state;
    if (r.changed) changes++;
  }
  return { state: s, changes };
};

describe('health: rise/fall counting', () => {
  it('a healthy function goes out after `fall` consecutive failures, not before', () => {
    expect(run(initialHealth(true), [false, false]).state.healthy).toBe(true);
    const r = run(initialHealth(true), [false, false, false]);
    expect(r).toMatchObject({ state: { healthy: false }, changes: 1 });
  });

  it('an unhealthy one comes back after `rise` consecutive successes', () => {
    expect(run(initialHealth(false), [true]).state.healthy).toBe(false);
    expect(run(initialHealth(false), [true, true])).toMatchObject({ state: { healthy: true }, changes: 1 });
  });

  it('a success between failures starts the count again (and a failure between successes)', () => {
    expect(run(initialHealth(true), [false, false, true, false, false]).state.healthy).toBe(true);
    expect(run(initialHealth(false), [true, false, true]).state.healthy).toBe(false);
  });

  it('(property) the state changes exactly when the last `fall`/`rise` results agree against it, and flapping never changes it', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.boolean(), { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (start, results, rise, fall) => {
        // Reference: walk the results, switching when a run against the state reaches its length.
        let healthy = start;
        let run_ = 0;
        let changes = 0;
        for (const ok of results) {
          run_ = ok === healthy ? 0 : run_ + 1;
          if (run_ >= (healthy ? fall : rise)) {
            healthy = !healthy;
            run_ = 0;
            changes++;
          }
        }
        const r = run(initialHealth(start), results, { rise, fall });
        expect(r.state.healthy).toBe(healthy);
        expect(r.changes).toBe(changes);
        expect(r.state.probes).toBe(results.length);
        const flapping = results.map((_, i) => i % 2 === 0);
        if (rise > 1 && fall > 1) expect(run(initialHealth(start), flapping, { rise, fall }).changes).toBe(0);
      }),
    );
  });
});
