import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import { SeqWaiters } from './seq-waiters.js';

describe('SeqWaiters', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves at once for a sequence already reached', async () => {
    const w = new SeqWaiters();
    w.advance(5);
    await expect(w.waitFor(5, 100)).resolves.toBeUndefined();
    await expect(w.waitFor(3, 100)).resolves.toBeUndefined();
  });

  it('resolves a waiter when the sequence reaches or passes its value, and not before', async () => {
    const w = new SeqWaiters();
    let at7 = false;
    let at9 = false;
    const p7 = w.waitFor(7, 1000).then(() => (at7 = true));
    const p9 = w.waitFor(9, 1000).then(() => (at9 = true));
    w.advance(6);
    await vi.advanceTimersByTimeAsync(0);
    expect([at7, at9]).toEqual([false, false]);
    w.advance(8);
    await p7;
    expect([at7, at9]).toEqual([true, false]);
    w.advance(20);
    await p9;
    expect(at9).toBe(true);
  });

  it('ignores a sequence that goes backwards', async () => {
    const w = new SeqWaiters();
    w.advance(10);
    w.advance(4);
    await expect(w.waitFor(10, 100)).resolves.toBeUndefined();
  });

  it('rejects with UNAVAILABLE after the timeout, and a later advance does not resolve it', async () => {
    const w = new SeqWaiters();
    const p = w.waitFor(3, 250);
    const settled = expect(p).rejects.toSatisfy((e: unknown) => e instanceof StrataError && e.code === ErrorCode.Unavailable && /sequence 3 \(at 1\) after 250 ms/.test(e.message));
    await vi.advanceTimersByTimeAsync(249);
    w.advance(1);
    await vi.advanceTimersByTimeAsync(1);
    await settled;
    w.advance(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fail rejects every waiter and every later wait for a sequence not reached', async () => {
    const w = new SeqWaiters();
    w.advance(2);
    const a = w.waitFor(3, 1000);
    const b = w.waitFor(4, 1000);
    const err = new Error('projection stopped');
    w.fail(err);
    await expect(a).rejects.toBe(err);
    await expect(b).rejects.toBe(err);
    await expect(w.waitFor(5, 1000)).rejects.toBe(err);
    // Failed is failed: even a sequence already reached is no longer vouched for.
    await expect(w.waitFor(1, 1000)).rejects.toBe(err);
    expect(vi.getTimerCount()).toBe(0);
  });
});
