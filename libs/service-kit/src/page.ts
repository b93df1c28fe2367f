import type { Page } from '@strata/contracts';

/** One page of a list query. Stable order (by id) so `after` paging is exact even while resources come and go. */
export function page<T extends { id: string }>(items: Iterable<T>, q: { limit: number; after: string }): Page<T> {
  const sorted = [...items].filter((i) => i.id > q.after).sort((a, b) => (a.id < b.id ? -1 : 1));
  const out = sorted.slice(0, q.limit);
  return { items: out, next: sorted.length > q.limit ? out[out.length - 1]!.id : '' };
}
