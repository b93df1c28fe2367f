/**
 * "Applied on n of m" and the write barrier, derived on demand (never
 * stored) from hostview's positions and the agents' progress. Pure.
 *
 * A resource is applied on host h when h's agent is alive and its applied
 * position is at least the position of the latest change of the resource's
 * keys on h. A dead host is never "applied" (its kernel may still hold the
 * state, but nobody can say it still does); it is listed behind, with why.
 */
import type { BarrierView, HostBehind, RealisationView, RealisedKind } from '@strata/contracts';
import type { AgentState } from './agents.js';

/** A host holding something, and the position its agent must have applied. */
export interface Holder {
  hostId: string;
  position: number;
}

/** Why host h has not applied `position`; undefined: it has. */
export function behindReason(agent: AgentState, position: number): string | undefined {
  if (!agent.registered) return `${agent.hostId} is not a registered hypervisor`;
  if (!agent.alive) return `agent on ${agent.hostId} down since ${agent.since ?? 'start-up'}`;
  if (agent.appliedPosition === null) {
    if (agent.error !== null) return `agent on ${agent.hostId} has applied no view: ${agent.error}`;
    return agent.heard ? `agent on ${agent.hostId} has applied no view yet` : `agent on ${agent.hostId} not heard yet`;
  }
  if (agent.appliedPosition >= position) return undefined;
  const progress = `agent on ${agent.hostId} applied ${agent.appliedPosition} of ${position}`;
  return agent.error === null ? progress : `${progress}; last apply failed: ${agent.error}`;
}

function behindOf(holders: readonly Holder[], agentOf: (hostId: string) => AgentState): HostBehind[] {
  const behind: HostBehind[] = [];
  for (const h of [...holders].sort((a, b) => a.hostId.localeCompare(b.hostId))) {
    const agent = agentOf(h.hostId);
    const reason = behindReason(agent, h.position);
    if (reason !== undefined) behind.push({ hostId: h.hostId, position: h.position, appliedPosition: agent.appliedPosition, reason });
  }
  return behind;
}

/** A resource's realisation on the hosts holding it, at hostview's position `seq`. */
export function realisation(kind: RealisedKind, id: string, holders: readonly Holder[], agentOf: (hostId: string) => AgentState, seq: number): RealisationView {
  const behind = behindOf(holders, agentOf);
  const applied = holders.length - behind.length;
  return { kind, id, hosts: holders.length, applied, behind, realised: behind.length === 0, seq };
}

/**
 * Everything up to log position N is realised when every host with a view
 * has applied min(N, S_h), S_h its view's latest change (hostview having
 * reached N): if S_h < N no event in (S_h, N] changed h's view, so its view
 * at S_h is its view at N.
 */
export function barrier(position: number, hosts: readonly Holder[], agentOf: (hostId: string) => AgentState): BarrierView {
  const required = hosts.map((h) => ({ hostId: h.hostId, position: Math.min(position, h.position) }));
  const behind = behindOf(required, agentOf);
  return { position, realised: behind.length === 0, behind, hosts: hosts.length };
}
