/** Read side: state → the views queries answer with. Admin-only, like the commands. */
import type {
  AdvertisementView,
  ApplianceAssignmentView,
  BgpPeerGroupView,
  BgpPeerView,
  BgpQuery,
  BgpRouteView,
  BgpSettingsView,
  FederationView,
  Page,
} from '@strata/contracts';
import { NotFoundError } from '@strata/errors';
import { page, requireAdmin, type Caller } from '@strata/service-kit';
import { desiredAdvertisements } from './desired-table.js';
import type { BgpState, RouteEntry } from './state.js';

const READ = 'reading the BGP gateway';

export function getSettings(s: BgpState, c: Caller): BgpSettingsView {
  requireAdmin(c, READ);
  const v = s.config.settings;
  return { localAs: v?.localAs ?? null, routerId: v?.routerId ?? null, listenPort: v?.listenPort ?? 179 };
}

/** The federation configuration (`localZone` null: none). */
export function getFederation(s: BgpState, c: Caller): FederationView {
  requireAdmin(c, READ);
  const f = s.config.federation;
  const revision = s.config.federationRevision;
  if (!f) return { localZone: null, federationAs: null, routeReflectors: [], zones: [], revision };
  return { ...structuredClone(f), revision };
}

export function getPeer(s: BgpState, c: Caller, q: BgpQuery<'peer.get'>): BgpPeerView {
  requireAdmin(c, READ);
  const p = s.config.peers[q.id];
  if (!p) throw new NotFoundError('BGP peer', q.id);
  return { ...p };
}

export function listPeers(s: BgpState, c: Caller, q: BgpQuery<'peer.list'>): Page<BgpPeerView> {
  requireAdmin(c, READ);
  return page(Object.values(s.config.peers).map((p) => ({ ...p })), q);
}

export function getPeerGroup(s: BgpState, c: Caller, q: BgpQuery<'peergroup.get'>): BgpPeerGroupView {
  requireAdmin(c, READ);
  const g = s.config.groups[q.id];
  if (!g) throw new NotFoundError('BGP peer group', q.id);
  return { ...g };
}

export function listPeerGroups(s: BgpState, c: Caller, q: BgpQuery<'peergroup.list'>): Page<BgpPeerGroupView> {
  requireAdmin(c, READ);
  return page(Object.values(s.config.groups).map((g) => ({ ...g })), q);
}

export function getAssignment(s: BgpState, c: Caller, prefixId: string): ApplianceAssignmentView {
  requireAdmin(c, READ);
  const a = s.config.assignments[prefixId];
  if (!a) throw new NotFoundError('appliance assignment of application prefix', prefixId);
  return { ...a };
}

export function listAssignments(s: BgpState, c: Caller, q: BgpQuery<'appliance.list'>): Page<ApplianceAssignmentView> {
  requireAdmin(c, READ);
  const p = page(Object.values(s.config.assignments).map((a) => ({ ...a, id: a.prefixId })), q);
  return { items: p.items.map(({ id: _id, ...a }) => a), next: p.next };
}

const routeView = (r: RouteEntry & { status: NonNullable<RouteEntry['status']> }): BgpRouteView => ({
  id: r.id,
  peer: r.peer,
  prefix: r.prefix,
  nextHop: r.nextHop,
  asPath: [...r.asPath],
  status: r.status,
  reason: r.reason,
  deviceId: r.deviceId,
  since: r.since,
});

/** Routes peers announce now (learned or rejected); withdrawn ones are only in the log. */
export function listRoutes(s: BgpState, c: Caller, q: BgpQuery<'route.list'>): Page<BgpRouteView> {
  requireAdmin(c, READ);
  const live = Object.values(s.routes).filter((r): r is RouteEntry & { status: NonNullable<RouteEntry['status']> } => r.status !== null);
  return page(live.map(routeView), q);
}

/** The desired advertisements, paged by prefix. */
export function listAdvertisements(s: BgpState, c: Caller, q: BgpQuery<'advertisement.list'>): Page<AdvertisementView> {
  requireAdmin(c, READ);
  const p = page([...desiredAdvertisements(s).values()].map((a) => ({ ...a, id: a.prefix })), q);
  return { items: p.items.map(({ id: _id, ...a }) => a), next: p.next };
}
