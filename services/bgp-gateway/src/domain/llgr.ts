/**
 * Long-lived graceful restart (RFC 9494) as the receiving zone sees it
 * (docs/architecture.md, "Failure domains"): a route reflector that lost a
 * zone's BGP speaker keeps reflecting that zone's routes with the well-known
 * community LLGR_STALE. Such a route is still the reflector's word for what
 * the zone had when its control plane went away, and that zone's data plane
 * still forwards with it (fail static): it is taken like any other route
 * (recorded if it was not yet, kept if it was; decide/federation.ts does not
 * look at it), only counted, so an operator sees which zone is away and how
 * much of it the others keep. The zone's return (its End-of-RIB) clears the
 * marks and withdraws what it no longer has; a zone away for longer than
 * the stale time it advertised is withdrawn by the reflector.
 */
import { evpnKey } from './evpn.js';
import type { ZoneRoute } from './decide/federation.js';
import { zoneOfVtep } from './federation.js';
import type { Federation } from './state.js';

/** LLGR_STALE, 65535:6 (RFC 9494 §5.1). */
export const LLGR_STALE = 0xffff0006;

/** Per remote zone (by name), how many of the routes the reflectors pass on are LLGR_STALE (a route seen through two reflectors counts once). */
export function staleRoutesByZone(f: Federation | null, routes: readonly ZoneRoute[]): Map<string, number> {
  const out = new Map<string, number>(f?.zones.map((z) => [z.name, 0]));
  if (!f) return out;
  const seen = new Set<string>();
  for (const { route, communities } of routes) {
    const key = evpnKey(route);
    if (!communities.includes(LLGR_STALE) || seen.has(key)) continue;
    seen.add(key);
    const zone = zoneOfVtep(f, route.type === 'mac-ip' ? route.nextHop : route.vtep);
    if (zone) out.set(zone.name, (out.get(zone.name) ?? 0) + 1);
  }
  return out;
}
