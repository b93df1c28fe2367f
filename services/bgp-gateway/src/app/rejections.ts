/**
 * Each instance's bookkeeping of appliance routes its import policy refuses.
 * Rejections are not written to the event log (an appliance could fill it
 * with distinct prefixes forever); they are visible as
 *
 *   - the gauge strata_bgp_rejected_routes{reason}: what appliances announce
 *     now and the policy refuses (this instance's view);
 *   - a warning per newly rejected route, at most `burst` per appliance per
 *     `windowMs`, and then one line saying how many more were not logged.
 *
 * The bookkeeping is the current rejections only: it is replaced on every
 * pass from the appliances' tables (bounded by the engine's hard prefix
 * limit per session), so a withdrawn route, or a peer that is gone, leaves
 * nothing behind. The rate limit keeps one small window per appliance.
 *
 * The same bookkeeping serves the EVPN routes of `evpn` switches that are
 * refused (app/physical-recorder.ts): a route is then keyed by its NLRI, and
 * the messages say so (`what`).
 */
import type { RejectedRoute } from '../domain/decide/index.js';

/** What is kept of a refused route: its peer, its key in the peer's table, why, and its fields for the log. */
export interface Refusal {
  peer: string;
  reason: string;
}

export interface RejectionLogOptions<R extends Refusal = RejectedRoute> {
  burst: number;
  windowMs: number;
  now: () => number;
  warn: (fields: Record<string, unknown>, message: string) => void;
  /** The route's key in its peer's table (default: the prefix of an appliance route). */
  keyOf?: (r: R) => string;
  /** The log lines (default: the appliance import policy's) and a refusal's fields in them. */
  what?: { warning: string; more: string; fields: (r: R) => Record<string, unknown> };
}

export const REJECTION_WARNING = 'appliance route rejected by the import policy';
const APPLIANCE_LINES = {
  warning: REJECTION_WARNING,
  more: 'more appliance routes rejected by the import policy (warnings rate-limited)',
  fields: (r: RejectedRoute): Record<string, unknown> => ({ peer: r.peer, prefix: r.prefix, reason: r.reason, deviceId: r.deviceId }),
};

export class Rejections<R extends Refusal = RejectedRoute> {
  /** peer → key → the refusal, of the current announcements. */
  private current = new Map<string, Map<string, R>>();
  private readonly windows = new Map<string, { start: number; logged: number; quiet: number }>();
  private readonly keyOf: (r: R) => string;
  private readonly what: { warning: string; more: string; fields: (r: R) => Record<string, unknown> };

  constructor(private readonly o: RejectionLogOptions<R>) {
    this.keyOf = o.keyOf ?? ((r) => (r as unknown as RejectedRoute).prefix);
    // Without `what`, R is an appliance route (the default type argument).
    this.what = o.what ?? (APPLIANCE_LINES as unknown as typeof this.what);
  }

  /**
   * The rejections of this pass, per observed appliance (peers not in `observed` keep theirs:
   * their session is settling or down). Returns the newly rejected routes.
   */
  update(observed: ReadonlyMap<string, readonly R[]>, neighbours: ReadonlySet<string>): R[] {
    const fresh: R[] = [];
    for (const peer of this.current.keys()) if (!neighbours.has(peer)) this.current.delete(peer);
    for (const peer of this.windows.keys()) if (!neighbours.has(peer)) this.windows.delete(peer);
    for (const [peer, routes] of observed) {
      const before = this.current.get(peer);
      const now = new Map(routes.map((r) => [this.keyOf(r), r]));
      for (const r of routes) if (before?.get(this.keyOf(r))?.reason !== r.reason) fresh.push(r);
      if (now.size > 0) this.current.set(peer, now);
      else this.current.delete(peer);
    }
    for (const r of fresh) this.warn(r);
    this.flushQuiet();
    return fresh;
  }

  /** Count of current rejections per reason. */
  byReason(): Map<string, number> {
    return this.countBy((r) => r.reason);
  }

  /** Count of current rejections per label (e.g. `zone reason`). */
  countBy(label: (r: R) => string): Map<string, number> {
    const out = new Map<string, number>();
    for (const routes of this.current.values()) for (const r of routes.values()) out.set(label(r), (out.get(label(r)) ?? 0) + 1);
    return out;
  }

  /** Routes remembered (the bound the hostile tests check). */
  get size(): number {
    let n = 0;
    for (const routes of this.current.values()) n += routes.size;
    return n;
  }

  private warn(r: R): void {
    const w = this.window(r.peer);
    if (w.logged < this.o.burst) {
      w.logged++;
      this.o.warn(this.what.fields(r), this.what.warning);
    } else w.quiet++;
  }

  private window(peer: string): { start: number; logged: number; quiet: number } {
    const now = this.o.now();
    let w = this.windows.get(peer);
    if (!w || now - w.start >= this.o.windowMs) {
      if (w?.quiet) this.o.warn({ peer, notLogged: w.quiet }, this.what.more);
      w = { start: now, logged: 0, quiet: 0 };
      this.windows.set(peer, w);
    }
    return w;
  }

  /** Report the rejections that were not logged once their window is over. */
  private flushQuiet(): void {
    const now = this.o.now();
    for (const [peer, w] of this.windows) {
      if (now - w.start < this.o.windowMs) continue;
      if (w.quiet) this.o.warn({ peer, notLogged: w.quiet }, this.what.more);
      this.windows.delete(peer);
    }
  }
}
