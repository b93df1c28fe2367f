/**
 * The control loop's backoff after failed passes, with one warning per
 * outage. While the engine (or NATS) is down, every pass fails; without this
 * each incoming event would start another pass and log another warning.
 * The loop sleeps `delay` after a failure without being woken by events
 * (only stopping the gateway ends the wait), and reports the outage once
 * when it starts and once when a pass succeeds again.
 *
 * Pure bookkeeping over an injected clock, so it is unit-tested without
 * timers.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  now: () => number;
}

export interface Failure {
  /** The first failure of an outage: log a warning (later ones are counted, not logged). */
  outageStarted: boolean;
  /** Sleep this long before the next pass, whatever arrives meanwhile. */
  delayMs: number;
  /** Failed passes in this outage so far. */
  failures: number;
}

export interface Recovery {
  /** ms the outage lasted. */
  outageMs: number;
  failures: number;
}

export class Backoff {
  private delay: number;
  private outage: { since: number; failures: number } | undefined;

  constructor(private readonly o: BackoffOptions) {
    this.delay = o.initialMs;
  }

  get inOutage(): boolean {
    return this.outage !== undefined;
  }

  failed(): Failure {
    const started = this.outage === undefined;
    if (!this.outage) this.outage = { since: this.o.now(), failures: 0 };
    this.outage.failures++;
    const delayMs = this.delay;
    this.delay = Math.min(this.delay * 2, this.o.maxMs);
    return { outageStarted: started, delayMs, failures: this.outage.failures };
  }

  /** A pass succeeded: the outage (if any) is over. */
  succeeded(): Recovery | undefined {
    this.delay = this.o.initialMs;
    const o = this.outage;
    this.outage = undefined;
    return o ? { outageMs: this.o.now() - o.since, failures: o.failures } : undefined;
  }
}
