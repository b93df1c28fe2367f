import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalAddress, covers, embedIpv4, formatAddress, formatPrefix, overlaps, parseAddress, parsePrefix, size } from './index.js';

describe('netaddr', () => {
  it('round-trips every IPv4 and IPv6 value through text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => {
        expect(parseAddress(formatAddress({ version: 4, value: v })).value).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        expect(parseAddress(formatAddress({ version: 6, value: v })).value).toBe(v);
      }),
    );
  });

  it('formats IPv6 per RFC 5952', () => {
    expect(canonicalAddress('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalAddress('2001:db8:0:1:0:0:0:1')).toBe('2001:db8:0:1::1');
    expect(canonicalAddress('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(canonicalAddress('::')).toBe('::');
  });

  it('rejects malformed input with a message naming it', () => {
    expect(() => parseAddress('10.0.0.256')).toThrow(/"10.0.0.256" is not an IPv4 or IPv6 address/);
    expect(() => parsePrefix('10.0.0.0')).toThrow(/missing \/length/);
    expect(() => parsePrefix('10.0.0.0/33')).toThrow(/invalid prefix length/);
    expect(() => parsePrefix('10.0.0.1/24')).toThrow(/did you mean 10.0.0.0\/24/);
    expect(() => parsePrefix('2001:db8::/-1')).toThrow(/invalid prefix length/);
  });

  it('computes containment and overlap', () => {
    const a = parsePrefix('10.0.0.0/22');
    const b = parsePrefix('10.0.2.0/24');
    const c = parsePrefix('10.0.4.0/24');
    expect(covers(a, b)).toBe(true);
    expect(overlaps(b, a)).toBe(true);
    expect(overlaps(a, c)).toBe(false);
    expect(overlaps(a, parsePrefix('2001:db8::/64'))).toBe(false);
    expect(size(a)).toBe(1024n);
    expect(formatPrefix(parsePrefix('2001:db8:0:0::/64'))).toBe('2001:db8::/64');
  });

  it('embeds an IPv4 address in an IPv6 /96, and refuses anything else', () => {
    expect(embedIpv4(parsePrefix('2001:db8:ffff::/96'), '198.18.0.11')).toBe('2001:db8:ffff::c612:b');
    expect(() => embedIpv4(parsePrefix('2001:db8:ffff::/64'), '198.18.0.11')).toThrow(/not an IPv6 \/96/);
    expect(() => embedIpv4(parsePrefix('2001:db8:ffff::/96'), '2001:db8::1')).toThrow(/not an IPv4 address/);
  });
});
