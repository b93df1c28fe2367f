/**
 * Old vs new key maps → the KV writes that turn one into the other. Used
 * for a host's incremental update, a host's full recompute, and the start-up
 * reconcile of each host's bucket against the derivation.
 */
import { kindOfKey } from './derive.js';
import { FAMILIES } from './families/index.js';

export type KvOp = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

/** Puts for keys that are new or differ, deletes for keys that are gone. */
export function diffMaps(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): KvOp[] {
  const ops: KvOp[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) ops.push({ op: 'put', key, value });
  for (const key of before.keys()) if (!after.has(key)) ops.push({ op: 'delete', key });
  return ops;
}

/** The same, looking only at `keys` (the keys a change can have touched). */
export function diffKeys(before: ReadonlyMap<string, string>, after: (key: string) => string | undefined, keys: Iterable<string>): KvOp[] {
  const ops: KvOp[] = [];
  for (const key of keys) {
    const value = after(key);
    if (value === undefined) {
      if (before.has(key)) ops.push({ op: 'delete', key });
    } else if (before.get(key) !== value) {
      ops.push({ op: 'put', key, value });
    }
  }
  return ops;
}

/** Apply ops to a key map (the model of what the KV holds). */
export function applyOps(target: Map<string, string>, ops: Iterable<KvOp>): void {
  for (const o of ops) {
    if (o.op === 'put') target.set(o.key, o.value);
    else target.delete(o.key);
  }
}

// Each family says where its keys go (containers first when adding, last when removing; what a rule names before the rule).
// The position key goes last (the publisher also holds it back until the writes before it are acknowledged).
const putOrder = (key: string): number => {
  const kind = kindOfKey(key);
  return kind === 'unknown' ? 99 : kind === 'position' ? 100 : FAMILIES[kind].putOrder;
};

/**
 * Order a batch so an agent that applies deltas as they come sees a network
 * before the endpoints in it, and loses endpoints before their network; sees
 * the members of a remote group before the rules naming it, and the rules
 * before the port listing their group: puts of host, domain, net, member,
 * sg, port, ep; then deletes in the reverse order.
 */
export function orderForAgents<T extends KvOp>(ops: T[]): T[] {
  const puts = ops.filter((o) => o.op === 'put').sort((a, b) => putOrder(a.key) - putOrder(b.key));
  const deletes = ops.filter((o) => o.op === 'delete').sort((a, b) => putOrder(b.key) - putOrder(a.key));
  return [...puts, ...deletes];
}
