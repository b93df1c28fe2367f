/**
 * Scale-out by host: instance i of n owns the hosts whose stable hash mod n
 * is i, and is the only writer of those hosts' keys. Every instance reads
 * the whole IPAM log (the model is small next to the views), but computes,
 * keeps and writes only its own hosts' views.
 *
 * The hash is FNV-1a (32 bit) over the UTF-8 bytes of the host id: stable
 * across processes, versions and platforms, so every instance agrees.
 */
import { ValidationError } from '@strata/errors';

export interface Partition {
  index: number;
  count: number;
}

export const SINGLE_PARTITION: Partition = { index: 0, count: 1 };

/** Parse `"i/n"` (0 ≤ i < n). */
export function parsePartition(text: string): Partition {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new ValidationError(`partition must be "i/n" with 0 <= i < n, e.g. "0/1" or "2/4"; got "${text}"`, { field: 'HOSTVIEW_PARTITION' });
  }
  return { index, count };
}

const utf8 = new TextEncoder();

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export const partitionOf = (hostId: string, count: number): number => fnv1a32(hostId) % count;

/** The ownership test of one partition. */
export function owner(p: Partition): (hostId: string) => boolean {
  if (p.count === 1) return () => true;
  return (hostId) => partitionOf(hostId, p.count) === p.index;
}
