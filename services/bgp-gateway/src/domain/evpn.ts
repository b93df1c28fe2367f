/**
 * EVPN towards hardware VTEPs (`evpn` gateway devices): what the gateway
 * advertises to the switches, as a pure function of the state, and what
 * the reconciler must change in the engine to get there.
 *
 * For every network bound on an `evpn` device (a gateway binding), with the
 * network's VNI:
 *
 *   type 2 (MAC/IP)  per bound port of the network: its MAC with each fixed
 *                    IP (a MAC-only route for a port without one), next hop
 *                    the VTEP of the port's hypervisor
 *   type 3 (IMET)    per hypervisor with bound ports on the network: its
 *                    VTEP, so the switch floods the segment's broadcast and
 *                    unknown unicast to it
 *
 * Each route carries the route target `<device AS>:<VNI>` of every `evpn`
 * device binding the network: what FRR (and Cumulus) derive by themselves
 * for a VNI under `advertise-all-vni`, so the switch imports it without any
 * per-VNI configuration; and what the export policy matches to give a
 * device only the routes of networks bound on it (gobgp/engine-config.ts).
 * The route distinguisher is Strata's, one per VNI (strataRd).
 *
 * A port moving to another host changes its type-2 next hop (an add
 * replaces the path) and the type-3 set; a port unbound or deleted, and
 * every route of a VNI whose last binding goes, is withdrawn.
 */
import type { BgpState } from './state.js';

/**
 * A route target `asn:value`: what FRR derives as `<its AS>:<VNI>` (a
 * two-octet AS with a four-octet value). For a four-octet AS the value is
 * the VNI modulo 2^16 (gobgp/evpn.ts).
 */
export interface RouteTarget {
  asn: number;
  value: number;
}

export const routeTargetText = (rt: RouteTarget): string => `${rt.asn}:${rt.value}`;

/** What Strata originates or learns, in family l2vpn-evpn. */
export type EvpnRoute = MacIpRoute | ImetRoute;

export interface MacIpRoute {
  type: 'mac-ip';
  /** Route distinguisher as text (`asn:n` or `a.b.c.d:n`). */
  rd: string;
  vni: number;
  /** Lower-case, colon-separated. */
  mac: string;
  /** '' for a MAC-only route. */
  ip: string;
  /** The VTEP behind which the MAC sits. */
  nextHop: string;
}

export interface ImetRoute {
  type: 'imet';
  rd: string;
  vni: number;
  /** Originator: the VTEP that wants the VNI's broadcast, unknown unicast and multicast. */
  vtep: string;
  nextHop: string;
}

/**
 * The key of a route in the RIB: what one BGP speaker holds one best path for
 * (the NLRI). The VNI and next hop are attributes: a path with a new next hop
 * replaces the old one.
 */
export function evpnKey(r: EvpnRoute): string {
  return r.type === 'mac-ip' ? `2:${r.rd}:${r.mac}:${r.ip}` : `3:${r.rd}:${r.vtep}`;
}

/**
 * The route distinguisher Strata's routes for `vni` carry: `<local AS>:<VNI>`
 * (type 0) while the AS fits two octets, else `<router id>:<VNI mod 2^16>`
 * (type 1). One per VNI, as a VTEP's RD is per EVI.
 */
export function strataRd(localAs: number, routerId: string, vni: number): string {
  return localAs <= 0xffff ? `${localAs}:${vni}` : `${routerId}:${vni & 0xffff}`;
}

/** The route target of a VNI for a switch of AS `asn` (a four-octet AS carries two octets of value). */
export const routeTarget = (asn: number, vni: number): RouteTarget => ({ asn, value: asn <= 0xffff ? vni : vni & 0xffff });

/** An RFC 8092 large community `<global>:<local1>:<local2>` (three unsigned 32-bit numbers). */
export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

export const largeCommunityText = (c: LargeCommunity): string => `${c.global}:${c.local1}:${c.local2}`;

