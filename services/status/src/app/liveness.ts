/**
 * The liveness clock: every tick (and on every message heard) each
 * registered host is decided (domain/liveness.ts) against this instance's
 * observations and the service's own clock, and a decision is appended with
 * optimistic concurrency on `status.hypervisor.<host>`: of several instances
 * only one writes it (the others conflict, apply it, and decide nothing).
 */
import type { Logger } from '@strata/runtime';
import { decideLiveness, livenessEventId } from '../domain/liveness.js';
import type { Observations } from './observations.js';
import type { StatusExecutor, StatusProjection } from './projection.js';

export interface LivenessOptions {
  executor: StatusExecutor;
  projection: StatusProjection;
  observations: Pick<Observations, 'get'>;
  logger: Logger;
  timeoutMs: number;
  tickMs: number;
  now: () => number;
}

export class LivenessMonitor {
  /** When this instance started watching each host (its start, or when it first saw the host registered). */
  private readonly watchedSince = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: LivenessOptions) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
  }

  /** Decide every registered host now. */
  tick(): void {
    for (const hostId of Object.keys(this.o.projection.state.hypervisors)) this.check(hostId);
  }

  /** Decide one host now (a message was heard from it). */
  check(hostId: string): void {
    if (this.stopped || this.inFlight.has(hostId) || !(hostId in this.o.projection.state.hypervisors)) return;
    const now = this.o.now();
    if (!this.watchedSince.has(hostId)) this.watchedSince.set(hostId, now);
    this.inFlight.add(hostId);
    const done = this.decide(hostId)
      .catch((err: unknown) => this.o.logger.warn({ err, hostId }, 'liveness decision not appended (decided again at the next tick)'))
      .finally(() => {
        this.inFlight.delete(hostId);
        this.pending.delete(done);
      });
    this.pending.add(done);
  }

  private async decide(hostId: string): Promise<void> {
    const now = this.o.now();
    const at = new Date(now).toISOString();
    const heard = this.o.observations.get(hostId)?.heard;
    const input = { hostId, heard, watchedSince: this.watchedSince.get(hostId)!, now, timeoutMs: this.o.timeoutMs };
    const caller = { actor: 'status', tenant: '_system', admin: true, requestId: `liveness:${hostId}:${now}`, at };
    const r = await this.o.executor.execute((s) => decideLiveness(s, input), { caller, correlationId: caller.requestId, causationId: null, eventId: livenessEventId });
    if (r.written) {
      const record = this.o.projection.state.liveness[hostId];
      this.o.logger.info({ hostId, alive: record?.alive, bootId: record?.bootId, seq: r.seq }, record?.alive ? 'hypervisor agent up' : 'hypervisor agent down');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.pending);
  }
}
