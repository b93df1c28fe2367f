/**
 * The walk both recorders make over one kind of neighbour (appliances for
 * routes, evpn switches for MACs and VTEPs): what each established session
 * announces now, whether its table is complete yet (a session's first
 * updates arrive over its first seconds, and only a complete table may
 * withdraw), and when the next pass is due for one that is not.
 */
import type { Neighbour } from '../domain/neighbours.js';
import type { Observer } from './observer.js';

export interface SettledWalk<R> {
  /** Per peer of that kind: its refused announcements (none for a peer whose session is down: its table went with it). */
  rejected: Map<string, R[]>;
  /** When a session's table becomes complete, or Infinity. */
  next: number;
  /** Every peer of that kind, up or not. */
  peers: Set<string>;
}

export function walkSettledSessions<K extends Neighbour['kind'], T, R>(
  o: { neighbours: ReadonlyMap<string, Neighbour>; kind: K; observer: Observer; settleMs: number; now: number },
  observe: (n: Extract<Neighbour, { kind: K }>, complete: boolean) => { targets: Map<string, T>; rejected: R[] },
  into: Map<string, T>,
): SettledWalk<R> {
  const rejected = new Map<string, R[]>();
  const peers = new Set<string>();
  let next = Infinity;
  for (const n of o.neighbours.values()) {
    if (n.kind !== o.kind) continue;
    peers.add(n.address);
    const s = o.observer.session(n.address);
    if (!s?.established) {
      rejected.set(n.address, []);
      continue;
    }
    const complete = o.now - s.since >= o.settleMs;
    if (!complete) next = Math.min(next, s.since + o.settleMs);
    const seen = observe(n as Extract<Neighbour, { kind: K }>, complete);
    for (const [id, t] of seen.targets) into.set(id, t);
    rejected.set(n.address, seen.rejected);
  }
  return { rejected, next, peers };
}
