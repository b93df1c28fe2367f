/**
 * VPC peering (docs/architecture.md, "VPC peering (issue 20)"): a peering
 * segment is a VNI with a small transit subnet, owned by the tenant that
 * created it; tenant routers attach to it, each with its own transit address
 * and MAC, and reach the prefixes of every other router on it through that
 * router's transit address. N routers share one segment.
 *
 * Agreement is two-sided: the owner grants a tenant (its invitation), the
 * router's tenant attaches its own router (its agreement). Request schemas,
 * views and the one derivation of the routes here; the operations are in
 * contract.ts, the events in events.ts.
 */
import { z } from 'zod';
import { contains, overlaps, parseAddress, parsePrefix } from '@strata/netaddr';
import { Cidr, DisplayName, Id, IpAddress, ListOptions, TenantId } from '../common.js';
import { MAX_NAME_LENGTH } from '../bounds.js';

/** Transit subnets are IPv4, /16 to /29: room for a handful to thousands of routers, never a tenant-sized range. */
export const MIN_PEERING_PREFIX = 16;
export const MAX_PEERING_PREFIX = 29;

export const CreatePeeringSegment = z.object({
  /** The owner, for an admin acting on a tenant's behalf; a tenant owns what it creates. */
  tenant: TenantId.optional(),
  name: DisplayName,
  description: z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` }).default(''),
  cidr: Cidr.refine((c) => {
    const p = parsePrefix(c);
    return p.version === 4 && p.length >= MIN_PEERING_PREFIX && p.length <= MAX_PEERING_PREFIX;
  }, { message: `must be an IPv4 transit subnet /${MIN_PEERING_PREFIX} to /${MAX_PEERING_PREFIX}` }),
});

/** The owner invites (grant) or stops inviting (revoke) one tenant. */
export const PeeringGrant = z.object({ id: Id, tenant: TenantId });

/** The router's tenant attaches its router (its agreement); `ip`: a chosen transit address, else the lowest free one. */
export const AttachPeering = z.object({ segmentId: Id, routerId: Id, ip: IpAddress.optional() });

export const ListPeeringSegments = ListOptions.extend({});
export const PeeringRoutesQuery = z.object({ routerId: Id });

export interface PeeringAttachmentView {
  id: string;
  segmentId: string;
  /** The router's tenant. */
  tenant: string;
  routerId: string;
  /** The router's transit address and MAC on the segment. */
  ip: string;
  mac: string;
  createdAt: string;
}

/** What routes across the segment go to: a router's transit address and MAC, and its prefixes (its subnets' CIDRs). No router id, no tenant. */
export interface PeeringPeerView {
  ip: string;
  mac: string;
  prefixes: string[];
}

export interface PeeringSegmentView {
  id: string;
  /** The owner. */
  tenant: string;
  name: string;
  description: string;
  cidr: string;
  vni: number;
  /** The tenants the owner invited (a granted tenant sees only itself here). */
  grants: string[];
  /** The owner (and the admin) sees every attachment; a granted tenant its own. */
  attachments: PeeringAttachmentView[];
  /** Every router on the segment as its peers see it; empty for a granted tenant that has not attached a router. */
  peers: PeeringPeerView[];
  /** Counts creation, grants, revocations, attachments and detachments. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** One derived route of a router: to a peer's prefix via the peer's transit address on the segment. */
export interface PeeringRoute {
  segmentId: string;
  destination: string;
  nexthop: string;
}

/** What a router offers its peers, from its subnets' CIDRs: the IPv4 ones (the transit subnets are IPv4), sorted. */
export const peeringPrefixes = (cidrs: Iterable<string>): string[] => [...cidrs].filter((c) => parsePrefix(c).version === 4).sort();

/** A router as the derivation reads it: its prefixes, and its place on each segment it is attached to. */
export interface PeeringMember {
  routerId: string;
  segmentId: string;
  ip: string;
  prefixes: readonly string[];
}

/**
 * The routes of `routerId`: per segment it is attached to, per other router
 * on it, one route to each of that router's prefixes via its transit
 * address. Derived from the attachments and the routers' subnets, never
 * stored, so a subnet a peer adds later is routed without a command.
 *
 * A prefix that would be ambiguous is left out, on every side: one that
 * overlaps the router's own prefixes or a transit subnet of its segments,
 * or that overlaps a prefix of another peer. IPAM refuses the attachments
 * and interfaces that would make one; this keeps the result unambiguous
 * even when two of them were decided concurrently on different aggregates.
 */
export function derivePeeringRoutes(
  router: { id: string; prefixes: readonly string[] },
  segments: readonly { id: string; cidr: string; members: readonly PeeringMember[] }[],
): PeeringRoute[] {
  const mine = segments.filter((s) => s.members.some((m) => m.routerId === router.id));
  const taken = [...router.prefixes, ...mine.map((s) => s.cidr)].map((c) => parsePrefix(c));
  const offered = mine.flatMap((s) =>
    s.members.filter((m) => m.routerId !== router.id).flatMap((m) => m.prefixes.map((p) => ({ segmentId: s.id, routerId: m.routerId, nexthop: m.ip, destination: p, prefix: parsePrefix(p) }))),
  );
  const routes = offered.filter(
    (o) =>
      contains(parsePrefix(mine.find((s) => s.id === o.segmentId)!.cidr), parseAddress(o.nexthop)) &&
      !taken.some((t) => overlaps(t, o.prefix)) &&
      !offered.some((x) => x.routerId !== o.routerId && overlaps(x.prefix, o.prefix)),
  );
  // One router reached over two shared segments: one route per destination, over the first segment.
  const byDestination = new Map<string, PeeringRoute>();
  for (const { segmentId, destination, nexthop } of routes.sort((a, b) => a.segmentId.localeCompare(b.segmentId))) {
    if (!byDestination.has(destination)) byDestination.set(destination, { segmentId, destination, nexthop });
  }
  return [...byDestination.values()].sort((a, b) => a.destination.localeCompare(b.destination));
}
