/**
 * Recording what peers announce. The route observer (app/route-observer.ts)
 * reads the BGP engine's Adj-RIB-In; these pure functions turn that into the
 * target record per (peer, prefix) and decide the event that brings the log
 * there. Every gateway instance that sees the same announcements computes
 * the same targets, and the events carry ids derived from the decision (see
 * routeEventId), so a pair of gateways records each change once.
 */
import { bgpRouteAggregate, routeAggregateId, type RejectReason, type RouteStatus } from '@strata/contracts';
import { formatPrefix, parsePrefix } from '@strata/netaddr';
import type { Append } from '@strata/service-kit';
import { classify, type Announcement } from '../import-policy.js';
import type { Neighbour } from '../neighbours.js';
import type { BgpState, RouteEntry } from '../state.js';
import { SYSTEM_TENANT, type Decision, type NewBgpEvent } from './types.js';

export interface RouteTarget {
  peer: string;
  prefix: string;
  status: RouteStatus;
  nextHop: string;
  asPath: number[];
  reason: RejectReason | null;
  deviceId: string | null;
  /** The tenant owning the appliance's port: the event's tenant, so hostview gives the route to that tenant's port only. */
  tenant?: string;
}

/** routeAggregateId → the record it should have; null: withdrawn. */
export type Targets = Map<string, { peer: string; prefix: string; target: RouteTarget | null }>;

/**
 * Targets for one neighbour's announcements. `complete`: the announcements
 * are the peer's whole Adj-RIB-In of a settled session, so recorded routes
 * missing from it are withdrawn; otherwise only what is announced counts
 * (a session that just came up is still sending its table).
 */
export function observationTargets(state: BgpState, neighbour: Neighbour, announced: readonly Announcement[], complete: boolean): Targets {
  const out: Targets = new Map();
  const peer = neighbour.address;
  const set = (prefix: string, target: RouteTarget | null): void => void out.set(routeAggregateId(peer, prefix), { peer, prefix, target });
  const canonical = announced.map((a) => ({ ...a, prefix: formatPrefix(parsePrefix(a.prefix, false)) }));
  if (neighbour.kind === 'fabric') {
    for (const a of canonical) set(a.prefix, { peer, prefix: a.prefix, status: 'learned', nextHop: a.nextHop, asPath: a.asPath, reason: null, deviceId: null });
  } else {
    for (const v of classify(state, neighbour, canonical)) {
      const base = { peer, prefix: v.prefix, nextHop: v.nextHop, asPath: v.asPath, deviceId: neighbour.deviceId, tenant: neighbour.tenant };
      set(v.prefix, v.accepted ? { ...base, status: 'learned', reason: null } : { ...base, status: 'rejected', reason: v.reason });
    }
  }
  if (complete) {
    for (const r of Object.values(state.routes)) if (r.peer === peer && r.status !== null && !out.has(r.id)) set(r.prefix, null);
  }
  return out;
}

/** Recorded routes of peers that are no longer neighbours: withdrawn (the session is gone on purpose). */
export function orphanTargets(state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): Targets {
  const out: Targets = new Map();
  for (const r of Object.values(state.routes)) {
    if (r.status !== null && !neighbours.has(r.peer)) out.set(r.id, { peer: r.peer, prefix: r.prefix, target: null });
  }
  return out;
}

/** Do the record and the target differ (so an event is due)? */
export function differs(entry: RouteEntry | undefined, target: RouteTarget | null): boolean {
  if (target === null) return entry !== undefined && entry.status !== null;
  if (!entry || entry.status !== target.status) return true;
  return (
    entry.nextHop !== target.nextHop ||
    entry.reason !== target.reason ||
    entry.deviceId !== target.deviceId ||
    entry.asPath.length !== target.asPath.length ||
    entry.asPath.some((n, i) => n !== target.asPath[i])
  );
}

/** The event that brings one route's record to its target, or done. */
export function recordRoute(state: BgpState, peer: string, prefix: string, target: RouteTarget | null): Decision {
  const id = routeAggregateId(peer, prefix);
  const entry = state.routes[id];
  if (!differs(entry, target)) return { kind: 'done', resourceId: id };
  let event: NewBgpEvent;
  if (target === null) event = { type: 'bgp.RouteWithdrawn', data: { peer, prefix } };
  else {
    const data = { peer, prefix, nextHop: target.nextHop, asPath: target.asPath, deviceId: target.deviceId };
    event = target.status === 'learned' ? { type: 'bgp.RouteLearned', data } : { type: 'bgp.RouteRejected', data: { ...data, reason: target.reason ?? 'not-assigned' } };
  }
  return { kind: 'append', aggregate: bgpRouteAggregate(id), expectedVersion: entry?.version ?? 0, tenant: target?.tenant ?? SYSTEM_TENANT, resourceId: id, event };
}

/** Event id of an observation: the same decision on any instance gets the same id (JetStream keeps one). */
export const routeEventId = (d: Append<NewBgpEvent>): string => `${d.event.type}:${d.aggregate.type}.${d.aggregate.id}@${d.expectedVersion}`;