/** A route Strata originates, with the route targets it carries. */
export interface EvpnAdvertisement {
  route: EvpnRoute;
  routeTargets: RouteTarget[];
  /**
   * Standard communities besides Strata's own (a federated route's origin
   * zone, domain/federation.ts). Not compared by diffEvpn: they follow from
   * the route targets, and a path read back from gobgpd need not carry them.
   */
  communities?: number[];
  /**
   * Large communities (a federated type 2's group tags, domain/federation.ts).
   * Compared by diffEvpn: a membership change replaces the path.
   */
  largeCommunities?: LargeCommunity[];
}

/** The evpn devices (with BGP) each VNI is bound on: VNI → device ids. */
export function evpnBindings(state: BgpState): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const { gatewayDevices, bindings } = state.fabric;
  for (const b of Object.values(bindings)) {
    const d = gatewayDevices[b.deviceId];
    if (d?.kind !== 'evpn' || !d.bgp) continue;
    const set = out.get(b.vni) ?? new Set<string>();
    set.add(b.deviceId);
    out.set(b.vni, set);
  }
  return out;
}

/** key (evpnKey) → advertisement. `routerId`: this instance's (the RD when the AS does not fit two octets). */
export function desiredEvpn(state: BgpState, routerId: string): Map<string, EvpnAdvertisement> {
  const out = new Map<string, EvpnAdvertisement>();
  const settings = state.config.settings;
  if (!settings) return out;
  const bound = evpnBindings(state);
  if (bound.size === 0) return out;
  const { hypervisors, networks, ports, gatewayDevices } = state.fabric;
  const vniOf = new Map<string, number>();
  for (const [id, n] of Object.entries(networks)) if (bound.has(n.vni)) vniOf.set(id, n.vni);
  const targets = (vni: number): RouteTarget[] =>
    [...new Set([...bound.get(vni)!].map((d) => gatewayDevices[d]!.bgp!.remoteAs))].sort((a, b) => a - b).map((asn) => routeTarget(asn, vni));
  const offer = (route: EvpnRoute): void => void out.set(evpnKey(route), { route, routeTargets: targets(route.vni) });
  for (const port of Object.values(ports)) {
    const vni = vniOf.get(port.networkId);
    const vtep = port.hostId === null ? undefined : hypervisors[port.hostId];
    if (vni === undefined || vtep === undefined) continue;
    const rd = strataRd(settings.localAs, routerId, vni);
    const mac = port.mac.toLowerCase();
    const ips = port.fixedIps.map((f) => f.ip);
    for (const ip of ips.length > 0 ? ips : ['']) offer({ type: 'mac-ip', rd, vni, mac, ip, nextHop: vtep });
    offer({ type: 'imet', rd, vni, vtep, nextHop: vtep });
  }
  return out;
}

/** What makes two advertisements of one key differ: next hop, VNI, route targets, large communities. */
const signature = (a: EvpnAdvertisement): string =>
  JSON.stringify([a.route.nextHop, a.route.vni, a.routeTargets.map((rt) => `${rt.asn}:${rt.value}`).sort(), (a.largeCommunities ?? []).map(largeCommunityText).sort()]);

export interface EvpnDiff {
  /** New keys and changed ones (an add replaces the engine's path). */
  add: EvpnAdvertisement[];
  withdraw: EvpnRoute[];
}

export function diffEvpn(desired: ReadonlyMap<string, EvpnAdvertisement>, actual: ReadonlyMap<string, EvpnAdvertisement>): EvpnDiff {
  const add: EvpnAdvertisement[] = [];
  const withdraw: EvpnRoute[] = [];
  for (const [key, a] of desired) {
    const now = actual.get(key);
    if (!now || signature(now) !== signature(a)) add.push(a);
  }
  for (const [key, a] of actual) if (!desired.has(key)) withdraw.push(a.route);
  return { add, withdraw };
}

/**
 * device id → the route targets its export policy statement matches:
 * `<device AS>:<VNI>` of each network bound on it, what its routes carry
 * (desiredEvpn). A device without bindings gets nothing.
 */
export function evpnExportTargets(state: BgpState): Map<string, RouteTarget[]> {
  const out = new Map<string, RouteTarget[]>();
  for (const [vni, devices] of evpnBindings(state)) {
    for (const d of devices) {
      const list = out.get(d) ?? [];
      list.push(routeTarget(state.fabric.gatewayDevices[d]!.bgp!.remoteAs, vni));
      out.set(d, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.value - b.value);
  return out;
}
