import { describe, expect, it } from 'vitest';
import { feedFilter } from './feed-filter.js';

describe('feedFilter', () => {
  it('given one context (named once or more), then its own subtree of the stream', () => {
    expect(feedFilter(['ipam'])).toBe('strata.evt.ipam.>');
    expect(feedFilter(['nat', 'nat'], 'x.evt')).toBe('x.evt.nat.>');
  });

  it('given several contexts, then no filter at all (never the whole subject space, which nats-server 2.9.10 miscounts)', () => {
    expect(feedFilter(['secgroup', 'ipam'])).toBeUndefined();
  });

  it('given no context, then it refuses', () => {
    expect(() => feedFilter([])).toThrow(/at least one context/);
  });
});
