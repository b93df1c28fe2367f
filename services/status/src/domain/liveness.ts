/**
 * The one thing the status service decides: is a registered hypervisor's
 * agent alive? Decided from state (the latest decision in the log) and what
 * this instance heard, so it is idempotent: no event when the host already
 * is in the state the clock says. Appended against the host's aggregate
 * version, so of two instances deciding at once only one writes; the other
 * finds the decision in its state and decides nothing.
 *
 * Pure: the clock (`now`) and what was heard come in as arguments.
 */
import { hypervisorStatusAggregate, type statusEvents } from '@strata/contracts';
import type { Decision as GenericDecision } from '@strata/service-kit';
import type { StatusState } from './state.js';

type StatusEvent = ReturnType<typeof statusEvents.decode>;

/** An event a status decider may produce. */
export type NewStatusEvent = { [E in StatusEvent as E['type']]: { type: E['type']; data: E['data'] } }[StatusEvent['type']];
export type Decision = GenericDecision<NewStatusEvent>;

/** The last message (report or heartbeat) this instance received from a host's agent. */
export interface Heard {
  /** When it arrived, ms on the status service's clock. */
  at: number;
  bootId: string;
  version: string;
}

export interface LivenessInput {
  hostId: string;
  /** The last message heard from its agent, if any since this instance started. */
  heard: Heard | undefined;
  /**
   * Since when this instance has been watching the host (its start-up, or
   * when it first saw the host registered): a host never heard is given the
   * timeout from there, so a restarted status service marks no live host down.
   */
  watchedSince: number;
  now: number;
  timeoutMs: number;
}

/** System-wide decisions belong to no tenant. */
export const SYSTEM_TENANT = '_system';

export function decideLiveness(state: StatusState, i: LivenessInput): Decision {
  const done: Decision = { kind: 'done', resourceId: i.hostId };
  if (!(i.hostId in state.hypervisors)) return done;
  const record = state.liveness[i.hostId];
  const lastHeard = Math.max(i.heard?.at ?? 0, i.watchedSince);
  const silent = i.now - lastHeard >= i.timeoutMs;
  const base = { aggregate: hypervisorStatusAggregate(i.hostId), expectedVersion: record?.version ?? 0, tenant: SYSTEM_TENANT, resourceId: i.hostId } as const;
  // Never decided counts as alive: a host is presumed up until the clock says otherwise.
  const alive = record?.alive ?? true;
  if (silent && alive) {
    return {
      kind: 'append',
      ...base,
      event: {
        type: 'status.HypervisorAgentDown',
        data: {
          hostId: i.hostId,
          lastSeenAt: i.heard ? new Date(i.heard.at).toISOString() : '',
          timeoutMs: i.timeoutMs,
          bootId: i.heard?.bootId ?? record?.bootId ?? '',
        },
      },
    };
  }
  // Up again only on a message heard (not merely a watch that started recently).
  if (!silent && !alive && i.heard !== undefined && i.now - i.heard.at < i.timeoutMs) {
    return {
      kind: 'append',
      ...base,
      event: {
        type: 'status.HypervisorAgentUp',
        data: { hostId: i.hostId, bootId: i.heard.bootId, version: i.heard.version, restarted: record!.bootId !== '' && record!.bootId !== i.heard.bootId },
      },
    };
  }
  return done;
}

/** The event id of a liveness decision: the same for every instance deciding it against the same version (the log stores it once). */
export const livenessEventId = (d: { aggregate: { id: string }; expectedVersion: number; event: { type: string } }): string =>
  `status:${d.aggregate.id}:${d.event.type}:${d.expectedVersion}`;
