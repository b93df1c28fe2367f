import { AlreadyExistsError, NotFoundError } from '@strata/errors';
import { securityGroupAggregate, type SecgroupCommand } from '@strata/contracts';
import { createdId, visible } from '@strata/service-kit';
import { findRule } from '../queries.js';
import { ruleFromInput, sameRule } from '../rules.js';
import type { GroupEntry, SecgroupState } from '../state.js';
import type { CommandContext, Decision, NewSecgroupEvent } from './types.js';

export function createRule(state: SecgroupState, cmd: SecgroupCommand<'rule.create'>, ctx: CommandContext): Decision {
  const group = visible(ctx.caller, 'security group', cmd.groupId, state.groups[cmd.groupId]);
  const id = createdId(ctx.caller, 'secgroup', 'security-group-rule');
  const holder = state.ruleGroup[id];
  if (holder !== undefined) {
    if (holder === group.id) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`security group rule ${id} already exists`);
  }
  const { groupId, description, ...input } = cmd;
  const rule = ruleFromInput(id, input);
  if (rule.remoteGroupId !== null) {
    const remote = state.groups[rule.remoteGroupId];
    // A group of another tenant is "not found", exactly like a missing one (also for admins: rules stay within a tenant).
    if (!remote || remote.tenant !== group.tenant) throw new NotFoundError('security group', rule.remoteGroupId);
  }
  const twin = group.rules.find((r) => sameRule(r, rule));
  if (twin) throw new AlreadyExistsError(`security group ${groupId} already has this rule: ${twin.id}`, { ruleId: twin.id });
  return groupEvent(group, id, { type: 'secgroup.RuleAdded', data: { groupId, rule, ...(description === '' ? {} : { description }) } });
}

/** By the rule's id alone, or within the group the caller names (then the rule must be that group's). */
export function deleteRule(state: SecgroupState, cmd: SecgroupCommand<'rule.delete'>, ctx: CommandContext): Decision {
  const group = cmd.groupId === undefined ? findRule(state, ctx.caller, cmd.ruleId).group : visible(ctx.caller, 'security group', cmd.groupId, state.groups[cmd.groupId]);
  if (!group.rules.some((r) => r.id === cmd.ruleId)) throw new NotFoundError(`rule of security group ${group.id}`, cmd.ruleId);
  return groupEvent(group, cmd.ruleId, { type: 'secgroup.RuleRemoved', data: { groupId: group.id, ruleId: cmd.ruleId } });
}

/** An event of an existing group, decided against the version it read. */
export function groupEvent(group: GroupEntry, resourceId: string, event: NewSecgroupEvent): Decision {
  return { kind: 'append', aggregate: securityGroupAggregate(group.id), expectedVersion: group.version, tenant: group.tenant, resourceId, event };
}
