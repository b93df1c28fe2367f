/**
 * Who the gateway's BGP engine should have a session with: the configured
 * fabric peers, and one explicit neighbour per appliance address. gobgpd
 * does no TCP-MD5 on dynamic neighbours (listen ranges), so Strata expands
 * the range itself from what IPAM knows.
 *
 * An appliance neighbour is a PORT, never a device-id string or an address
 * alone: a bound port (it has a host) of a routed network (only those
 * addresses are unique in, and reachable from, the fabric) with an IPv4
 * address inside a peer group's listen range. It carries the tenant that
 * owns the port's network; the import policy gives it only prefixes assigned
 * to its device id BY THAT TENANT (entitlement.ts), and its TCP-MD5 key is
 * derived for that tenant and device (app/secrets.ts). So another tenant's
 * port with the same device id is a neighbour with nothing to announce and a
 * key it does not know.
 *
 * Routed subnets may overlap (one tenant's networks; other tenants' only in a
 * log from before IPAM refused that), so two ports may claim one address.
 * The address is then the neighbour of ONE port, decided so that an
 * appliance is never displaced (issue 12, defect 2):
 *   1. a port entitled to prefixes (its tenant assigned some to its device)
 *      wins over one that is not;
 *   2. then the earliest claim (the stream position of the port's creation)
 *      holds: a newcomer never moves an existing appliance's session;
 *   3. then the lower port id (same position: same event, cannot happen).
 * The losing port is not a neighbour at all; the conflict is visible in the
 * gateway's log (`conflicts`).
 */
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import { isEntitled } from './entitlement.js';
import type { BgpState, PeerGroupEntry, PortEntry } from './state.js';

export interface FabricNeighbour {
  kind: 'fabric';
  address: string;
  remoteAs: number;
  passwordRef: string | null;
  peerId: string;
}

export interface ApplianceNeighbour {
  kind: 'appliance';
  address: string;
  remoteAs: number;
  passwordRef: string | null;
  groupId: string;
  portId: string;
  /** The tenant owning the port's network: only its assignments count for this neighbour. */
  tenant: string;
  deviceId: string;
  maxPrefixes: number;
  sendDefault: boolean;
}

/** An `evpn` gateway device (a switch speaking BGP EVPN): peered in l2vpn-evpn at its BGP address with its AS. */
export interface EvpnNeighbour {
  kind: 'evpn';
  address: string;
  remoteAs: number;
  /** No TCP-MD5 (the device model has no secret reference yet). */
  passwordRef: null;
  deviceId: string;
}

/**
 * A route reflector of the zone's federation (docs/architecture.md,
 * "Availability zones"): IBGP in the federation's AS (gobgpd's `local_asn`
 * for this session, whatever the gateway's own AS), l2vpn-evpn only, TCP-MD5
 * like a fabric peer's.
 */
export interface ReflectorNeighbour {
  kind: 'reflector';
  address: string;
  /** The federation's AS: the reflector's and, on this session, the gateway's. */
  remoteAs: number;
  passwordRef: string | null;
}

export type Neighbour = FabricNeighbour | ApplianceNeighbour | EvpnNeighbour | ReflectorNeighbour;

/** Ports that claimed an address another port holds as a neighbour: address → the losing port ids. */
export type NeighbourConflicts = Map<string, string[]>;

/** Address → neighbour. Deterministic: the same answer on every instance and after any replay. */
export function desiredNeighbours(state: BgpState, conflicts?: NeighbourConflicts): Map<string, Neighbour> {
  const out = new Map<string, Neighbour>();
  for (const p of Object.values(state.config.peers)) {
    out.set(p.address, { kind: 'fabric', address: p.address, remoteAs: p.remoteAs, passwordRef: p.passwordRef, peerId: p.id });
  }
  // Route reflectors after the fabric peers (federation.set refuses a fabric peer's address; a peer created later keeps it).
  const federation = state.config.federation;
  for (const r of federation?.routeReflectors ?? []) {
    if (!out.has(r.address)) out.set(r.address, { kind: 'reflector', address: r.address, remoteAs: federation!.federationAs, passwordRef: r.passwordRef });
  }
  // Switches after the fabric peers (a fabric peer keeps its address), before appliances (a switch is never a VM port).
  for (const [deviceId, d] of Object.entries(state.fabric.gatewayDevices).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (d.kind !== 'evpn' || !d.bgp || out.has(d.bgp.address)) continue;
    out.set(d.bgp.address, { kind: 'evpn', address: d.bgp.address, remoteAs: d.bgp.remoteAs, passwordRef: null, deviceId });
  }
  const groups = Object.values(state.config.groups)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((g) => ({ g, range: parsePrefix(g.listenRange) }));
  if (groups.length === 0) return out;
  const { networks, ports } = state.fabric;
  const claims = new Map<string, ApplianceNeighbour[]>();
  for (const port of Object.values(ports)) {
    const network = networks[port.networkId];
    if (port.hostId === null || !network?.routed) continue;
    for (const { ip } of port.fixedIps) {
      if (out.has(ip) || ip.includes(':')) continue;
      const group = groupFor(groups, ip);
      if (!group) continue;
      const list = claims.get(ip) ?? [];
      list.push(applianceOf(group, ip, port, network.tenant));
      claims.set(ip, list);
    }
  }
  for (const [ip, list] of claims) {
    const ranked = list
      .map((n) => ({ n, entitled: isEntitled(state, n.tenant, n.deviceId), claim: claimOf(ports[n.portId]!) }))
      .sort((a, b) => Number(b.entitled) - Number(a.entitled) || a.claim - b.claim || (a.n.portId < b.n.portId ? -1 : 1));
    out.set(ip, ranked[0]!.n);
    if (ranked.length > 1) conflicts?.set(ip, ranked.slice(1).map((r) => r.n.portId));
  }
  return out;
}

const claimOf = (p: PortEntry): number => p.createdSeq;

function groupFor(groups: { g: PeerGroupEntry; range: ReturnType<typeof parsePrefix> }[], ip: string): PeerGroupEntry | undefined {
  const a = parseAddress(ip);
  return groups.find(({ range }) => range.version === a.version && contains(range, a))?.g;
}

function applianceOf(g: PeerGroupEntry, address: string, port: PortEntry, tenant: string): ApplianceNeighbour {
  return {
    kind: 'appliance',
    address,
    remoteAs: g.remoteAs,
    passwordRef: g.passwordRef,
    groupId: g.id,
    portId: port.id,
    tenant,
    deviceId: port.deviceId,
    maxPrefixes: g.maxPrefixes,
    sendDefault: g.sendDefault,
  };
}

/** Sessions that carry only l2vpn-evpn, whose routes the gateway reads from their Adj-RIB-In: switches and route reflectors. */
export const isEvpnOnly = (n: Neighbour): n is EvpnNeighbour | ReflectorNeighbour => n.kind === 'evpn' || n.kind === 'reflector';
