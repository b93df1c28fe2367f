import { AlreadyExistsError, IllegalStateError, ValidationError } from '@strata/errors';
import { defaultSecurityGroupId, SecgroupRefusal, securityGroupAggregate, type SecgroupCommand } from '@strata/contracts';
import { changedFields, checkRevision, createdId, isEmpty, owningTenant, visible } from '@strata/service-kit';
import { DEFAULT_GROUP_DESCRIPTION, DEFAULT_GROUP_NAME, defaultRules, egressRules } from '../rules.js';
import { federationTagKey, type GroupEntry, type SecgroupState } from '../state.js';
import { groupEvent } from './rule.js';
import type { CommandContext, Decision } from './types.js';

/** How many blocking ports/groups an error message names before "and N more". */
const NAMED = 5;

/** `default` in any case is the default group's (people read "Default" as the default group; Neutron refuses it too). */
const reservedName = (name: string): boolean => name.toLowerCase() === DEFAULT_GROUP_NAME;

export function createGroup(state: SecgroupState, cmd: SecgroupCommand<'group.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'secgroup', 'security-group');
  const existing = state.groups[id];
  if (existing) {
    if (existing.tenant === tenant && !existing.isDefault) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`security group ${id} already exists`);
  }
  if (state.deletedGroups[id] !== undefined) throw new AlreadyExistsError(`security group ${id} existed and was deleted; send a new request id`);
  if (reservedName(cmd.name)) {
    throw new ValidationError(`the name ${cmd.name} is reserved for the tenant's default security group`, { field: 'name', reason: SecgroupRefusal.ReservedName });
  }
  if (cmd.federationTag !== undefined) checkTagFree(state, tenant, cmd.federationTag, id);
  return {
    kind: 'append',
    aggregate: securityGroupAggregate(id),
    expectedVersion: 0,
    tenant,
    resourceId: id,
    event: {
      type: 'secgroup.GroupCreated',
      data: {
        groupId: id,
        name: cmd.name,
        description: cmd.description,
        isDefault: false,
        rules: cmd.egressRules ? egressRules(id) : [],
        ...(cmd.federationTag !== undefined ? { federationTag: cmd.federationTag } : {}),
      },
    },
  };
}

/** `group.ensureDefault`: the caller's (an admin: the named tenant's) default group, created on first use. */
export function ensureDefault(state: SecgroupState, cmd: SecgroupCommand<'group.ensureDefault'>, ctx: CommandContext): Decision {
  return ensureDefaultGroup(state, owningTenant(ctx.caller, cmd.tenant));
}

/**
 * Rename a group or change its description. The default group keeps its
 * name (new ports find it by id, people by name); no other group may take it.
 */
export function updateGroup(state: SecgroupState, cmd: SecgroupCommand<'group.update'>, ctx: CommandContext): Decision {
  const group = visible(ctx.caller, 'security group', cmd.id, state.groups[cmd.id]);
  checkRevision('security group', group.id, cmd.expectedRevision, group.revision);
  const changes = changedFields(
    { name: group.name, description: group.description, federationTag: group.federationTag },
    { name: cmd.name, description: cmd.description, federationTag: cmd.federationTag },
  );
  if (isEmpty(changes)) return { kind: 'done', resourceId: group.id };
  if (changes.name !== undefined && group.isDefault) {
    throw new ValidationError(`security group ${group.id} is the default group of tenant ${group.tenant}: its name stays ${DEFAULT_GROUP_NAME}`, { field: 'name', reason: SecgroupRefusal.DefaultGroupName });
  }
  if (changes.name !== undefined && reservedName(changes.name)) {
    throw new ValidationError(`the name ${changes.name} is reserved for the tenant's default security group`, { field: 'name', reason: SecgroupRefusal.ReservedName });
  }
  if (changes.federationTag != null) checkTagFree(state, group.tenant, changes.federationTag, group.id);
  return groupEvent(group, group.id, { type: 'secgroup.GroupUpdated', data: { groupId: group.id, ...changes } });
}

