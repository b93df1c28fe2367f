/** A hypervisor's agent as an admin sees it: registration, the log's liveness decision, and what its agent last said. Pure. */
import type { HypervisorStatusView } from '@strata/contracts';
import type { Observation } from './agents.js';
import type { StatusState } from './state.js';

export function hypervisorView(state: StatusState, hostId: string, o: Observation | undefined, viewPosition: number | null): HypervisorStatusView {
  const record = state.liveness[hostId];
  return {
    hostId,
    registered: hostId in state.hypervisors,
    alive: record?.alive ?? true,
    lastSeenAt: o ? new Date(o.heard.at).toISOString() : null,
    bootId: o?.heard.bootId ?? null,
    version: o?.heard.version ?? null,
    appliedPosition: o?.appliedPosition ?? null,
    viewPosition,
    error: o?.error ?? null,
    since: record?.since ?? null,
  };
}

/** Every host an admin may ask about: registered ones and those with a liveness history, sorted. */
export const knownHosts = (state: StatusState): string[] => [...new Set([...Object.keys(state.hypervisors), ...Object.keys(state.liveness)])].sort();

/** What a change publication compares: the view without what moves on every message (last seen, hostview's position). */
export const hypervisorChangeKey = (v: HypervisorStatusView): string =>
  JSON.stringify([v.registered, v.alive, v.bootId, v.version, v.appliedPosition, v.error, v.since]);
