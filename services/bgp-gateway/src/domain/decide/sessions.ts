/**
 * Session-down policy for an appliance whose session the BGP engine stopped
 * at its hard prefix limit (gobgpd: Idle(PfxCt), which it never leaves by
 * itself): the gateway records the fact (bgp.ApplianceSessionLimited, one
 * aggregate per gateway instance and appliance, written only by that
 * instance) and re-enables the neighbour after a backoff that doubles with
 * every trip within SESSION_LIMIT_MEMORY_MS of the previous one.
 */
import { bgpSessionAggregate, sessionLimitId } from '@strata/contracts';
import { SESSION_LIMIT_MEMORY_MS } from '../evolve.js';
import type { ApplianceNeighbour } from '../neighbours.js';
import type { BgpState } from '../state.js';
import { SYSTEM_TENANT, type Decision } from './types.js';

/** The longest wait before a limited session is re-enabled. */
export const MAX_LIMIT_RETRY_MS = 30 * 60_000;

/** Wait before re-enabling after a trip that follows `previousTrips` recent ones: base · 2^previousTrips, at most MAX_LIMIT_RETRY_MS. */
export const limitRetryMs = (previousTrips: number, baseMs: number): number => Math.min(MAX_LIMIT_RETRY_MS, baseMs * 2 ** Math.min(previousTrips, 30));

/** Trips of this gateway's session with `peer` that still count for the backoff at `now`. */
export function recentTrips(state: BgpState, gateway: string, peer: string, now: number): number {
  const e = state.sessionLimits[sessionLimitId(gateway, peer)];
  return e && now - Date.parse(e.at) < SESSION_LIMIT_MEMORY_MS ? e.trips : 0;
}

/** Record that `gateway`'s engine stopped the session with `appliance` at `limit` prefixes; the retry delay grows with recent trips. */
export function recordSessionLimit(state: BgpState, gateway: string, appliance: ApplianceNeighbour, limit: number, baseRetryMs: number, now: number): Decision {
  const id = sessionLimitId(gateway, appliance.address);
  const retryMs = limitRetryMs(recentTrips(state, gateway, appliance.address, now), baseRetryMs);
  return {
    kind: 'append',
    aggregate: bgpSessionAggregate(id),
    expectedVersion: state.sessionLimits[id]?.version ?? 0,
    tenant: SYSTEM_TENANT,
    resourceId: id,
    event: {
      type: 'bgp.ApplianceSessionLimited',
      data: { gateway, peer: appliance.address, deviceId: appliance.deviceId, limit, retryInSeconds: Math.ceil(retryMs / 1000) },
    },
  };
}
