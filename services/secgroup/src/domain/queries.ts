/** Read side: state → the views queries answer with, scoped to what the caller may see. */
import type { Page, PortSecurityView, RuleView, SecgroupQuery, SecurityGroupRule, SecurityGroupView } from '@strata/contracts';
import { NotFoundError } from '@strata/errors';
import { canSee, page, visible } from '@strata/service-kit';
import type { Caller } from './decide/types.js';
import type { GroupEntry, PortSettings, SecgroupState } from './state.js';

export const ruleView = (r: SecurityGroupRule): RuleView => ({ ...r });

export const groupView = (g: GroupEntry): SecurityGroupView => ({
  id: g.id,
  tenant: g.tenant,
  name: g.name,
  description: g.description,
  isDefault: g.isDefault,
  rules: g.rules.map(ruleView),
  createdAt: g.createdAt,
  revision: g.revision,
});

export function getGroup(s: SecgroupState, c: Caller, q: SecgroupQuery<'group.get'>): SecurityGroupView {
  return groupView(visible(c, 'security group', q.id, s.groups[q.id]));
}

export function listGroups(s: SecgroupState, c: Caller, q: SecgroupQuery<'group.list'>): Page<SecurityGroupView> {
  return page(Object.values(s.groups).filter((g) => canSee(c, g.tenant)).map(groupView), q);
}

export function getRule(s: SecgroupState, c: Caller, ruleId: string): RuleView {
  const groupId = s.ruleGroup[ruleId];
  const group = groupId === undefined ? undefined : s.groups[groupId];
  const rule = group && canSee(c, group.tenant) ? group.rules.find((r) => r.id === ruleId) : undefined;
  if (!rule) throw new NotFoundError('security group rule', ruleId);
  return ruleView(rule);
}

/** A port's groups and port security; the port must exist in IPAM and be the caller's. */
export function getPortSecurity(s: SecgroupState, c: Caller, q: SecgroupQuery<'port.get'>): PortSecurityView {
  const port = visible(c, 'port', q.portId, s.ports[q.portId]);
  return portSecurityView(port.id, port.tenant, s.portSettings[port.id]);
}

/** The security of each named port the caller may see (unknown and invisible ports are left out, as status's `port.status` does). */
export function listPortSecurity(s: SecgroupState, c: Caller, q: SecgroupQuery<'port.list'>): { items: PortSecurityView[] } {
  const items: PortSecurityView[] = [];
  for (const portId of new Set(q.portIds)) {
    const port = s.ports[portId];
    if (port && canSee(c, port.tenant)) items.push(portSecurityView(port.id, port.tenant, s.portSettings[port.id]));
  }
  return { items };
}

/** A port's security view from its settings (none, or forgotten: the defaults a port starts with). */
export function portSecurityView(portId: string, tenant: string, settings: PortSettings | undefined): PortSecurityView {
  const live = settings && !settings.forgotten ? settings : undefined;
  return { portId, tenant, groupIds: [...(live?.groupIds ?? [])], portSecurity: live?.portSecurity ?? true, revision: live?.revision ?? 0 };
}
