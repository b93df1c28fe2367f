/**
 * Recording what appliances announce. The gateway's observer (app/observer.ts)
 * follows the BGP engine's Adj-RIB-In; these pure functions turn one
 * appliance's announcements into the target record per (peer, prefix) and
 * decide the event that brings the log there.
 *
 * Only routes from appliance sessions that pass the import policy are
 * recorded: they are what the fabric is given and what hypervisors route to
 * the appliance. Routes from fabric peers (the border's default route, the
 * ToR's echoes of the gateways' own routes, AS-path loops) are not
 * observations of anything Strata owns and differ between the two gateways'
 * engines; rejected routes are an appliance's noise, counted and logged by
 * each instance (app/rejections.ts) but not written to the log forever.
 *
 * Every gateway instance that sees the same announcements computes the same
 * targets, and the events carry ids derived from the decision (routeEventId),
 * so a pair of gateways records each change once. Where the two instances
 * hear different things, the damping on each record (advanced from the log,
 * the same on both) bounds how often they can overwrite each other.
 */
import { bgpRouteAggregate, routeAggregateId, type RejectReason } from '@strata/contracts';
import { formatPrefix, parsePrefix } from '@strata/netaddr';
import type { Append } from '@strata/service-kit';
import { isSuppressed } from '../damping.js';
import { classify, type Announcement } from '../import-policy.js';
import type { ApplianceNeighbour, Neighbour } from '../neighbours.js';
import type { BgpState, RouteEntry } from '../state.js';
import { SYSTEM_TENANT, type Decision, type NewBgpEvent } from './types.js';

/** What the record of an accepted route should say. */
export interface RouteTarget {
  nextHop: string;
  asPath: number[];
  deviceId: string;
  /** The tenant owning the appliance's port: the event's tenant, so hostview gives the route to that tenant's port only. */
  tenant?: string;
}

/** routeAggregateId → the record it should have; null: withdrawn. */
export type Targets = Map<string, { peer: string; prefix: string; target: RouteTarget | null }>;

export interface RejectedRoute {
  peer: string;
  prefix: string;
  reason: RejectReason;
  deviceId: string;
}

export interface Observation {
  targets: Targets;
  /** Announced routes the import policy refuses (not recorded; the gateway counts and logs them). */
  rejected: RejectedRoute[];
}

/**
 * Targets for one appliance's announcements. `complete`: the announcements
 * are the peer's whole Adj-RIB-In of a settled session, so recorded routes
 * missing from it are withdrawn; otherwise only what is announced counts
 * (a session that just came up is still sending its table). A recorded
 * route the policy now refuses (unassigned, over the limit) is withdrawn.
 */
export function observeAppliance(state: BgpState, neighbour: ApplianceNeighbour, announced: readonly Announcement[], complete: boolean): Observation {
  const targets: Targets = new Map();
  const rejected: RejectedRoute[] = [];
  const peer = neighbour.address;
  const set = (prefix: string, target: RouteTarget | null): void => void targets.set(routeAggregateId(peer, prefix), { peer, prefix, target });
  const canonical = announced.map((a) => ({ ...a, prefix: formatPrefix(parsePrefix(a.prefix, false)) }));
  const refused = new Set<string>();
  for (const v of classify(state, neighbour, canonical)) {
    if (v.accepted) set(v.prefix, { nextHop: v.nextHop, asPath: v.asPath, deviceId: neighbour.deviceId, tenant: neighbour.tenant });
    else {
      refused.add(routeAggregateId(peer, v.prefix));
      rejected.push({ peer, prefix: v.prefix, reason: v.reason, deviceId: neighbour.deviceId });
    }
  }
  for (const r of Object.values(state.routes)) {
    if (r.peer !== peer || r.status === null || targets.has(r.id)) continue;
    if (complete || refused.has(r.id)) set(r.prefix, null);
  }
  return { targets, rejected };
}

/** Recorded routes of peers that are not appliance neighbours (any more): withdrawn (the session is gone on purpose, or it is a fabric peer whose routes are not recorded). */
export function orphanTargets(state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): Targets {
  const out: Targets = new Map();
  for (const r of Object.values(state.routes)) {
    if (r.status !== null && neighbours.get(r.peer)?.kind !== 'appliance') out.set(r.id, { peer: r.peer, prefix: r.prefix, target: null });
  }
  return out;
}

/** Do the record and the target differ (so an event is due)? */
export function differs(entry: RouteEntry | undefined, target: RouteTarget | null): boolean {
  if (target === null) return entry !== undefined && entry.status !== null;
  if (!entry || entry.status !== 'learned') return true;
  return (
    entry.nextHop !== target.nextHop ||
    entry.deviceId !== target.deviceId ||
    entry.asPath.length !== target.asPath.length ||
    entry.asPath.some((n, i) => n !== target.asPath[i])
  );
}

/**
 * The event that brings one route's record to its target, or done. A record
 * suppressed by damping at `now` stays as it is (and is not advertised):
 * the next change is recorded once it is reusable. `now` is ms since epoch;
 * `storedVersion`: the aggregate's version in the store, for a route the
 * state no longer holds (see evolve's forgetWithdrawn).
 */
export function recordRoute(state: BgpState, peer: string, prefix: string, target: RouteTarget | null, now: number, storedVersion = 0): Decision {
  const id = routeAggregateId(peer, prefix);
  const entry = state.routes[id];
  if (!differs(entry, target)) return { kind: 'done', resourceId: id };
  if (entry && isSuppressed(entry.damping, now) && entry.status !== 'rejected') return { kind: 'done', resourceId: id };
  const event: NewBgpEvent =
    target === null
      ? { type: 'bgp.RouteWithdrawn', data: { peer, prefix } }
      : { type: 'bgp.RouteLearned', data: { peer, prefix, nextHop: target.nextHop, asPath: target.asPath, deviceId: target.deviceId } };
  // A route the state has forgotten (withdrawn long ago) still has events: decide against the store's version of it.
  const tenant = target?.tenant ?? SYSTEM_TENANT;
  return { kind: 'append', aggregate: bgpRouteAggregate(id), expectedVersion: entry?.version ?? storedVersion, tenant, resourceId: id, event };
}

/** Event id of an observation: the same decision on any instance gets the same id (JetStream keeps one). */
export const routeEventId = (d: Append<NewBgpEvent>): string => `${d.event.type}:${d.aggregate.type}.${d.aggregate.id}@${d.expectedVersion}`;
