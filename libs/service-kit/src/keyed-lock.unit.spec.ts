import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

/** A promise and its resolver, to finish work exactly when the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('KeyedLock', () => {
  it('runs work for one key in the order it was queued, one at a time', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      lock.run('k', async () => {
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await tick();
    expect(log).toEqual(['start 0']);
    // Finishing later work first changes nothing: it has not started.
    gates[2]!.open();
    gates[1]!.open();
    await tick();
    expect(log).toEqual(['start 0']);
    gates[0]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('runs work for different keys concurrently', async () => {
    const lock = new KeyedLock();
    const a = gate();
    const log: string[] = [];
    const first = lock.run('a', async () => {
      log.push('a');
      await a.promise;
    });
    await lock.run('b', async () => {
      log.push('b');
    });
    expect(log).toEqual(['a', 'b']);
    a.open();
    await first;
  });

  it('frees the lane when work fails, and passes the failure to its caller', async () => {
    const lock = new KeyedLock();
    const failed = lock.run('k', async () => {
      throw new Error('boom');
    });
    const next = lock.run('k', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('forgets a key once its lane is empty', async () => {
    const lock = new KeyedLock();
    await lock.run('k', async () => undefined);
    expect((lock as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
