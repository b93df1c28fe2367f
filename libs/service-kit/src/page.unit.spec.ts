import { describe, expect, it } from 'vitest';
import { page } from './page.js';

const items = (...ids: string[]) => ids.map((id) => ({ id }));

describe('page', () => {
  it('sorts by id and returns up to `limit` items, with the last id as `next`', () => {
    expect(page(items('c', 'a', 'e', 'b', 'd'), { limit: 2, after: '' })).toEqual({ items: items('a', 'b'), next: 'b' });
  });

  it('continues after the id given', () => {
    expect(page(items('c', 'a', 'e', 'b', 'd'), { limit: 2, after: 'b' })).toEqual({ items: items('c', 'd'), next: 'd' });
  });

  it('has an empty `next` on the last page, also when it is exactly full', () => {
    expect(page(items('a', 'b', 'c'), { limit: 2, after: 'b' })).toEqual({ items: items('c'), next: '' });
    expect(page(items('a', 'b'), { limit: 2, after: '' })).toEqual({ items: items('a', 'b'), next: '' });
    expect(page(items(), { limit: 2, after: '' })).toEqual({ items: [], next: '' });
  });

  it('stays exact when the item `after` names is gone', () => {
    expect(page(items('a', 'c', 'd'), { limit: 1, after: 'b' })).toEqual({ items: items('c'), next: 'c' });
  });

  it('walks a whole list page by page without gaps or repeats', () => {
    const all = Array.from({ length: 23 }, (_, i) => ({ id: `id-${String(i).padStart(3, '0')}` })).reverse();
    const seen: string[] = [];
    let after = '';
    for (;;) {
      const p = page(all, { limit: 5, after });
      seen.push(...p.items.map((i) => i.id));
      if (!p.next) break;
      after = p.next;
    }
    expect(seen).toEqual(all.map((i) => i.id).sort());
  });

  it('takes any iterable', () => {
    const m = new Map([['b', { id: 'b' }], ['a', { id: 'a' }]]);
    expect(page(m.values(), { limit: 10, after: '' }).items).toEqual(items('a', 'b'));
  });
});
