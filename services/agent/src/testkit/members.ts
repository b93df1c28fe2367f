/**
 * The member changes between two views, for tests: what the agent's view
 * store journals (view/store.ts) when only member keys change, computed by
 * comparing two snapshots instead.
 */
import type { MemberChange } from '../core/members.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { ViewDelta } from '../view/current.js';

/**
 * The member entries that differ between two views, or null when anything
 * else differs (host, ports, networks, endpoints, domains, groups, chains): then only
 * a full reconcile is right. Objects in a view are immutable and shared
 * between snapshots, so an unchanged entry is the same object.
 */
export function memberOnlyChanges(prev: HostViewSnapshot, next: HostViewSnapshot): MemberChange[] | null {
  if (prev.host !== next.host) return null;
  for (const k of ['networks', 'ports', 'endpoints', 'domains', 'groups', 'chains'] as const) {
    if (!sameEntries(prev[k], next[k])) return null;
  }
  const changes: MemberChange[] = [];
  for (const [key, before] of Object.entries(prev.members)) {
    const after = next.members[key];
    if (after !== before) changes.push(after === undefined ? { before } : { before, after });
  }
  for (const [key, after] of Object.entries(next.members)) {
    if (prev.members[key] === undefined) changes.push({ after });
  }
  return changes;
}

function sameEntries(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}


/** Member changes as the typed deltas the dataplane's fast paths take (the view store journals them so). */
export const memberDeltas = (changes: MemberChange[]): ViewDelta[] =>
  changes.map((c) => {
    const m = (c.after ?? c.before)!;
    return { field: 'members', id: `${m.groupId}.${m.portId}`, ...c };
  });
