import { describe, expect, it } from 'vitest';
import { ENGINE_WAKE_INTERVAL_MS, nextPassStart, REST_FACTOR } from './pacing.js';

describe('nextPassStart', () => {
  it('starts the first pass at once', () => {
    expect(nextPassStart(undefined, false)).toBe(-Infinity);
    expect(nextPassStart(undefined, true)).toBe(-Infinity);
  });

  it("paces gobgpd's wake-ups to one pass per interval from the last start", () => {
    expect(nextPassStart({ startedAt: 1000, endedAt: 1005 }, false)).toBe(1000 + ENGINE_WAKE_INTERVAL_MS);
  });

  it('starts a pass for a state change after a rest proportional to the last pass', () => {
    expect(nextPassStart({ startedAt: 1000, endedAt: 1010 }, true)).toBe(1010 + REST_FACTOR * 10);
  });

  it('never makes a state change wait longer than a wake-up from gobgpd would', () => {
    expect(nextPassStart({ startedAt: 1000, endedAt: 1080 }, true)).toBe(1000 + ENGINE_WAKE_INTERVAL_MS);
    // A pass longer than the interval: the next one may start right away.
    expect(nextPassStart({ startedAt: 1000, endedAt: 1700 }, true)).toBeLessThan(1700);
  });
});
