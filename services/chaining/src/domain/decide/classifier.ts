/** Flow classifiers: which flows a chain takes. Each field is checked against the others; groups must be the tenant's. */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { flowClassifierAggregate, type ChainingCommand, type FlowClassifier, type FlowEndpoint, type PortRange } from '@strata/contracts';
import { changedFields, checkRevision, createdId, isEmpty, owningTenant } from '@strata/service-kit';
import type { ChainingState } from '../state.js';
import { findClassifier, newVersion, ownedBy } from './lookup.js';
import { appendTo, type Caller, type CommandContext, type Decision } from './types.js';

type Request = ChainingCommand<'classifier.create'>;

export function createClassifier(s: ChainingState, cmd: Request, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'chaining', 'classifier');
  if (s.classifiers[id]) return { kind: 'done', resourceId: id };
  if ((cmd.protocol === 'icmp' && cmd.ethertype === 'IPv6') || (cmd.protocol === 'icmpv6' && cmd.ethertype === 'IPv4')) {
    throw new ValidationError(`protocol ${cmd.protocol} does not exist in ${cmd.ethertype} (icmp is IPv4's, icmpv6 IPv6's)`, { field: 'protocol' });
  }
  const classifier: FlowClassifier = {
    id,
    ethertype: cmd.ethertype,
    protocol: cmd.protocol,
    source: endpoint(s, ctx.caller, tenant, cmd, 'source'),
    destination: endpoint(s, ctx.caller, tenant, cmd, 'destination'),
    sourcePorts: ports(cmd, 'sourcePorts'),
    destinationPorts: ports(cmd, 'destinationPorts'),
  };
  return {
    kind: 'append',
    aggregate: flowClassifierAggregate(id),
    expectedVersion: newVersion(s, 'classifier', id),
    tenant,
    resourceId: id,
    event: { type: 'chaining.FlowClassifierCreated', data: { classifier, name: cmd.name, description: cmd.description } },
  };
}

/** Name and description only: the match is fixed (refused by the request schema, naming the field). */
export function updateClassifier(s: ChainingState, cmd: ChainingCommand<'classifier.update'>, ctx: CommandContext): Decision {
  const c = findClassifier(s, ctx.caller, cmd.id);
  checkRevision('flow classifier', c.id, cmd.expectedRevision, c.revision);
  const changes = changedFields({ name: c.name, description: c.description }, cmd);
  if (isEmpty(changes)) return { kind: 'done', resourceId: c.id };
  return appendTo(flowClassifierAggregate(c.id), c, { type: 'chaining.FlowClassifierUpdated', data: { classifierId: c.id, ...changes } });
}

function endpoint(s: ChainingState, caller: Caller, tenant: string, cmd: Request, field: 'source' | 'destination'): FlowEndpoint {
  const { groupId, cidr } = cmd[field];
  if (groupId !== undefined && cidr !== undefined) {
    throw new ValidationError(`${field} names a security group and a CIDR; give one of them (or neither for any address)`, { field: `${field}.cidr` });
  }
  if (groupId !== undefined) ownedBy(caller, tenant, 'security group', groupId, s.securityGroups[groupId]);
  if (cidr !== undefined && cidr.includes(':') !== (cmd.ethertype === 'IPv6')) {
    throw new ValidationError(`${field}.cidr ${cidr} is not an ${cmd.ethertype} prefix (the classifier's ethertype)`, { field: `${field}.cidr` });
  }
  return { groupId: groupId ?? null, cidr: cidr ?? null };
}

function ports(cmd: Request, field: 'sourcePorts' | 'destinationPorts'): PortRange | null {
  const range = cmd[field];
  if (range === undefined) return null;
  if (cmd.protocol !== 'tcp' && cmd.protocol !== 'udp') {
    throw new ValidationError(`${field} apply to tcp and udp only; the classifier's protocol is ${cmd.protocol}`, { field });
  }
  if (range.min > range.max) throw new ValidationError(`${field} ${range.min}-${range.max} is reversed: min must not exceed max`, { field });
  return { min: range.min, max: range.max };
}

export function deleteClassifier(s: ChainingState, cmd: ChainingCommand<'classifier.delete'>, ctx: CommandContext): Decision {
  const c = findClassifier(s, ctx.caller, cmd.id);
  const user = Object.values(s.chains)
    .filter((ch) => ch.classifierIds.includes(c.id))
    .map((ch) => ch.id)
    .sort()[0];
  if (user !== undefined) throw new IllegalStateError(`flow classifier ${c.id} is used by chain ${user}; delete the chain first`, { chainId: user });
  return appendTo(flowClassifierAggregate(c.id), c, { type: 'chaining.FlowClassifierDeleted', data: { classifierId: c.id } });
}
