/**
 * Availability zones federated over MP-BGP EVPN (docs/architecture.md,
 * "Availability zones"): what this zone's gateway announces to the route
 * reflectors for its stretched (federated) networks, as a pure function of
 * the state, like desiredEvpn for switches.
 *
 * For every federated network, with the network's VNI:
 *
 *   type 2 (MAC/IP)  per port with a host: its MAC with each fixed IP (a
 *                    MAC-only route without one), next hop its hypervisor's
 *                    VTEP: the other zones' hypervisors send to it directly
 *   type 3 (IMET)    per hypervisor with ports of the network: its VTEP
 *
 * Every route carries the route target `<federationAs>:<VNI>` (the route
 * reflectors reflect by it, and each zone's export policy gives them only
 * these), the origin community `<federationAs>:<local zone id>` (a receiving
 * zone checks it names the zone the next hop lies in, and a zone ignores its
 * own routes coming back), and the RD `<local zone id>:<VNI>`: one per zone
 * and VNI, so two zones' routes of one segment are distinct paths at the
 * reflector.
 *
 * A type 2 of a port in tagged security groups also carries one large
 * community `<federationAs>:1:<tag>` per tag of its groups (RFC 8092; the
 * standard communities' halves are taken by the origin community): the
 * receiving zone makes the MAC/IP a member of its own groups with those tags
 * in the network's tenant (docs/architecture.md, "Security groups across
 * zones").
 */
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import type { RemoteZoneView } from '@strata/contracts';
import { MAX_GROUPS_PER_PORT } from '@strata/contracts';
import { evpnKey, largeCommunityText, routeTarget, type EvpnAdvertisement, type EvpnRoute, type LargeCommunity, type RouteTarget } from './evpn.js';
import type { BgpState, Federation, PortEntry } from './state.js';

/** The standard community `<federationAs>:<zone id>` naming a route's origin zone (both fit two octets). */
export const originCommunity = (federationAs: number, zoneId: number): number => ((federationAs << 16) | zoneId) >>> 0;

/** The large-community function (local data part 1) of a group tag: `<federationAs>:1:<tag>`. */
export const GROUP_TAG_FUNCTION = 1;

export const groupTagCommunity = (federationAs: number, tag: number): LargeCommunity => ({ global: federationAs, local1: GROUP_TAG_FUNCTION, local2: tag });

/** The federation tags of a port's groups (its own tenant's only), sorted, each once. */
export function portGroupTags(state: BgpState, portId: string, port: PortEntry): number[] {
  const tags = new Set<number>();
  for (const g of state.fabric.portGroups[portId] ?? []) {
    const t = state.fabric.taggedGroups[g];
    if (t && t.tenant === port.tenant) tags.add(t.tag);
  }
  return [...tags].sort((a, b) => a - b);
}

/**
 * The group tags a route's large communities carry in this federation
 * (`<federationAs>:1:<1–65535>`; other large communities are not ours),
 * sorted, each once; undefined when there are more than a port can have
 * groups (a zone cannot make a MAC a member of everything, nor fill the log).
 */
export function groupTagsOf(federationAs: number, communities: readonly LargeCommunity[]): number[] | undefined {
  const tags = new Set<number>();
  for (const c of communities) if (c.global === federationAs && c.local1 === GROUP_TAG_FUNCTION && c.local2 >= 1 && c.local2 <= 0xffff) tags.add(c.local2);
  return tags.size > MAX_GROUPS_PER_PORT ? undefined : [...tags].sort((a, b) => a - b);
}

/** The RD of a zone's routes for a VNI: type 0 with the zone's number as administrator and the VNI as value. */
export const zoneRd = (zoneId: number, vni: number): string => `${zoneId}:${vni}`;

/** The device id a remote zone's records carry (`bgp.Physical*`): `zone-<name>`, never an IPAM device's (those are UUIDs). */
export const zoneDeviceId = (zone: string): string => `zone-${zone}`;
export const isZoneDeviceId = (deviceId: string): boolean => deviceId.startsWith('zone-');