/**
 * A federation tag names one group of a tenant in a zone: another zone's
 * members with it join exactly that group here (docs/architecture.md,
 * "Security groups across zones"). Another tenant's use of the same number
 * is unrelated and never named.
 */
function checkTagFree(state: SecgroupState, tenant: string, tag: number, groupId: string): void {
  const holder = state.federationTags[federationTagKey(tenant, tag)];
  if (holder !== undefined && holder !== groupId) {
    throw new AlreadyExistsError(`federation tag ${tag} is taken by security group ${describe(state.groups[holder], holder)}`, { field: 'federationTag', reason: SecgroupRefusal.FederationTagTaken });
  }
}

/**
 * A group can be deleted when no port is in it and no other group's rule
 * names it as remote group. A tenant's default group only by an admin (as
 * in Neutron: it is made again on the tenant's next use anyway), and only
 * when the tenant has no ports (a new port would join it at once).
 */
export function deleteGroup(state: SecgroupState, cmd: SecgroupCommand<'group.delete'>, ctx: CommandContext): Decision {
  const group = visible(ctx.caller, 'security group', cmd.id, state.groups[cmd.id]);
  if (group.isDefault && !ctx.caller.admin) {
    throw new IllegalStateError(`security group ${group.id} is the default group of tenant ${group.tenant}: only an admin may delete it`, {
      reason: SecgroupRefusal.DefaultGroup,
    });
  }
  const ports = state.tenantPorts[group.tenant] ?? 0;
  if (group.isDefault && ports > 0) {
    throw new IllegalStateError(`security group ${group.id} is the default group of tenant ${group.tenant}, which still has ${ports} port(s)`, { ports, reason: SecgroupRefusal.TenantHasPorts });
  }
  const members = Object.keys(state.members[group.id] ?? {}).sort();
  if (members.length > 0) {
    // Only the group's own tenant's ports are named (members of another tenant can only come from an old log).
    const own = members.filter((p) => state.ports[p]?.tenant === group.tenant);
    const others = members.length - own.length;
    const list = own.length > 0 ? `: ${named(own)}${others > 0 ? ` and ${others} other(s)` : ''}` : '';
    throw new IllegalStateError(`security group ${group.id} still has ${members.length} member port(s)${list}; set those ports' groups first`, {
      members: members.length,
      reason: SecgroupRefusal.Members,
    });
  }
  const referencing = [...new Set(Object.values(state.remoteRefs[group.id] ?? {}))].filter((g) => g !== group.id).sort();
  if (referencing.length > 0) {
    const names = referencing.map((g) => describe(state.groups[g], g));
    throw new IllegalStateError(`security group ${group.id} is the remote group of rules in security group(s) ${named(names)}; delete those rules first`, {
      groups: referencing,
      reason: SecgroupRefusal.RemoteGroup,
    });
  }
  return groupEvent(group, group.id, { type: 'secgroup.GroupDeleted', data: { groupId: group.id } });
}

/**
 * Create the tenant's default group unless it exists. Its id is derived from
 * the tenant and a recreation continues from the deleted aggregate's version,
 * so however many instances try at once, one creation gets through.
 */
export function ensureDefaultGroup(state: SecgroupState, tenant: string): Decision {
  const id = defaultSecurityGroupId(tenant);
  if (state.groups[id]) return { kind: 'done', resourceId: id };
  return {
    kind: 'append',
    aggregate: securityGroupAggregate(id),
    expectedVersion: state.deletedGroups[id] ?? 0,
    tenant,
    resourceId: id,
    event: {
      type: 'secgroup.GroupCreated',
      data: { groupId: id, name: DEFAULT_GROUP_NAME, description: DEFAULT_GROUP_DESCRIPTION, isDefault: true, rules: defaultRules(tenant, id) },
    },
  };
}

function describe(group: GroupEntry | undefined, id: string): string {
  return group?.name ? `${id} (${group.name})` : id;
}

function named(items: string[]): string {
  const shown = items.slice(0, NAMED).join(', ');
  return items.length > NAMED ? `${shown} and ${items.length - NAMED} more` : shown;
}
