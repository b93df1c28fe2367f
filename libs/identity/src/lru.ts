/**
 * A size-bounded map that forgets the least recently used entry first
 * (a Map keeps insertion order: a hit re-inserts its key at the end).
 * Expiry is the caller's decision; this only bounds memory.
 */
export class Lru<V> {
  private readonly map = new Map<string, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`an LRU needs room for at least one entry (got ${maxEntries})`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Every entry, oldest first, without touching recency. */
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
}
