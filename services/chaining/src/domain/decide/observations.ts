/**
 * Decisions from what agents observe (health reports) and what IPAM records
 * (a virtual IP's new owner after a gratuitous ARP). Each decider answers the
 * next event still needed, or "done": the shell runs it until done, so a
 * re-sent report or a second instance deciding the same thing writes nothing
 * more (and the executor's version check settles races).
 */
import { serviceFunctionAggregate, type HealthObservation, type IpamEvent } from '@strata/contracts';
import type { ChainingState, FunctionEntry, GroupEntry } from '../state.js';
import { activation } from './active.js';
import type { Decision } from './types.js';

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

/** A health report: record a change of health, then move the active member of each active-standby group it concerns. */
export function decideHealth(s: ChainingState, r: HealthReport): Decision {
  const done: Decision = { kind: 'done', resourceId: r.functionId };
  if (reportStanding(s, r) !== 'accepted') return done;
  const f = s.functions[r.functionId]!;
  if (f.healthy !== r.healthy) {
    return {
      kind: 'append',
      aggregate: serviceFunctionAggregate(f.id),
      expectedVersion: f.version,
      tenant: f.tenant,
      resourceId: f.id,
      event: {
        type: 'chaining.FunctionHealthChanged',
        data: { functionId: f.id, healthy: r.healthy, reason: r.healthy ? 'check-recovered' : 'check-failed', observedBy: r.reporter, detail: r.detail },
      },
    };
  }
  for (const g of groupsOf(s, f)) {
    if (!f.healthy && g.activeFunctionId === f.id) {
      const next = g.functionIds.find((m) => m !== f.id && s.functions[m]?.healthy === true) ?? null;
      const step = activation(g, next, 'health', r.reporter, `active member ${f.id} failed its health check: ${r.detail}`);
      if (step) return step;
    }
    if (f.healthy && g.activeFunctionId === null) {
      const step = activation(g, f.id, 'recovered', r.reporter, `member ${f.id} recovered while the group had no active member: ${r.detail}`);
      if (step) return step;
    }
  }
  return done;
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
