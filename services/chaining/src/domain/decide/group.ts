/** Function groups: the functions that can serve one hop; active-standby groups have an active member. */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { functionGroupAggregate, type ChainingCommand } from '@strata/contracts';
import { createdId, owningTenant } from '@strata/service-kit';
import type { ChainingState } from '../state.js';
import { activation } from './active.js';
import { findGroup, firstRepeated, newVersion, ownedBy } from './lookup.js';
import type { CommandContext, Decision } from './types.js';

export function createGroup(s: ChainingState, cmd: ChainingCommand<'group.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'chaining', 'group');
  if (s.groups[id]) return { kind: 'done', resourceId: id };
  const repeated = firstRepeated(cmd.functionIds);
  if (repeated !== undefined) throw new ValidationError(`function ${repeated} is named twice; a group's functions are distinct`, { field: 'functionIds' });
  const members = cmd.functionIds.map((f) => ownedBy(ctx.caller, tenant, 'service function', f, s.functions[f]));
  const modes = new Set(members.map((f) => f.mode));
  if (modes.size > 1) {
    throw new ValidationError(`a group's functions serve one hop the same way: ${members.map((f) => `${f.id} is ${f.mode}`).join(', ')}`, { field: 'functionIds' });
  }
  return {
    kind: 'append',
    aggregate: functionGroupAggregate(id),
    expectedVersion: newVersion(s, 'group', id),
    tenant,
    resourceId: id,
    event: {
      type: 'chaining.FunctionGroupCreated',
      data: { groupId: id, name: cmd.name, functionIds: cmd.functionIds, selection: cmd.selection, fallback: cmd.fallback },
    },
  };
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
  return {
    kind: 'append',
    aggregate: functionGroupAggregate(g.id),
    expectedVersion: g.version,
    tenant: g.tenant,
    resourceId: g.id,
    event: { type: 'chaining.FunctionGroupDeleted', data: { groupId: g.id } },
  };
}
