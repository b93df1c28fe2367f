import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('the control loop backoff', () => {
  it('one outage: the first failure starts it (one warning), later ones only grow the delay up to the cap; a success ends it once', () => {
    let now = 1_000;
    const b = new Backoff({ initialMs: 200, maxMs: 5_000, now: () => now });
    const failures = Array.from({ length: 8 }, () => {
      const f = b.failed();
      now += f.delayMs;
      return f;
    });
    expect(failures.map((f) => f.outageStarted)).toEqual([true, false, false, false, false, false, false, false]);
    expect(failures.map((f) => f.delayMs)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(b.inOutage).toBe(true);
    expect(b.succeeded()).toEqual({ outageMs: 21_200, failures: 8 });
    expect(b.succeeded()).toBeUndefined();
    expect(b.failed()).toEqual({ outageStarted: true, delayMs: 200, failures: 1 });
  });
});
