/**
 * The status service's auditable resource: a hypervisor agent's liveness as
 * the service decided it (`hypervisor-liveness`, its own
 * `status.hypervisor.<host>` aggregate). Its view is the latest decision,
 * folded from that aggregate's events alone.
 */
import type { AuditKind } from '@strata/contracts';
import type { OwnedView } from '@strata/service-kit';
import { SYSTEM_TENANT } from './liveness.js';
import type { StatusState } from './state.js';

export function historyView(state: StatusState, kind: AuditKind, id: string): OwnedView | null {
  if (kind !== 'hypervisor-liveness') return null;
  const record = state.liveness[id];
  if (!record) return null;
  return { tenant: SYSTEM_TENANT, view: { hostId: id, alive: record.alive, since: record.since, bootId: record.bootId } };
}
