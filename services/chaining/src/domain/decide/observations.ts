/**
 * Decisions from what agents observe (health reports) and what IPAM records
 * (a virtual IP's new owner after a gratuitous ARP). Each decider answers the
 * next event still needed, or "done": the shell runs it until done, so a
 * re-sent report or a second instance deciding the same thing writes nothing
 * more (and the executor's version check settles races).
 */
import { serviceFunctionAggregate, type HealthObservation, type HealthReason, type IpamEvent } from '@strata/contracts';
import type { ChainingState, FunctionEntry, GroupEntry } from '../state.js';
import { activation } from './active.js';
import { appendTo, type Decision } from './types.js';

export interface HealthReport extends Pick<HealthObservation, 'functionId' | 'healthy' | 'detail'> {
  /** The host the report's subject names (`reporterOfSubject`): only it may speak for the function. */
  reporter: string;
}

export type ReportStanding = 'accepted' | 'unknown-function' | 'wrong-host';

/** A report counts only from the host the function's ingress port is bound to (per IPAM's events). */
export function reportStanding(s: ChainingState, r: Pick<HealthReport, 'functionId' | 'reporter'>): ReportStanding {
  const f = s.functions[r.functionId];
  if (!f) return 'unknown-function';
  const host = s.ports[f.ingressPortId]?.hostId ?? null;
  return host !== null && host === r.reporter ? 'accepted' : 'wrong-host';
}

const groupsOf = (s: ChainingState, f: FunctionEntry): GroupEntry[] =>
  Object.values(s.groups)
    .filter((g) => g.selection === 'active-standby' && g.functionIds.includes(f.id))
    .sort((a, b) => (a.id < b.id ? -1 : 1));

/** Is the port a leg that can carry traffic: IPAM's, and bound to a host? */
const usableLeg = (s: ChainingState, portId: string): boolean => (s.ports[portId]?.hostId ?? null) !== null;

/**
 * A health report: record a change of health, then move the active member of
 * each active-standby group it concerns. A report that a function with a leg
 * deleted or unbound is healthy is no recovery (its probe may still reach the
 * other leg); once the leg is bound again, the next report is.
 */
export function decideHealth(s: ChainingState, r: HealthReport): Decision {
  const done: Decision = { kind: 'done', resourceId: r.functionId };
  if (reportStanding(s, r) !== 'accepted') return done;
  const f = s.functions[r.functionId]!;
  const healthy = r.healthy && usableLeg(s, f.ingressPortId) && usableLeg(s, f.egressPortId);
  if (f.healthy !== healthy) {
    return healthChange(f, healthy, healthy ? 'check-recovered' : 'check-failed', r.reporter, r.detail);
  }
  return failover(s, f, r.reporter, r.detail) ?? done;
}

/**
 * IPAM deleted a port or unbound it from its host (the reactor decides
 * against the state after the event, so a port bound again since counts as
 * bound): each function with it as a leg becomes unhealthy (`port-unbound`),
 * then its groups fail over exactly as for a failed health check. A port
 * moved to another host is neither and changes nothing here (its new host's
 * agent runs the check from then on).
 */
export function decideLegLost(s: ChainingState, portId: string): Decision {
  if (usableLeg(s, portId)) return { kind: 'done', resourceId: portId };
  const what = s.ports[portId] === undefined ? 'deleted' : 'unbound from its host';
  const functions = Object.values(s.functions)
    .filter((f) => f.ingressPortId === portId || f.egressPortId === portId)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const f of functions) {
    const detail = `its ${f.ingressPortId === portId ? 'ingress' : 'egress'} port ${portId} was ${what}`;
    if (f.healthy) return healthChange(f, false, 'port-unbound', '', detail);
    const step = failover(s, f, '', detail);
    if (step) return step;
  }
  return { kind: 'done', resourceId: portId };
}

function healthChange(f: FunctionEntry, healthy: boolean, reason: (typeof HealthReason)[number], observedBy: string, detail: string): Decision {
  return appendTo(serviceFunctionAggregate(f.id), f, { type: 'chaining.FunctionHealthChanged', data: { functionId: f.id, healthy, reason, observedBy, detail } });
}

/** The next activation the function's health calls for in one of its active-standby groups, or undefined when none. */
function failover(s: ChainingState, f: FunctionEntry, observedBy: string, detail: string): Decision | undefined {
  for (const g of groupsOf(s, f)) {
    if (!f.healthy && g.activeFunctionId === f.id) {
      const next = g.functionIds.find((m) => m !== f.id && s.functions[m]?.healthy === true) ?? null;
      const step = activation(g, next, 'health', observedBy, `active member ${f.id} is unhealthy: ${detail}`);
      if (step) return step;
    }
    if (f.healthy && g.activeFunctionId === null) {
      const step = activation(g, f.id, 'recovered', observedBy, `member ${f.id} recovered while the group had no active member: ${detail}`);
      if (step) return step;
    }
  }
  return undefined;
}

/** IPAM's record that `ip` (canonical)'s owner is now `portId` (its gratuitous ARP, seen by `observedBy`): `ipam.AddressPairOwnerChanged`. */
export type AddressOwner = Pick<Extract<IpamEvent, { type: 'ipam.AddressPairOwnerChanged' }>['data'], 'portId' | 'ip' | 'mac' | 'observedBy'>;

/** The member whose virtual IP moved to one of its legs becomes its group's active member (`garp`), unless it is unhealthy. */
export function decideAddressOwner(s: ChainingState, o: AddressOwner): Decision {
  const groups = Object.values(s.groups)
    .filter((g) => g.selection === 'active-standby')
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const g of groups) {
    for (const fid of g.functionIds) {
      const f = s.functions[fid];
      if (!f || !f.healthy || f.virtualIp !== o.ip || (f.ingressPortId !== o.portId && f.egressPortId !== o.portId)) continue;
      const step = activation(g, f.id, 'garp', o.observedBy, `gratuitous ARP for ${o.ip} from ${o.mac} on port ${o.portId}`);
      if (step) return step;
    }
  }
  return { kind: 'done', resourceId: o.portId };
}
