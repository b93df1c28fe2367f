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
 * lowest source id: the same answer on every instance.
 */
import type { AdvertisementKind } from '@strata/contracts';
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '@strata/netaddr';
import { isSuppressed } from './damping.js';
import { stillAssigned } from './import-policy.js';
import { desiredNeighbours } from './neighbours.js';
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

/** Without `live` (the advertisement query): what the log allows, damping and sessions aside. */
export function desiredAdvertisements(state: BgpState, live?: Liveness): Map<string, Advertisement> {
  const held = new Map<string, { a: Advertisement; order: string }>();
  /** `order` breaks ties within a kind (default: the source id). */
  const offer = (a: Advertisement, order = a.sourceId): void => {
    const h = held.get(a.prefix);
    if (!h || RANK[a.kind] < RANK[h.a.kind] || (RANK[a.kind] === RANK[h.a.kind] && order < h.order)) held.set(a.prefix, { a, order });
  };
  const neighbours = desiredNeighbours(state);
  const inScope = routedScope(state.fabric);
  const { hypervisors, hostIps, networks, subnets, ports, floatingIps } = state.fabric;
  const vtepOf = (portId: string): string | undefined => {
    const host = ports[portId]?.hostId;
    return host == null ? undefined : hypervisors[host];
  };

  for (const [id, fip] of Object.entries(floatingIps)) {
    const nextHop = vtepOf(fip.portId);
    if (nextHop && !fip.address.includes(':')) offer({ prefix: `${fip.address}/32`, nextHop, kind: 'floating-ip', sourceId: id });
  }

  // Routed networks: host routes, and the lowest hosting hypervisor per network for its subnets.
  const subnetHost = new Map<string, string>();
  for (const port of Object.values(ports)) {
    if (!networks[port.networkId]?.routed) continue;
    const nextHop = vtepOf(port.id);
    if (!nextHop || port.hostId === null) continue;
    // Routed subnets may overlap (neighbours.ts): an address two ports claim goes to the appliance neighbour
    // there, else to the earliest claim, never to whichever port id sorts first (issue 12, defect 2).
    for (const { ip, subnetId } of port.fixedIps) {
      if (!inScope(subnetId)) continue;
      const host = hostPrefix(ip);
      if (host === null) continue;
      const n = neighbours.get(ip);
      const order = n?.kind === 'appliance' && n.portId === port.id ? '' : `${String(port.createdSeq).padStart(16, '0')}:${port.id}`;
      offer({ prefix: host, nextHop, kind: 'host-route', sourceId: port.id }, order);
    }
    const current = subnetHost.get(port.networkId);
    if (current === undefined || port.hostId < current) subnetHost.set(port.networkId, port.hostId);
  }
  for (const [id, s] of Object.entries(subnets)) {
    if (!inScope(id)) continue;
    const host = subnetHost.get(s.networkId);
    const nextHop = host === undefined ? undefined : hypervisors[host];
    // Canonical text: the reconciler compares it with the prefixes gobgpd lists. Tenants' routed subnets may
    // be the same prefix: the earliest claim keeps it, as for host routes (not whichever subnet id sorts first).
    if (nextHop) offer({ prefix: formatPrefix(parsePrefix(s.cidr)), nextHop, kind: 'routed-subnet', sourceId: id }, `${String(s.createdSeq).padStart(16, '0')}:${id}`);
  }

  // Accepted appliance routes, while the appliance is still a neighbour and the prefix still assigned to it,
  // via the hypervisor hosting the appliance's port (as a host route to the appliance would be).
  for (const r of Object.values(state.routes)) {
    // IPv6 too (an appliance's /64): its next hop is still the IPv4 VTEP (gobgp/paths.ts).
    if (r.status !== 'learned' || r.deviceId === null) continue;
    const n = neighbours.get(r.peer);
    if (n?.kind !== 'appliance' || n.deviceId !== r.deviceId || !stillAssigned(state, n, r.prefix)) continue;
    if (live && (isSuppressed(r.damping, live.now) || !live.sessionUp(r.peer))) continue;
    const nextHop = vtepOf(n.portId);
    if (nextHop) offer({ prefix: r.prefix, nextHop, kind: 'application-prefix', sourceId: r.id });
  }

  for (const [hostId, hip] of Object.entries(hostIps)) {
    const nextHop = hypervisors[hostId];
    if (nextHop && !hip.includes(':')) offer({ prefix: `${hip}/32`, nextHop, kind: 'host-ip', sourceId: hostId });
  }
  return new Map([...held].map(([prefix, h]) => [prefix, h.a]));
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
