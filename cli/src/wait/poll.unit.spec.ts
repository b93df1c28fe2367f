import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { pollUntil, type Check, type Clock } from './poll.js';

/** A clock that only moves when the loop sleeps, recording each pause. */
function fakeClock(start = 1_000): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** Answers the given checks in turn (the last one forever). */
function checks(...answers: Array<Check | Error>): () => Promise<Check> {
  let i = 0;
  return () => {
    const a = answers[Math.min(i++, answers.length - 1)]!;
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
}

const unavailable = Object.assign(new Error('down'), { code: status.UNAVAILABLE, details: 'down' });
const transient = (err: unknown) => (err === unavailable ? 'status not available: retrying' : undefined);

describe('pollUntil', () => {
  it('returns at the first check that is done, without sleeping', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const r = await pollUntil(checks({ done: true, line: 'ACTIVE' }), { clock, deadline: 61_000, onCheck: (l) => lines.push(l), transient });
    expect(r).toEqual({ outcome: 'done', line: 'ACTIVE' });
    expect(clock.sleeps).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('backs off from 100 ms, doubling up to 2 s, and reports every check that is not done', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const answers = [...Array.from({ length: 7 }, (_, i) => ({ done: false, line: `applied on ${i} of 9` })), { done: true, line: 'applied on 9 of 9' }];
    const r = await pollUntil(checks(...answers), { clock, deadline: 61_000, onCheck: (l) => lines.push(l), transient });
    expect(r.outcome).toBe('done');
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(lines).toEqual(answers.slice(0, 7).map((a) => a.line));
  });

  it('times out with the last line, after one last check at the deadline and never sleeping past it', async () => {
    const clock = fakeClock(0);
    const r = await pollUntil(checks({ done: false, line: 'behind: h3 (agent applied 120 of 131)' }), { clock, deadline: 1_000, onCheck: () => undefined, transient });
    expect(r).toEqual({ outcome: 'timeout', line: 'behind: h3 (agent applied 120 of 131)' });
    expect(clock.sleeps).toEqual([100, 200, 400, 300]);
    expect(clock.now()).toBe(1_000);
  });

  it('waits through transient errors, saying so, and gives up on any other', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const r = await pollUntil(checks(unavailable, { done: true, line: 'ok' }), { clock, deadline: 61_000, onCheck: (l) => lines.push(l), transient });
    expect(r.outcome).toBe('done');
    expect(lines).toEqual(['status not available: retrying']);
    const denied = Object.assign(new Error('admin only'), { code: status.PERMISSION_DENIED, details: 'admin only' });
    await expect(pollUntil(checks(denied), { clock, deadline: 61_000, onCheck: () => undefined, transient })).rejects.toBe(denied);
  });

  it('stops when interrupted', async () => {
    const clock = fakeClock();
    const interrupt = new AbortController();
    const check = (): Promise<Check> => {
      interrupt.abort();
      return Promise.resolve({ done: false, line: 'BUILD' });
    };
    const r = await pollUntil(check, { clock, deadline: 61_000, onCheck: () => undefined, transient, signal: interrupt.signal });
    expect(r).toEqual({ outcome: 'interrupted', line: 'BUILD' });
  });
});
