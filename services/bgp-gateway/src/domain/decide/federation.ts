/**
 * What this zone takes from the others (docs/architecture.md, "Availability
 * zones"): the routes the route reflectors pass on, filtered, as the target
 * records of the physical fold (`bgp.PhysicalMacLearned` … with `deviceId`
 * `zone-<name>` and the route's own VTEP), decided by recordPhysical like a
 * switch's.
 *
 * A route is accepted only when, in this order:
 *   - its VTEP (a type 2's next hop, a type 3's originator, whose next hop
 *     must lie in the same zone) is inside one remote zone's VTEP prefixes:
 *     that is the zone it comes from (`unknown-origin`);
 *   - it carries that zone's origin community and no other zone's
 *     (`zone-mismatch`);
 *   - its VNI is the VNI of a federated network here (`not-federated`);
 *   - that VNI is this zone's own (allocated here, not a joined one) or in
 *     the sending zone's ranges: a third zone cannot announce a segment it
 *     does not share (`vni-not-owned`);
 *   - it carries no more group tags than a port can have groups
 *     (`too-many-tags`);
 *   - the sending zone has no more than its `maxRoutes` accepted routes (the
 *     first ones by key are kept, the rest refused: `max-routes`).
 * An accepted type 2 is recorded with its group tags (`groupTags`, the
 * large communities `<federationAs>:1:<tag>`): the tags of the local
 * network's tenant that hostview turns into group membership. A refused
 * route's tags are refused with it.
 * Routes carrying this zone's own origin community (a pair's other
 * gateway's, reflected back) are ignored, neither taken nor refused.
 */
import { evpnKey, type EvpnRoute, type LargeCommunity } from '../evpn.js';
import { federatedNetworks, groupTagsOf, inVniRanges, isZoneDeviceId, originCommunity, zoneDeviceId, zoneOfVtep } from '../federation.js';
import type { BgpState } from '../state.js';
import { recordId, type PhysicalRecord, type PhysicalTargets } from './physical.js';

export type FederationRejectReason = 'unknown-origin' | 'zone-mismatch' | 'not-federated' | 'vni-not-owned' | 'too-many-tags' | 'max-routes';

export interface RejectedZoneRoute {
  /** The remote zone the route's VTEP lies in; '' when none. */
  zone: string;
  /** evpnKey of the route. */
  key: string;
  vni: number;
  reason: FederationRejectReason;
}

/** What the route reflectors pass on, as read from their Adj-RIB-In: the route and its communities. */
export interface ZoneRoute {
  route: EvpnRoute;
  communities: number[];
  /** A type 2's group tags (`<federationAs>:1:<tag>`) and whatever else; absent: none. */
  largeCommunities?: LargeCommunity[];
}

/**
 * Targets for the routes of every established route-reflector session.
 * `complete`: they are the whole table of at least one settled session, so
 * recorded zone entries missing from it are withdrawn; otherwise (no session
 * up: fail static, keep what was learned) only what is announced counts.
 */
export function observeZones(state: BgpState, routes: readonly ZoneRoute[], complete: boolean): { targets: PhysicalTargets; rejected: RejectedZoneRoute[] } {
  const targets: PhysicalTargets = new Map();
  const rejected: RejectedZoneRoute[] = [];
  const f = state.config.federation;
  if (!f) return { targets, rejected };
  const networks = federatedNetworks(state);
  const own = originCommunity(f.federationAs, f.localZone.id);
  const origins = new Map(f.zones.map((z) => [originCommunity(f.federationAs, z.id), z.name]));
  /** zone → its accepted candidates by key (a route seen from two reflectors counts once). */
  const candidates = new Map<string, Map<string, PhysicalRecord>>();
  const seen = new Set<string>();

  for (const { route: r, communities, largeCommunities } of routes) {
    const key = evpnKey(r);
    if (communities.includes(own) || seen.has(key)) continue;
    seen.add(key);
    const vtep = r.type === 'mac-ip' ? r.nextHop : r.vtep;
    const zone = zoneOfVtep(f, vtep);
    const reject = (reason: FederationRejectReason): void => void rejected.push({ zone: zone?.name ?? '', key, vni: r.vni, reason });
    if (!zone) {
      reject('unknown-origin');
      continue;
    }
    const named = communities.filter((c) => origins.has(c)).map((c) => origins.get(c));
    if (named.length !== 1 || named[0] !== zone.name || (r.type === 'imet' && zoneOfVtep(f, r.nextHop)?.name !== zone.name)) {
      reject('zone-mismatch');
      continue;
    }
    const network = networks.get(r.vni);
    if (!network) {
      reject('not-federated');
      continue;
    }
    if (network.foreignVni && !inVniRanges(zone, r.vni)) {
      reject('vni-not-owned');
      continue;
    }
    const tags = r.type === 'mac-ip' ? groupTagsOf(f.federationAs, largeCommunities ?? []) : [];
    if (!tags) {
      reject('too-many-tags');
      continue;
    }
    const deviceId = zoneDeviceId(zone.name);
    const record: PhysicalRecord =
      r.type === 'mac-ip'
        ? { tenant: network.tenant, kind: 'mac', data: { deviceId, vni: r.vni, mac: r.mac, ...(r.ip ? { ip: r.ip } : {}), vtep, ...(tags.length > 0 ? { groupTags: tags } : {}) } }
        : { tenant: network.tenant, kind: 'vtep', data: { deviceId, vni: r.vni, vtep } };
    const mine = candidates.get(zone.name) ?? new Map<string, PhysicalRecord>();
    mine.set(key, record);
    candidates.set(zone.name, mine);
  }

  for (const [name, byKey] of candidates) {
    const limit = f.zones.find((z) => z.name === name)!.maxRoutes;
    [...byKey.keys()].sort().forEach((key, i) => {
      const record = byKey.get(key)!;
      if (i < limit) targets.set(recordId(record), { record, learned: true });
      else rejected.push({ zone: name, key, vni: record.data.vni, reason: 'max-routes' });
    });
  }
  if (complete) {
    for (const e of Object.values(state.physical)) if (e.learned && isZoneDeviceId(e.data.deviceId) && !targets.has(e.id)) targets.set(e.id, { record: e, learned: false });
  }
  return { targets, rejected };
}

/**
 * Learned zone records nothing supports any more, whatever the sessions say:
 * the federation is gone, the zone is no longer configured, or the VNI is no
 * longer a federated network's here. Withdrawn.
 */
export function orphanZones(state: BgpState): PhysicalTargets {
  const out: PhysicalTargets = new Map();
  const f = state.config.federation;
  const zones = new Set((f?.zones ?? []).map((z) => zoneDeviceId(z.name)));
  const networks = federatedNetworks(state);
  for (const e of Object.values(state.physical)) {
    if (!e.learned || !isZoneDeviceId(e.data.deviceId)) continue;
    if (!zones.has(e.data.deviceId) || !networks.has(e.data.vni)) out.set(e.id, { record: e, learned: false });
  }
  return out;
}
