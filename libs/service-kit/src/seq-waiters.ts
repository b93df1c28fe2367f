import { StrataError, ErrorCode } from '@strata/errors';

/** Promises that resolve when a monotonically increasing sequence reaches a value. */
export class SeqWaiters {
  private seq = 0;
  private waiting: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private failed: Error | undefined;

  advance(seq: number): void {
    if (seq <= this.seq) return;
    this.seq = seq;
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      if (w.seq <= seq) {
        clearTimeout(w.timer);
        w.resolve();
      } else still.push(w);
    }
    this.waiting = still;
  }

  fail(err: Error): void {
    this.failed = err;
    for (const w of this.waiting) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiting = [];
  }

  waitFor(seq: number, timeoutMs: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (seq <= this.seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w.timer !== timer);
        // `notReached` lets the api tell a client its read-your-writes position was not reached in time (api errors.ts).
        reject(new StrataError(ErrorCode.Unavailable, `state not yet at sequence ${seq} (at ${this.seq}) after ${timeoutMs} ms`, { notReached: seq, at: this.seq }));
      }, timeoutMs);
      this.waiting.push({ seq, resolve, reject, timer });
    });
  }
}
