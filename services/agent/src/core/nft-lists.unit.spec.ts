import { describe, expect, it } from 'vitest';
import { anyOf, INLINE_VALUES, noneOf } from './nft.js';

const addresses = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);

describe('per-port lists without a set (noneOf, anyOf)', () => {
  it('writes up to INLINE_VALUES values as matches in one rule (none of) or one rule each (any of), deduplicated and sorted', () => {
    expect(noneOf('ip saddr', ['10.0.0.2', '10.0.0.1', '10.0.0.2'])).toBe('ip saddr != 10.0.0.1 ip saddr != 10.0.0.2');
    expect(anyOf('ip daddr', ['255.255.255.255', '10.0.0.1'])).toEqual(['ip daddr 10.0.0.1', 'ip daddr 255.255.255.255']);
    expect(noneOf('ip saddr', addresses(INLINE_VALUES))).not.toContain('{');
  });

  it('past INLINE_VALUES, one anonymous set, so a rule stays bounded for a port with many addresses', () => {
    expect(noneOf('ip saddr', addresses(INLINE_VALUES + 1))).toMatch(/^ip saddr != \{ 10\.0\.0\.1, .* \}$/);
    expect(anyOf('ip daddr', addresses(INLINE_VALUES + 1))).toHaveLength(1);
  });

  it('refuses an empty list: "none of nothing" would match every packet and its drop would cut the port off', () => {
    expect(() => noneOf('ip saddr', [])).toThrow(/no values/);
    expect(() => anyOf('ip daddr', [])).toThrow(/no values/);
  });
});
