/** The small multimap and counter helpers the model's indexes are made of. */

export const EMPTY_IDS: readonly string[] = [];

export function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

export function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** Add `delta` to a counter in a two-level index, dropping entries that reach 0. */
export function count(index: Map<string, Map<string, number>>, outer: string, inner: string, delta: number): void {
  let m = index.get(outer);
  if (!m) index.set(outer, (m = new Map()));
  const n = (m.get(inner) ?? 0) + delta;
  if (n > 0) m.set(inner, n);
  else {
    m.delete(inner);
    if (m.size === 0) index.delete(outer);
  }
}
