/**
 * Writes what established appliance sessions announce to the log: accepted
 * routes as RouteLearned / RouteWithdrawn (domain/decide/routes.ts decides,
 * damping included), refused ones only to this instance's bookkeeping and
 * log (app/rejections.ts). Routes of peers that are no longer appliance
 * neighbours are withdrawn.
 */
import { randomUUID } from 'node:crypto';
import { observeAppliance, orphanTargets, recordRoute, routeEventId,type Targets } from '../domain/decide/index.js';
import type { Neighbour } from '../domain/neighbours.js';
import { Rejections } from './rejections.js';
import { walkSettledSessions } from './settled-sessions.js';
import { gatewayCaller, type ObservationWriter } from './writer.js';

export interface RecorderOptions extends ObservationWriter {
  /** A session's table counts as complete this long after it came up. */
  settleMs: number;
  /** The route aggregate's version in the store (for routes the state has forgotten). */
  routeVersion: (id: string) => Promise<number>;
}

/** Rejection warnings: at most this many per appliance per minute. */
const REJECTION_WARNINGS_PER_MINUTE = 5;

export class RouteRecorder {
  readonly rejections: Rejections;
  private readonly m;

  constructor(private readonly o: RecorderOptions) {
    this.rejections = new Rejections({ burst: REJECTION_WARNINGS_PER_MINUTE, windowMs: 60_000, now: o.now, warn: (f, msg) => o.logger.warn(f, msg) });
    this.m = {
      rejected: o.metrics.counter('strata_bgp_routes_rejected_total', 'appliance routes this instance found newly refused by the import policy', ['reason']),
      recorded: o.metrics.counter('strata_bgp_route_events_total', 'route observations written to the log', ['type']),
    };
  }

  /** Record the current observations; returns when the next pass is due for them (a session settles, a damped route is reusable), or Infinity. */
  async record(neighbours: ReadonlyMap<string, Neighbour>): Promise<number> {
    const state = this.o.projection.state;
    const now = this.o.now();
    const targets: Targets = orphanTargets(state, neighbours);
    const walk = walkSettledSessions(
      { neighbours, kind: 'appliance', observer: this.o.observer, settleMs: this.o.settleMs, now },
      (n, complete) => observeAppliance(state, n, this.o.observer.announced(n.address), complete),
      targets,
    );
    let next = walk.next;
    for (const r of this.rejections.update(walk.rejected, walk.peers)) this.m.rejected.inc({ reason: r.reason });

    for (const [id, t] of targets) {
      if (recordRoute(state, t.peer, t.prefix, t.target, now).kind === 'done') continue;
      const stored = state.routes[id] ? 0 : await this.forgottenVersion(id);
      const done = await this.o.executor.execute((s) => recordRoute(s, t.peer, t.prefix, t.target, now, stored), {
        caller: gatewayCaller(randomUUID(), now),
        correlationId: `bgp-observation:${id}`,
        causationId: null,
        eventId: routeEventId,
      });
      if (done.written) this.m.recorded.inc({ type: t.target === null ? 'withdrawn' : 'learned' });
    }
    // Damped routes become reusable later: look again then.
    for (const r of Object.values(this.o.projection.state.routes)) if (r.damping.suppressedUntil > now) next = Math.min(next, r.damping.suppressedUntil);
    return next;
  }

  /**
   * The store's version of a route this instance's state does not hold:
   * one it has forgotten (withdrawn long ago), decided against that version,
   * or one the other gateway has just recorded and this projection has not
   * applied yet. The latter is waited for, so the decision sees the record
   * (deciding against its version alone would record the same route again).
   */
  private async forgottenVersion(id: string): Promise<number> {
    const stored = await this.o.routeVersion(id);
    if (stored === 0) return 0;
    await this.o.projection.waitFor(stored);
    return this.o.projection.state.routes[id] ? 0 : stored;
  }
}
