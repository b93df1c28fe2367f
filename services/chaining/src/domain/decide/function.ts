/** Service functions: an appliance's legs (ports of the function's tenant), mode, virtual IP and health check. */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { pairContains, serviceFunctionAggregate, type ChainingCommand, type HealthCheck } from '@strata/contracts';
import { changedFields, checkRevision, createdId, isEmpty, owningTenant } from '@strata/service-kit';
import type { ChainingState } from '../state.js';
import { findFunction, newVersion, portOf } from './lookup.js';
import { appendTo, type CommandContext, type Decision } from './types.js';

export function createFunction(s: ChainingState, cmd: ChainingCommand<'function.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'chaining', 'function');
  if (s.functions[id]) return { kind: 'done', resourceId: id };
  const ingress = portOf(s, ctx.caller, tenant, cmd.ingressPortId);
  const egress = cmd.egressPortId === undefined ? ingress : portOf(s, ctx.caller, tenant, cmd.egressPortId);
  if (cmd.mode === 'wire' && egress.id === ingress.id) {
    throw new ValidationError('a wire (bump-in-the-wire) function needs two legs: give an egressPortId other than the ingress port', { field: 'egressPortId' });
  }
  const pairs = ingress.allowedAddressPairs ?? [];
  // Any pair's MAC will do: which leg's MAC the VIP is answered with is the owner's business (IPAM), not the function's.
  if (cmd.virtualIp !== undefined && !pairs.some((p) => pairContains(p, cmd.virtualIp!))) {
    throw new ValidationError(
      `virtualIp ${cmd.virtualIp} is not an allowed address pair of ingress port ${ingress.id} (its pairs: ${pairs.length ? pairs.map((p) => p.ipAddress).join(', ') : 'none'}); add the pair to the port first`,
      { field: 'virtualIp' },
    );
  }
  return {
    kind: 'append',
    aggregate: serviceFunctionAggregate(id),
    expectedVersion: newVersion(s, 'function', id),
    tenant,
    resourceId: id,
    event: {
      type: 'chaining.ServiceFunctionCreated',
      data: {
        functionId: id,
        name: cmd.name,
        description: cmd.description,
        ingressPortId: ingress.id,
        egressPortId: egress.id,
        mode: cmd.mode,
        virtualIp: cmd.virtualIp ?? null,
        healthCheck: cmd.healthCheck === undefined ? null : healthCheck(cmd.healthCheck),
      },
    },
  };
}

/** Name, description and health check; the legs, mode and virtual IP are fixed (refused by the request schema). */
export function updateFunction(s: ChainingState, cmd: ChainingCommand<'function.update'>, ctx: CommandContext): Decision {
  const f = findFunction(s, ctx.caller, cmd.id);
  checkRevision('service function', f.id, cmd.expectedRevision, f.revision);
  const check = cmd.healthCheck === undefined ? undefined : cmd.healthCheck === null ? null : healthCheck(cmd.healthCheck);
  const changes = changedFields({ name: f.name, description: f.description, healthCheck: f.healthCheck }, { name: cmd.name, description: cmd.description, healthCheck: check });
  if (isEmpty(changes)) return { kind: 'done', resourceId: f.id };
  return appendTo(serviceFunctionAggregate(f.id), f, { type: 'chaining.ServiceFunctionUpdated', data: { functionId: f.id, ...changes } });
}

/** The check as recorded: tcp names the port it connects to, icmp none; one probe at a time (timeout ≤ interval). */
function healthCheck(h: NonNullable<ChainingCommand<'function.create'>['healthCheck']>): HealthCheck {
  if (h.protocol === 'tcp' && h.port === undefined) throw new ValidationError('a tcp health check needs a port', { field: 'healthCheck.port' });
  if (h.protocol === 'icmp' && h.port !== undefined) throw new ValidationError('an icmp health check has no port', { field: 'healthCheck.port' });
  if (h.timeoutMs > h.intervalMs) {
    throw new ValidationError(`healthCheck.timeoutMs (${h.timeoutMs}) must not exceed intervalMs (${h.intervalMs})`, { field: 'healthCheck.timeoutMs' });
  }
  return { protocol: h.protocol, port: h.port ?? null, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, rise: h.rise, fall: h.fall };
}

export function deleteFunction(s: ChainingState, cmd: ChainingCommand<'function.delete'>, ctx: CommandContext): Decision {
  const f = findFunction(s, ctx.caller, cmd.id);
  const user = Object.values(s.groups)
    .filter((g) => g.functionIds.includes(f.id))
    .map((g) => g.id)
    .sort()[0];
  if (user !== undefined) throw new IllegalStateError(`service function ${f.id} is a member of function group ${user}; delete the group first`, { groupId: user });
  return appendTo(serviceFunctionAggregate(f.id), f, { type: 'chaining.ServiceFunctionDeleted', data: { functionId: f.id } });
}
