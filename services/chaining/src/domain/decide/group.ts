/** Function groups: the functions that can serve one hop; active-standby groups have an active member. */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { functionGroupAggregate, type ChainingCommand } from '@strata/contracts';
import { changedFields, checkRevision, createdId, isEmpty, owningTenant } from '@strata/service-kit';
import type { ChainingState, FunctionEntry, GroupEntry } from '../state.js';
import { activation } from './active.js';
import { requireHops } from './chain.js';
import { findGroup, firstRepeated, newVersion, ownedBy } from './lookup.js';
import { appendTo, type Caller, type CommandContext, type Decision } from './types.js';

export function createGroup(s: ChainingState, cmd: ChainingCommand<'group.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'chaining', 'group');
  if (s.groups[id]) return { kind: 'done', resourceId: id };
  groupMembers(s, ctx.caller, tenant, cmd.functionIds);
  return {
    kind: 'append',
    aggregate: functionGroupAggregate(id),
    expectedVersion: newVersion(s, 'group', id),
    tenant,
    resourceId: id,
    event: {
      type: 'chaining.FunctionGroupCreated',
      data: { groupId: id, name: cmd.name, description: cmd.description, functionIds: cmd.functionIds, selection: cmd.selection, fallback: cmd.fallback },
    },
  };
}

/** A group's functions as checked for creation and update: distinct, of the group's tenant, all of one mode. */
function groupMembers(s: ChainingState, caller: Caller, tenant: string, functionIds: readonly string[]): FunctionEntry[] {
  const repeated = firstRepeated(functionIds);
  if (repeated !== undefined) throw new ValidationError(`function ${repeated} is named twice; a group's functions are distinct`, { field: 'functionIds' });
  const members = functionIds.map((f) => ownedBy(caller, tenant, 'service function', f, s.functions[f]));
  const modes = new Set(members.map((f) => f.mode));
  if (modes.size > 1) {
    throw new ValidationError(`a group's functions serve one hop the same way: ${members.map((f) => `${f.id} is ${f.mode}`).join(', ')}`, { field: 'functionIds' });
  }
  return members;
}

/**
 * Name, description and members (networking-sfc's port pair group `set`).
 * New members are checked as at creation, and as a hop of every chain the
 * group is in (an L3 member needs legs on the chain's router). The active
 * member leaving is settled by the second step (`settleActiveMember`).
 */
export function updateGroup(s: ChainingState, cmd: ChainingCommand<'group.update'>, ctx: CommandContext): Decision {
  const g = findGroup(s, ctx.caller, cmd.id);
  checkRevision('function group', g.id, cmd.expectedRevision, g.revision);
  const changes = changedFields({ name: g.name, description: g.description, functionIds: g.functionIds }, cmd);
  if (isEmpty(changes)) return { kind: 'done', resourceId: g.id };
  if (changes.functionIds) {
    groupMembers(s, ctx.caller, g.tenant, changes.functionIds);
    // Only this hop changes: its new members must be realisable in every chain it is a hop of.
    const updated: GroupEntry = { ...g, functionIds: changes.functionIds };
    for (const chain of Object.values(s.chains)) if (chain.groupIds.includes(g.id)) requireHops(s, chain, [updated]);
  }
  return appendTo(functionGroupAggregate(g.id), g, { type: 'chaining.FunctionGroupUpdated', data: { groupId: g.id, ...changes } });
}

/**
 * group.update's second step: an active-standby group whose active member
 * is no longer a member moves to its first healthy member (`member-removed`);
 * one without an active member takes a healthy newcomer (`recovered`).
 */
export function settleActiveMember(s: ChainingState, groupId: string): Decision {
  const g = s.groups[groupId];
  const done: Decision = { kind: 'done', resourceId: groupId };
  if (!g || g.selection !== 'active-standby') return done;
  const first = g.functionIds.find((f) => s.functions[f]?.healthy === true) ?? null;
  if (g.activeFunctionId !== null && !g.functionIds.includes(g.activeFunctionId)) {
    return activation(g, first, 'member-removed', '', `active member ${g.activeFunctionId} was removed from the group`) ?? done;
  }
  if (g.activeFunctionId === null && first !== null) {
    return activation(g, first, 'recovered', '', `member ${first} joined the group while it had no active member`) ?? done;
  }
  return done;
}

/** group.create's second step: an active-standby group's first active member is its first healthy one (`initial`). */
export function activateNewGroup(s: ChainingState, groupId: string): Decision {
  const g = s.groups[groupId];
  if (!g || g.selection !== 'active-standby' || g.activeFunctionId !== null) return { kind: 'done', resourceId: groupId };
  const first = g.functionIds.find((f) => s.functions[f]?.healthy === true) ?? null;
  return activation(g, first, 'initial', '', 'first healthy member at creation') ?? { kind: 'done', resourceId: groupId };
}

export function deleteGroup(s: ChainingState, cmd: ChainingCommand<'group.delete'>, ctx: CommandContext): Decision {
  const g = findGroup(s, ctx.caller, cmd.id);
  const user = Object.values(s.chains)
    .filter((c) => c.groupIds.includes(g.id))
    .map((c) => c.id)
    .sort()[0];
  if (user !== undefined) throw new IllegalStateError(`function group ${g.id} is a hop of chain ${user}; delete the chain first`, { chainId: user });
  return appendTo(functionGroupAggregate(g.id), g, { type: 'chaining.FunctionGroupDeleted', data: { groupId: g.id } });
}
