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
 */
import type { RejectedRoute } from '../domain/decide/index.js';

export interface RejectionLogOptions {
  burst: number;
  windowMs: number;
  now: () => number;
  warn: (fields: Record<string, unknown>, message: string) => void;
}

export const REJECTION_WARNING = 'appliance route rejected by the import policy';

export class Rejections {
  /** peer → prefix → reason, of the current announcements. */
  private current = new Map<string, Map<string, RejectedRoute>>();
  private readonly windows = new Map<string, { start: number; logged: number; quiet: number }>();

  constructor(private readonly o: RejectionLogOptions) {}

  /**
   * The rejections of this pass, per observed appliance (peers not in `observed` keep theirs:
   * their session is settling or down). Returns the newly rejected routes.
   */
  update(observed: ReadonlyMap<string, readonly RejectedRoute[]>, neighbours: ReadonlySet<string>): RejectedRoute[] {
    const fresh: RejectedRoute[] = [];
    for (const peer of this.current.keys()) if (!neighbours.has(peer)) this.current.delete(peer);
    for (const peer of this.windows.keys()) if (!neighbours.has(peer)) this.windows.delete(peer);
    for (const [peer, routes] of observed) {
      const before = this.current.get(peer);
      const now = new Map(routes.map((r) => [r.prefix, r]));
      for (const r of routes) if (before?.get(r.prefix)?.reason !== r.reason) fresh.push(r);
      if (now.size > 0) this.current.set(peer, now);
      else this.current.delete(peer);
    }
    for (const r of fresh) this.warn(r);
    this.flushQuiet();
    return fresh;
  }

  /** Count of current rejections per reason. */
  byReason(): Map<string, number> {
    const out = new Map<string, number>();
    for (const routes of this.current.values()) for (const r of routes.values()) out.set(r.reason, (out.get(r.reason) ?? 0) + 1);
    return out;
  }

  /** Routes remembered (the bound the hostile tests check). */
  get size(): number {
    let n = 0;
    for (const routes of this.current.values()) n += routes.size;
    return n;
  }

  private warn(r: RejectedRoute): void {
    const w = this.window(r.peer);
    if (w.logged < this.o.burst) {
      w.logged++;
      this.o.warn({ peer: r.peer, prefix: r.prefix, reason: r.reason, deviceId: r.deviceId }, REJECTION_WARNING);
    } else w.quiet++;
  }

  private window(peer: string): { start: number; logged: number; quiet: number } {
    const now = this.o.now();
    let w = this.windows.get(peer);
    if (!w || now - w.start >= this.o.windowMs) {
      if (w?.quiet) this.o.warn({ peer, notLogged: w.quiet }, 'more appliance routes rejected by the import policy (warnings rate-limited)');
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
      if (w.quiet) this.o.warn({ peer, notLogged: w.quiet }, 'more appliance routes rejected by the import policy (warnings rate-limited)');
      this.windows.delete(peer);
    }
  }
}
