/**
 * The route-server import policy for appliances, as a pure function: which
 * announced prefixes an appliance may have passed on to the fabric.
 *
 *   1. length: IPv4 /29-/32, IPv6 /64 (what IPAM hands out as application prefixes);
 *   2. the appliance (its device id, in its port's tenant) must have application
 *      prefixes assigned by that tenant (entitlement.ts);
 *   3. the prefix must lie inside one of them;
 *   4. at most the group's maxPrefixes: the valid prefixes in address order,
 *      the first N accepted, the rest refused (the session stays up).
 *
 * Accepted routes keep the appliance as next hop: the address of its
 * session, whatever next hop it announced (an appliance cannot point the
 * fabric at another machine).
 */
import type { RejectReason } from '@strata/contracts';
import { covers, parsePrefix, type Prefix } from '@strata/netaddr';
import { assignedTo } from './entitlement.js';
import type { ApplianceNeighbour } from './neighbours.js';
import type { BgpState } from './state.js';

export interface Announcement {
  prefix: string;
  nextHop: string;
  asPath: number[];
}

export type Verdict =
  | { prefix: string; accepted: true; nextHop: string; asPath: number[] }
  | { prefix: string; accepted: false; reason: RejectReason; nextHop: string; asPath: number[] };

/** Prefix lengths an appliance may announce. */
export function allowedLength(p: Prefix): boolean {
  return p.version === 4 ? p.length >= 29 && p.length <= 32 : p.length === 64;
}

export function classify(state: BgpState, appliance: ApplianceNeighbour, announced: readonly Announcement[]): Verdict[] {
  const assigned = assignedTo(state, appliance.tenant, appliance.deviceId);
  const candidates: { a: Announcement; p: Prefix }[] = [];
  const out: Verdict[] = [];
  const reject = (a: Announcement, reason: RejectReason): void => void out.push({ prefix: a.prefix, accepted: false, reason, nextHop: a.nextHop, asPath: a.asPath });
  for (const a of announced) {
    const p = parsePrefix(a.prefix, false);
    if (!allowedLength(p)) reject(a, 'prefix-length');
    else if (assigned.length === 0) reject(a, 'not-assigned');
    else if (!assigned.some((x) => covers(x, p))) reject(a, 'outside-assigned-range');
    else candidates.push({ a, p });
  }
  candidates.sort((x, y) => (x.p.version - y.p.version) || (x.p.network < y.p.network ? -1 : x.p.network > y.p.network ? 1 : x.p.length - y.p.length));
  candidates.forEach(({ a }, i) => {
    if (i < appliance.maxPrefixes) out.push({ prefix: a.prefix, accepted: true, nextHop: appliance.address, asPath: a.asPath });
    else reject(a, 'max-prefix');
  });
  return out.sort((x, y) => (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : 0));
}

/** Is a recorded route of `appliance` still acceptable under the current assignments (used for advertisements between observations)? */
export function stillAssigned(state: BgpState, appliance: ApplianceNeighbour, prefix: string): boolean {
  const p = parsePrefix(prefix, false);
  return allowedLength(p) && assignedTo(state, appliance.tenant, appliance.deviceId).some((x) => covers(x, p));
}
