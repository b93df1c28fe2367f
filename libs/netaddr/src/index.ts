/**
 * IPv4/IPv6 addresses and prefixes as bigints: parsing, canonical
 * formatting, containment, overlap and iteration. IPAM needs exact
 * arithmetic over /64s and larger, which plain numbers cannot hold.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpVersion = 4 | 6;

export interface Address {
  version: IpVersion;
  value: bigint;
}

export interface Prefix {
  version: IpVersion;
  /** Network address (host bits zero). */
  network: bigint;
  length: number;
}

export const bits = (v: IpVersion): number => (v === 4 ? 32 : 128);

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

export function parseAddress(text: string): Address {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    return { version: 4, value };
  }
  if (isIPv6(text) && !text.includes('%')) return { version: 6, value: parseV6(text) };
  throw new AddressError(`"${text}" is not an IPv4 or IPv6 address`);
}

function parseV6(text: string): bigint {
  let head = text;
  let tail4: bigint | undefined;
  // An embedded dotted quad (::ffff:1.2.3.4) stands for the last 32 bits.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseAddress(text.slice(lastColon + 1)).value;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const l = left === '' ? [] : left.split(':');
  const r = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4;
  return value;
}

export function formatAddress(a: Address): string {
  if (a.version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((a.value >> s) & 0xffn).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, leftmost on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an address (e.g. `2001:db8::1`, never `2001:0db8:0:0::1`). */
export const canonicalAddress = (text: string): string => formatAddress(parseAddress(text));

/**
 * Parse `a.b.c.d/n` or `x::/n`. With `strict` (the default) host bits must be
 * zero: `10.0.0.1/24` is an error, because accepting it silently hides typos.
 */
export function parsePrefix(text: string, strict = true): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new AddressError(`"${text}" is not a CIDR prefix (missing /length)`);
  const addr = parseAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const length = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || length > bits(addr.version)) {
    throw new AddressError(`"${text}" has an invalid prefix length (0-${bits(addr.version)} for IPv${addr.version})`);
  }
  const network = addr.value & mask(addr.version, length);
  if (strict && network !== addr.value) {
    throw new AddressError(
      `"${text}" has host bits set; did you mean ${formatPrefix({ version: addr.version, network, length })}?`,
    );
  }
  return { version: addr.version, network, length };
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress({ version: p.version, value: p.network })}/${p.length}`;
}

/**
 * An IPv4 address embedded in the last 32 bits of an IPv6 /96, e.g.
 * 2001:db8:ffff::/96 and 198.18.0.11 → 2001:db8:ffff::c612:b (a hypervisor's
 * underlay IPv6 address standing for its IPv4 VTEP).
 */
export function embedIpv4(prefix96: Prefix, ipv4: string): string {
  const a = parseAddress(ipv4);
  if (prefix96.version !== 6 || prefix96.length !== 96) throw new AddressError(`${formatPrefix(prefix96)} is not an IPv6 /96`);
  if (a.version !== 4) throw new AddressError(`"${ipv4}" is not an IPv4 address`);
  return formatAddress({ version: 6, value: prefix96.network | a.value });
}

export function mask(version: IpVersion, length: number): bigint {
  const total = BigInt(bits(version));
  const all = (1n << total) - 1n;
  return (all >> (total - BigInt(length))) << (total - BigInt(length)) & all;
}

export const size = (p: Prefix): bigint => 1n << BigInt(bits(p.version) - p.length);
export const firstAddress = (p: Prefix): bigint => p.network;
export const lastAddress = (p: Prefix): bigint => p.network + size(p) - 1n;

export function contains(p: Prefix, a: Address): boolean {
  return p.version === a.version && (a.value & mask(p.version, p.length)) === p.network;
}

/** `outer` contains all of `inner`. */
export function covers(outer: Prefix, inner: Prefix): boolean {
  return outer.version === inner.version && outer.length <= inner.length && contains(outer, { version: inner.version, value: inner.network });
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return covers(a, b) || covers(b, a);
}

/** An inclusive address range, e.g. an allocation pool. */
export interface Range {
  version: IpVersion;
  start: bigint;
  end: bigint;
}

export function rangesOverlap(a: Range, b: Range): boolean {
  return a.version === b.version && a.start <= b.end && b.start <= a.end;
}
export * from './eui64.js';
