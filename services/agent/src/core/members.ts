/**
 * The membership fast path, pure part. A membership change is the busiest
 * security-group event and, by design, touches set elements only ("membership
 * is a tag"). When the only keys that changed since the last applied view are
 * member keys, the agent does not re-read and re-plan the whole host: it
 * turns the member deltas into set-element additions and deletions and
 * applies them as one nft transaction (see ../dataplane/managers/security-groups.ts). Everything else,
 * and any doubt, goes through the full reconcile, which stays the reference.
 *
 * Two members of a group may share an address (a tenant's networks without a
 * common router may overlap), so elements are reference-counted: an element
 * is added when its first holder appears and deleted when its last one goes,
 * exactly what the full computation (`desiredSecurityGroups`) yields.
 */
import type { GroupMember } from '@strata/contracts';
import { sgSetName } from './names.js';
import { canonicalIp } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';

export interface MemberChange {
  before?: GroupMember;
  after?: GroupMember;
}

/** Element changes of one set: what to add and what to delete (disjoint, sorted). */
export interface SetDelta {
  set: string;
  add: string[];
  del: string[];
}

/** Reference counts of the elements of Strata's member sets, kept in step with the kernel by the fast path. */
export class MemberIndex {
  private readonly counts = new Map<string, Map<string, number>>();

  /**
   * Index a view's members. `sets`: the member sets the applied state has
   * (members of groups no local rule names have no set and are ignored, as in
   * the full computation).
   */
  constructor(
    view: HostViewSnapshot,
    private readonly sets: ReadonlySet<string>,
    /** The sets a group's addresses of one version go to (security groups: `sg_<g>_v4/6`; chaining: one per domain namespace). */
    private readonly setsOf: (groupId: string, version: 4 | 6) => readonly string[] = (g, v) => [sgSetName(g, v)],
  ) {
    for (const m of Object.values(view.members)) this.count(m, 1, null);
  }

  /** Apply member changes; returns the element changes they cause, per set. */
  apply(changes: MemberChange[]): SetDelta[] {
    const touched = new Map<string, { add: Set<string>; del: Set<string> }>();
    for (const c of changes) {
      if (c.before) this.count(c.before, -1, touched);
      if (c.after) this.count(c.after, 1, touched);
    }
    return [...touched]
      .map(([set, d]) => ({ set, add: [...d.add].sort(), del: [...d.del].sort() }))
      .filter((d) => d.add.length + d.del.length > 0)
      .sort((a, b) => (a.set < b.set ? -1 : 1));
  }

  private count(m: GroupMember, by: 1 | -1, touched: Map<string, { add: Set<string>; del: Set<string> }> | null): void {
    // A member listing one address twice contributes it once, as in the full computation.
    const seen = new Set<string>();
    for (const ip of m.ips) {
      const a = canonicalIp(ip);
      if (a === null) continue;
      for (const set of this.setsOf(m.groupId, a.version)) this.countIn(set, a.text, by, seen, touched);
    }
  }

  private countIn(set: string, ip: string, by: 1 | -1, seen: Set<string>, touched: Map<string, { add: Set<string>; del: Set<string> }> | null): void {
    if (!this.sets.has(set) || seen.has(`${set} ${ip}`)) return;
    seen.add(`${set} ${ip}`);
    let elements = this.counts.get(set);
    if (!elements) this.counts.set(set, (elements = new Map()));
    const n = (elements.get(ip) ?? 0) + by;
    if (n > 0) elements.set(ip, n);
    else elements.delete(ip);
    if (!touched) return;
    let d = touched.get(set);
    if (!d) touched.set(set, (d = { add: new Set(), del: new Set() }));
    // 0 → 1: the element appears; 1 → 0: it goes. A delete and an add of one element in one batch cancel out.
    if (by === 1 && n === 1) {
      if (!d.del.delete(ip)) d.add.add(ip);
    } else if (by === -1 && n === 0) {
      if (!d.add.delete(ip)) d.del.add(ip);
    }
  }
}

/** The nft script of a batch of set-element changes in `inet strata`: one atomic transaction. */
export function renderSetDeltas(deltas: SetDelta[], table = 'inet strata'): string {
  const lines: string[] = [];
  for (const d of deltas) {
    if (d.del.length) lines.push(`delete element ${table} ${d.set} { ${d.del.join(', ')} }`);
    if (d.add.length) lines.push(`add element ${table} ${d.set} { ${d.add.join(', ')} }`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Patch a sorted element list in place with a delta (keeps the applied desired state exact without recomputing it). */
export function patchSorted(elements: string[], d: Pick<SetDelta, 'add' | 'del'>): void {
  const find = (e: string): number => {
    let lo = 0;
    let hi = elements.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (elements[mid]! < e) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const e of d.del) {
    const i = find(e);
    if (elements[i] === e) elements.splice(i, 1);
  }
  for (const e of d.add) {
    const i = find(e);
    if (elements[i] !== e) elements.splice(i, 0, e);
  }
}
