/** Pure allocation arithmetic over subnets, pools and VNIs. */
import { createHash } from 'node:crypto';
import {
  contains,
  formatAddress,
  parseAddress,
  parsePrefix,
  type IpVersion,
  type Prefix,
  type Range,
} from '@strata/netaddr';
import type { AllocationPool } from '@strata/contracts';
import type { SubnetEntry } from './state.js';

export function poolRanges(version: IpVersion, pools: AllocationPool[]): Range[] {
  return pools.map((p) => ({ version, start: parseAddress(p.start).value, end: parseAddress(p.end).value }));
}

export function rangesSize(ranges: Range[]): bigint {
  return ranges.reduce((n, r) => n + (r.end - r.start + 1n), 0n);
}

export function inRanges(ranges: Range[], value: bigint): boolean {
  return ranges.some((r) => r.start <= value && value <= r.end);
}

/**
 * The default allocation pool of a subnet: every host address except the
 * network address, the IPv4 broadcast and the gateway (which then splits it).
 */
export function defaultPools(prefix: Prefix, gateway: bigint | null): Range[] {
  const total = prefix.version === 4 ? 32 : 128;
  const hostBits = total - prefix.length;
  let start = prefix.network + 1n;
  let end = prefix.network + (1n << BigInt(hostBits)) - 1n;
  if (prefix.version === 4 && hostBits >= 2) end -= 1n; // broadcast
  if (hostBits === 0) return [{ version: prefix.version, start: prefix.network, end: prefix.network }];
  if (hostBits === 1) start = prefix.network; // /31 and /127: both addresses usable (RFC 3021)
  if (gateway === null || gateway < start || gateway > end) return [{ version: prefix.version, start, end }];
  const out: Range[] = [];
  if (gateway > start) out.push({ version: prefix.version, start, end: gateway - 1n });
  if (gateway < end) out.push({ version: prefix.version, start: gateway + 1n, end });
  return out;
}

export const toPools = (ranges: Range[]): AllocationPool[] =>
  ranges.map((r) => ({ start: formatAddress({ version: r.version, value: r.start }), end: formatAddress({ version: r.version, value: r.end }) }));

/**
 * Next free pool address at or after the cursor, wrapping once. Returns null
 * when the pools are full. Callers check `poolAllocated < poolSize` first, so
 * a full scan only happens when the pools are nearly full.
 */
export function nextFreeAddress(subnet: SubnetEntry, taken: (ip: string) => boolean): string | null {
  const version = subnet.ipVersion;
  const ranges = poolRanges(version, subnet.allocationPools);
  const cursor = BigInt(subnet.cursor);
  // Scan the part of each range after the cursor first, then wrap to the rest.
  const passes: Array<[bigint, bigint]> = [];
  for (const r of ranges) if (r.end >= cursor) passes.push([r.start > cursor ? r.start : cursor, r.end]);
  for (const r of ranges) if (r.start < cursor) passes.push([r.start, r.end < cursor ? r.end : cursor - 1n]);
  for (const [from, to] of passes) {
    for (let v = from; v <= to; v++) {
      const ip = formatAddress({ version, value: v });
      if (subnet.allocated[ip] === undefined && !taken(ip)) return ip;
    }
  }
  return null;
}

/** Lowest free VNI at or after `from` within [min, max], wrapping; null when every VNI is used. */
export function nextFreeVni(used: Record<string, string>, min: number, max: number, from: number): number | null {
  const span = max - min + 1;
  if (Object.keys(used).length >= span) return null;
  const start = from < min || from > max ? min : from;
  for (let i = 0; i < span; i++) {
    const vni = min + ((start - min + i) % span);
    if (used[String(vni)] === undefined) return vni;
  }
  return null;
}

/** A MAC derived from the port id and an attempt counter: deterministic, so replay and retries agree. */
export function generatedMac(prefix: string, portId: string, attempt: number): string {
  const h = createHash('sha256').update(`${portId}/${attempt}`).digest();
  const tail = [h[0], h[1], h[2]].map((b) => (b ?? 0).toString(16).padStart(2, '0')).join(':');
  return `${prefix}:${tail}`;
}

/** Next free prefix of `length` inside `pool`, not overlapping anything in `taken`. */
export function nextFreePrefix(pool: Prefix, length: number, taken: Prefix[]): Prefix | null {
  const step = 1n << BigInt((pool.version === 4 ? 32 : 128) - length);
  const end = pool.network + (1n << BigInt((pool.version === 4 ? 32 : 128) - pool.length));
  for (let n = pool.network; n < end; n += step) {
    const candidate: Prefix = { version: pool.version, network: n, length };
    const clash = taken.some(
      (t) =>
        contains(t, { version: t.version, value: n }) ||
        contains(candidate, { version: t.version, value: t.network }),
    );
    if (!clash) return candidate;
  }
  return null;
}

export const prefixOf = (cidr: string): Prefix => parsePrefix(cidr);
