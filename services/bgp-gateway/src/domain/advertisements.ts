/**
 * Desired advertisements: what the fabric should learn from the gateway, as
 * a pure function of the state. One route per prefix (a BGP speaker sends
 * one best path per prefix without ADD-PATH). Routed networks and accepted
 * appliance /64s have IPv6 routes too; floating IPs and H-IPs are IPv4. The
 * next hop is always the hypervisor's IPv4 VTEP here: the engine adapter
 * writes it as the hypervisor's IPv6 underlay address for an IPv6 prefix
 * (gobgp/next-hop6.ts), carried as MP-BGP IPv6 unicast over the IPv4 session.
 *
 *   floating-ip         a NAT association: address/32 → VTEP of the hypervisor
 *                       hosting the associated port
 *   host-route          every address of a bound port on a routed network:
 *                       /32 or /128 → its hypervisor's VTEP (traffic enters at the right host)
 *   routed-subnet       every subnet (IPv4 or IPv6) of a routed network → the VTEP of one
 *                       hosting hypervisor (the lowest host id with ports on the
 *                       network): a covering route for addresses without a host
 *                       route; any host of the network routes on over the overlay
 *   application-prefix  a route an appliance announced and the import policy
 *                       accepted (recorded as RouteLearned) → the VTEP of the
 *                       hypervisor hosting the appliance's port (Strata's own
 *                       knowledge: never a next hop the appliance chose, and no
 *                       recursive resolution at the ToR: issue 12, defect 6),
 *                       unless damping suppresses it; and, on a gateway instance,
 *                       only while that instance's own session with the appliance
 *                       is up (`live`): a session that goes down takes the
 *                       appliance's routes off the fabric
 *   host-ip             each hypervisor's H-IP/32 → its VTEP: the replies to its
 *                       ports' outbound PNAT traffic come back to it
 *
 * Routed subnets and host routes only inside the operator's routed address
 * space: a subnet outside every `routed` pool (an old log, a bug) and its
 * ports' addresses are never originated (routed-scope.ts).
 *
 * A prefix claimed twice goes to the kind listed first above, then to the
 * earliest claim or lowest source id (`beats`): the same answer on every
 * instance. This file says what each source offers; desired-table.ts keeps
 * the winners, change by change.
 */
import type { AdvertisementKind } from '@strata/contracts';
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import { isSuppressed } from './damping.js';
import { stillAssigned } from './import-policy.js';
import type { Neighbour } from './neighbours.js';
import { routedScope } from './routed-scope.js';
import type { BgpState } from './state.js';

export interface Advertisement {
  prefix: string;
  nextHop: string;
  kind: AdvertisementKind;
  sourceId: string;
}

const RANK: Record<AdvertisementKind, number> = { 'floating-ip': 0, 'application-prefix': 1, 'host-route': 2, 'routed-subnet': 3, 'host-ip': 4 };

/** What one gateway instance knows beyond the state: the time and its own sessions. */
export interface Liveness {
  /** ms since epoch (damping). */
  now: number;
  /** Is this instance's session with the appliance at `address` established? */
  sessionUp(address: string): boolean;
}

/**
 * One source's claim on a prefix. `order` breaks ties within a kind (the
 * lower wins): the source id, or for host routes and routed subnets the
 * stream position of the claim (the earliest keeps the prefix).
 */
export interface Offer {
  a: Advertisement;
  order: string;
}

/** Does offer `x` take the prefix from `y`? Kind first (RANK), then order; equal ones keep the holder. */
export const beats = (x: Offer, y: Offer): boolean => RANK[x.a.kind] < RANK[y.a.kind] || (RANK[x.a.kind] === RANK[y.a.kind] && x.order < y.order);

/** What the offers read besides the state: the neighbours (appliance claims) and the routed address space. */
export interface OfferContext {
  state: BgpState;
  neighbours: ReadonlyMap<string, Neighbour>;
  inScope: (subnetId: string) => boolean;
}

export const offerContext = (state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): OfferContext => ({
  state,
  neighbours,
  inScope: routedScope(state.fabric),
});

/** The VTEP of the hypervisor hosting a port; undefined while unbound or on an unknown host. */
export function vtepOfPort(state: BgpState, portId: string): string | undefined {
  const host = state.fabric.ports[portId]?.hostId;
  return host == null ? undefined : state.fabric.hypervisors[host];
}

/** A floating IP's /32 via the hypervisor hosting its port. */
export function floatingIpOffers(state: BgpState, id: string): Offer[] {
  const fip = state.fabric.floatingIps[id];
  const nextHop = fip && vtepOfPort(state, fip.portId);
  if (!fip || !nextHop || fip.address.includes(':')) return [];
  return [{ a: { prefix: `${fip.address}/32`, nextHop, kind: 'floating-ip', sourceId: id }, order: id }];
}

/** The hypervisor a port puts among its routed network's hosts (routedSubnetOffers), if any: bound, on a known host, routed. */
export function routedHostOf(state: BgpState, portId: string): { networkId: string; hostId: string } | undefined {
  const port = state.fabric.ports[portId];
  if (!port || port.hostId === null || !state.fabric.networks[port.networkId]?.routed || !vtepOfPort(state, portId)) return undefined;
  return { networkId: port.networkId, hostId: port.hostId };
}