/** VNI → the federated network carrying it (one per VNI: IPAM refuses a VNI twice). */
export function federatedNetworks(state: BgpState): Map<number, { networkId: string; tenant: string; foreignVni: boolean }> {
  const out = new Map<number, { networkId: string; tenant: string; foreignVni: boolean }>();
  if (!state.config.federation) return out;
  for (const [networkId, n] of Object.entries(state.fabric.networks)) if (n.federated) out.set(n.vni, { networkId, tenant: n.tenant, foreignVni: n.foreignVni });
  return out;
}

/** key (evpnKey) → advertisement to the route reflectors; empty without settings or federation. */
export function desiredFederation(state: BgpState): Map<string, EvpnAdvertisement> {
  const out = new Map<string, EvpnAdvertisement>();
  const f = state.config.federation;
  if (!f || !state.config.settings) return out;
  const vniOf = new Map([...federatedNetworks(state)].map(([vni, n]) => [n.networkId, vni]));
  const communities = [originCommunity(f.federationAs, f.localZone.id)];
  const offer = (route: EvpnRoute, tags: LargeCommunity[] = []): void =>
    void out.set(evpnKey(route), { route, routeTargets: [routeTarget(f.federationAs, route.vni)], communities, ...(tags.length > 0 ? { largeCommunities: tags } : {}) });
  for (const [portId, port] of Object.entries(state.fabric.ports)) {
    const vni = vniOf.get(port.networkId);
    const vtep = port.hostId === null ? undefined : state.fabric.hypervisors[port.hostId];
    if (vni === undefined || vtep === undefined) continue;
    const rd = zoneRd(f.localZone.id, vni);
    const mac = port.mac.toLowerCase();
    const ips = port.fixedIps.map((x) => x.ip);
    const tags = portGroupTags(state, portId, port).map((t) => groupTagCommunity(f.federationAs, t));
    for (const ip of ips.length > 0 ? ips : ['']) offer({ type: 'mac-ip', rd, vni, mac, ip, nextHop: vtep }, tags);
    offer({ type: 'imet', rd, vni, vtep, nextHop: vtep });
  }
  return out;
}

/** The route targets the route reflectors' export statement matches: `<federationAs>:<VNI>` of every federated network. */
export function federationExportTargets(state: BgpState): RouteTarget[] {
  const f = state.config.federation;
  if (!f) return [];
  return [...federatedNetworks(state).keys()].sort((a, b) => a - b).map((vni) => routeTarget(f.federationAs, vni));
}

/**
 * Switch routes and federation routes in one table for the RIB reconciler.
 * A network both bound on a switch and federated has two RDs, so two paths
 * per MAC; were an RD ever shared, one path carries both route targets and
 * both sets of communities.
 */
export function mergeEvpn(a: ReadonlyMap<string, EvpnAdvertisement>, b: ReadonlyMap<string, EvpnAdvertisement>): Map<string, EvpnAdvertisement> {
  const out = new Map(a);
  for (const [key, adv] of b) {
    const there = out.get(key);
    if (!there) {
      out.set(key, adv);
      continue;
    }
    const rts = new Map([...there.routeTargets, ...adv.routeTargets].map((rt) => [`${rt.asn}:${rt.value}`, rt]));
    const communities = [...new Set([...(there.communities ?? []), ...(adv.communities ?? [])])];
    const large = new Map([...(there.largeCommunities ?? []), ...(adv.largeCommunities ?? [])].map((c) => [largeCommunityText(c), c]));
    out.set(key, { route: there.route, routeTargets: [...rts.values()], communities, ...(large.size > 0 ? { largeCommunities: [...large.values()] } : {}) });
  }
  return out;
}

/** The remote zone one of whose VTEP prefixes holds `address`, if any (the configuration keeps them disjoint). */
export function zoneOfVtep(f: Federation, address: string): RemoteZoneView | undefined {
  let a;
  try {
    a = parseAddress(address);
  } catch {
    return undefined;
  }
  return f.zones.find((z) => z.vtepPrefixes.some((p) => contains(parsePrefix(p), a)));
}

export const inVniRanges = (zone: RemoteZoneView, vni: number): boolean => zone.vniRanges.some((r) => r.min <= vni && vni <= r.max);
