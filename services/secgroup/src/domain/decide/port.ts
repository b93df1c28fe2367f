import { NotFoundError } from '@strata/errors';
import { portSecurityAggregate, type SecgroupCommand } from '@strata/contracts';
import { checkRevision, visible } from '@strata/service-kit';
import type { PortEntry, SecgroupState } from '../state.js';
import type { CommandContext, Decision, NewSecgroupEvent } from './types.js';

/** The port as IPAM describes it; another tenant's port is not found. */
export const findPort = (state: SecgroupState, ctx: CommandContext, portId: string): PortEntry =>
  visible(ctx.caller, 'port', portId, state.ports[portId]);

/** Replace a port's groups. Every group must exist and belong to the port's tenant. */
export function setPortGroups(state: SecgroupState, cmd: SecgroupCommand<'port.setGroups'>, ctx: CommandContext): Decision {
  const port = findPort(state, ctx, cmd.portId);
  checkRevision('port security of port', port.id, cmd.expectedRevision, revisionOf(state, port.id));
  const groupIds = [...new Set(cmd.groupIds)].sort();
  for (const id of groupIds) {
    const g = state.groups[id];
    if (!g || g.tenant !== port.tenant) throw new NotFoundError('security group', id);
  }
  const current = state.portSettings[port.id];
  if (current?.groupIds && !current.forgotten && current.groupIds.join() === groupIds.join()) return { kind: 'done', resourceId: port.id };
  return portEvent(state, port, { type: 'secgroup.PortGroupsSet', data: { portId: port.id, groupIds } });
}

export function setPortSecurity(state: SecgroupState, cmd: SecgroupCommand<'port.setSecurity'>, ctx: CommandContext): Decision {
  const port = findPort(state, ctx, cmd.portId);
  checkRevision('port security of port', port.id, cmd.expectedRevision, revisionOf(state, port.id));
  const current = state.portSettings[port.id];
  if ((current?.portSecurity ?? true) === cmd.enabled) return { kind: 'done', resourceId: port.id };
  return portEvent(state, port, { type: 'secgroup.PortSecuritySet', data: { portId: port.id, enabled: cmd.enabled } });
}

/** The revision the port's security view shows: 0 while its settings were never set (or were forgotten). */
function revisionOf(state: SecgroupState, portId: string): number {
  const s = state.portSettings[portId];
  return s && !s.forgotten ? s.revision : 0;
}

function portEvent(state: SecgroupState, port: PortEntry, event: NewSecgroupEvent): Decision {
  return {
    kind: 'append',
    aggregate: portSecurityAggregate(port.id),
    expectedVersion: state.portSettings[port.id]?.version ?? 0,
    tenant: port.tenant,
    resourceId: port.id,
    event,
  };
}