/** A port's host routes: each of its addresses in the routed address space, via its hypervisor. */
export function portOffers(ctx: OfferContext, portId: string): Offer[] {
  const at = routedHostOf(ctx.state, portId);
  if (!at) return [];
  const port = ctx.state.fabric.ports[portId]!;
  const nextHop = ctx.state.fabric.hypervisors[at.hostId]!;
  const out: Offer[] = [];
  // Routed subnets may overlap (neighbours.ts): an address two ports claim goes to the appliance neighbour
  // there, else to the earliest claim, never to whichever port id sorts first (issue 12, defect 2).
  for (const { ip, subnetId } of port.fixedIps) {
    if (!ctx.inScope(subnetId)) continue;
    const host = hostPrefix(ip);
    if (host === null) continue;
    const n = ctx.neighbours.get(ip);
    const order = n?.kind === 'appliance' && n.portId === port.id ? '' : `${String(port.createdSeq).padStart(16, '0')}:${port.id}`;
    out.push({ a: { prefix: host, nextHop, kind: 'host-route', sourceId: port.id }, order });
  }
  return out;
}

/** A routed subnet via `hostId`, the lowest hypervisor with ports on its network (none: no route). */
export function routedSubnetOffers(ctx: OfferContext, subnetId: string, hostId: string | undefined): Offer[] {
  const s = ctx.state.fabric.subnets[subnetId];
  const nextHop = hostId === undefined ? undefined : ctx.state.fabric.hypervisors[hostId];
  if (!s || !nextHop || !ctx.inScope(subnetId)) return [];
  // Canonical text: the reconciler compares it with the prefixes gobgpd lists. Tenants' routed subnets may
  // be the same prefix: the earliest claim keeps it, as for host routes (not whichever subnet id sorts first).
  return [{ a: { prefix: formatPrefix(parsePrefix(s.cidr)), nextHop, kind: 'routed-subnet', sourceId: subnetId }, order: `${String(s.createdSeq).padStart(16, '0')}:${subnetId}` }];
}

/**
 * An accepted appliance route, while the appliance is still a neighbour and
 * the prefix still assigned to it, via the hypervisor hosting the
 * appliance's port (as a host route to the appliance would be); with `live`,
 * also undamped and while this instance's session is up.
 */
export function applianceRouteOffers(ctx: OfferContext, routeId: string, live?: Liveness): Offer[] {
  const r = ctx.state.routes[routeId];
  // IPv6 too (an appliance's /64): its next hop is still the IPv4 VTEP (gobgp/paths.ts).
  if (!r || r.status !== 'learned' || r.deviceId === null) return [];
  const n = ctx.neighbours.get(r.peer);
  if (n?.kind !== 'appliance' || n.deviceId !== r.deviceId || !stillAssigned(ctx.state, n, r.prefix)) return [];
  if (live && (isSuppressed(r.damping, live.now) || !live.sessionUp(r.peer))) return [];
  const nextHop = vtepOfPort(ctx.state, n.portId);
  return nextHop ? [{ a: { prefix: r.prefix, nextHop, kind: 'application-prefix', sourceId: r.id }, order: r.id }] : [];
}

/** A hypervisor's H-IP/32 via its VTEP. */
export function hostIpOffers(state: BgpState, hostId: string): Offer[] {
  const hip = state.fabric.hostIps[hostId];
  const nextHop = state.fabric.hypervisors[hostId];
  return hip && nextHop && !hip.includes(':') ? [{ a: { prefix: `${hip}/32`, nextHop, kind: 'host-ip', sourceId: hostId }, order: hostId }] : [];
}

/** A port address as a host route (/32, /128) in canonical text; null for text that is no address. */
function hostPrefix(ip: string): string | null {
  try {
    const a = parseAddress(ip);
    return `${formatAddress(a)}/${a.version === 4 ? 32 : 128}`;
  } catch {
    return null;
  }
}

/** What the reconciler must do to turn `actual` (prefix → next hop in the engine) into `desired`. */
export interface RibDiff {
  /** New prefixes and changed next hops (an add replaces the engine's path for the prefix). */
  add: Advertisement[];
  /** Prefixes to withdraw. */
  withdraw: string[];
}

export function diffRib(desired: ReadonlyMap<string, Advertisement>, actual: ReadonlyMap<string, string>): RibDiff {
  const add: Advertisement[] = [];
  const withdraw: string[] = [];
  for (const [prefix, a] of desired) if (actual.get(prefix) !== a.nextHop) add.push(a);
  for (const prefix of actual.keys()) if (!desired.has(prefix)) withdraw.push(prefix);
  return { add, withdraw };
}

/** The same, for the `prefixes` that may have changed only (every other one is known to be equal). */
export function diffRibAt(desired: ReadonlyMap<string, Advertisement>, actual: ReadonlyMap<string, string>, prefixes: Iterable<string>): RibDiff {
  const add: Advertisement[] = [];
  const withdraw: string[] = [];
  for (const prefix of prefixes) {
    const a = desired.get(prefix);
    if (a && actual.get(prefix) !== a.nextHop) add.push(a);
    else if (!a && actual.has(prefix)) withdraw.push(prefix);
  }
  return { add, withdraw };
}
