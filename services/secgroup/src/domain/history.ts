/**
 * What secgroup's `history` answer shows of each of its audit kinds in a
 * state (libs/service-kit/src/history.ts folds the resource's aggregate with
 * `applyStored` from the empty state and takes this view after each event).
 *
 * Each view depends only on its own aggregate's events, so folding that
 * aggregate alone gives the view the full fold of the log gives:
 * - `security-group` (`secgroup.group.<id>`): the group with its rules, as
 *   `group.get` shows it; null once deleted. Nothing in it comes from another
 *   aggregate (the member and remote-group indexes are not part of it).
 * - `port-security` (`secgroup.port.<portId>`): the port's groups, its
 *   port-security flag and revision, as `port.get` shows them, with the tenant
 *   of the aggregate's events (the port's tenant: deciders write as it). Left
 *   out of the audit view: whether IPAM still has the port (`port.get` reads
 *   IPAM's port for that, and answers the defaults for a port secgroup never
 *   wrote about); so the view exists from the port's first secgroup event and
 *   is null once forgotten (IPAM deleted the port). A group id in `groupIds`
 *   is shown as set, whether or not that group still exists, as `port.get` does.
 */
import type { AuditKind } from '@strata/contracts';
import type { OwnedView } from '@strata/service-kit';
import { groupView, portSecurityView } from './queries.js';
import type { SecgroupState } from './state.js';

export function auditView(state: SecgroupState, kind: AuditKind, id: string): OwnedView | null {
  switch (kind) {
    case 'security-group': {
      const g = state.groups[id];
      return g ? { tenant: g.tenant, view: { ...groupView(g) } } : null;
    }
    case 'port-security': {
      const s = state.portSettings[id];
      return s && !s.forgotten ? { tenant: s.tenant, view: { ...portSecurityView(id, s.tenant, s) } } : null;
    }
    default:
      return null;
  }
}
