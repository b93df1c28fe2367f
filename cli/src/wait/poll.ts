/**
 * Waiting for realisation by polling, with backoff. Polling rather than
 * WatchStatus: every answer is a whole, current status (nothing to miss or
 * reorder), it works the same through any API instance behind a load
 * balancer and across an API restart, and a wait of a few seconds costs a
 * handful of requests. The clock is injected so the loop is tested without
 * waiting.
 */

export interface Clock {
  now(): number;
  /** Resolves after ms, or at once when the signal is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** One look at the status: is it there yet, and the line that says where it stands. */
export interface Check {
  done: boolean;
  line: string;
}

export interface PollOptions {
  clock: Clock;
  /** Clock time by which it must be done. */
  deadline: number;
  /** Told the line of every check that is not done (progress). */
  onCheck(line: string): void;
  /** An error to wait through (the API or status service briefly unavailable): its line, or undefined to give up with it. */
  transient(err: unknown): string | undefined;
  signal?: AbortSignal | undefined;
  /** First pause between checks, doubled after each up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export type PollOutcome = 'done' | 'timeout' | 'interrupted';

export interface PollResult {
  outcome: PollOutcome;
  /** The last check's line. */
  line: string;
}

export const INITIAL_DELAY_MS = 100;
export const MAX_DELAY_MS = 2_000;

/** Checks until done, the deadline passes (one last check at it) or the signal aborts. */
export async function pollUntil(check: () => Promise<Check>, opts: PollOptions): Promise<PollResult> {
  let delay = opts.initialDelayMs ?? INITIAL_DELAY_MS;
  const maxDelay = opts.maxDelayMs ?? MAX_DELAY_MS;
  for (;;) {
    let line: string;
    try {
      const c = await check();
      // The done line is the caller's to print (as the result), not progress.
      if (c.done) return { outcome: 'done', line: c.line };
      line = c.line;
    } catch (err) {
      const why = opts.transient(err);
      if (why === undefined) throw err;
      line = why;
    }
    opts.onCheck(line);
    if (opts.signal?.aborted) return { outcome: 'interrupted', line };
    const left = opts.deadline - opts.clock.now();
    if (left <= 0) return { outcome: 'timeout', line };
    await opts.clock.sleep(Math.min(delay, left), opts.signal);
    if (opts.signal?.aborted) return { outcome: 'interrupted', line };
    delay = Math.min(delay * 2, maxDelay);
  }
}
