/**
 * The secgroup service's refusals in Neutron's words: the exception class
 * neutron raises for the same case (the NeutronError `type`), its HTTP
 * status and its message (neutron/extensions/securitygroup.py). Chosen by
 * the refusal's code and `details` (`reason`, `field`, `kind`, `ruleId`),
 * never by its text. A refusal with no Neutron counterpart is left to the
 * REST core's generic mapping.
 */
import { Id, SecgroupRefusal } from '@strata/contracts';
import { ErrorCode, type StrataError, toStrataError } from '@strata/errors';
import { invalidInput as neutronInvalidInput, NeutronHttpError } from '../../errors.js';
import type { RuleCreate } from './rule-request.js';

/** A Neutron error: HTTP status, NeutronError type and message. */
export type Fault = NeutronHttpError;

export const fault = (status: number, type: string, message: string): Fault => new NeutronHttpError(status, type, message);

/** neutron-lib's attribute validation failure (its validators' "Invalid input for <attr>. Reason: <why>." as InvalidInput). */
export const invalidInput = (attr: string, reason: string): Fault => neutronInvalidInput(`Invalid input for ${attr}. Reason: ${reason}.`);

export const groupNotFound = (id: string): Fault => fault(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
export const ruleNotFound = (id: string): Fault => fault(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);

const NEUTRON_PROTOCOL_NAME: Readonly<Record<string, string>> = { icmp: 'icmp', icmpv6: 'ipv6-icmp', tcp: 'tcp', udp: 'udp' };

/** A NOT_FOUND of a security group (the URL's, the rule's group or its remote group) or of a rule. */
function notFound(e: StrataError): Fault | undefined {
  const { kind, id } = e.details;
  if (typeof id !== 'string') return undefined;
  if (kind === 'security group') return groupNotFound(id);
  if (kind === 'security group rule' || (typeof kind === 'string' && kind.startsWith('rule of security group'))) return ruleNotFound(id);
  return undefined;
}

/** A refusal of `group.create`, `group.update` or `group.delete` of group `id`. */
export function groupFault(e: StrataError, id?: string): Fault | undefined {
  const reason = e.details.reason;
  switch (e.code) {
    case ErrorCode.NotFound:
      return notFound(e);
    case ErrorCode.InvalidArgument:
      if (reason === SecgroupRefusal.ReservedName) return fault(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      if (reason === SecgroupRefusal.DefaultGroupName) return fault(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      return undefined;
    case ErrorCode.FailedPrecondition:
      if (e.details.field === 'expectedRevision') return undefined; // the core's 412
      if (reason === SecgroupRefusal.DefaultGroup) return fault(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
      return id === undefined ? undefined : fault(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
    default:
      return undefined;
  }
}

/** A refusal of `rule.create` (`asked`: the request as sent to the service, for Neutron's messages) or `rule.delete`. */
export function ruleFault(e: StrataError, asked?: RuleCreate): Fault | undefined {
  switch (e.code) {
    case ErrorCode.NotFound:
      return notFound(e);
    case ErrorCode.AlreadyExists: {
      const ruleId = e.details.ruleId;
      return typeof ruleId === 'string' ? fault(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${ruleId}.`) : undefined;
    }
    case ErrorCode.InvalidArgument:
      return asked ? invalidRule(e, asked) : undefined;
    default:
      return undefined;
  }
}

function invalidRule(e: StrataError, asked: RuleCreate): Fault | undefined {
  // An id that is no UUID names no group: Neutron looks it up and does not find it.
  if (e.details.field === 'groupId') return groupNotFound(asked.groupId);
  if (e.details.field === 'remoteGroupId' && asked.remoteGroupId !== undefined) return groupNotFound(asked.remoteGroupId);
  const protocol = NEUTRON_PROTOCOL_NAME[asked.protocol ?? 'any'];
  switch (e.details.reason) {
    case SecgroupRefusal.PortsNeedL4:
      return protocol === undefined
        ? fault(400, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.')
        : fault(400, 'SecurityGroupInvalidProtocolForPort', `Ports cannot be specified for protocol ${protocol}. Ports are only supported for ['tcp', 'udp'].`);
    case SecgroupRefusal.ProtocolEthertype:
      return fault(400, 'SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${asked.ethertype} for protocol ${protocol ?? 'None'}.`);
    case SecgroupRefusal.IcmpCodeNeedsType:
      return fault(400, 'SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${asked.icmpCode} is provided but ICMP type (port-range-min) is missing.`);
    case SecgroupRefusal.PortRangeOrder:
      return fault(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    case SecgroupRefusal.RemoteExclusive:
      return fault(400, 'SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
    case SecgroupRefusal.CidrFamily:
      return fault(400, 'SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${asked.ethertype} for CIDR ${asked.remoteCidr}`);
  }
  // The request schema's own checks name the field: a port or ICMP value out of range.
  switch (e.details.field) {
    case 'portMin':
    case 'portMax':
      return fault(400, 'SecurityGroupInvalidPortValue', `Invalid value for port ${asked[e.details.field]}`);
    case 'icmpType':
      return fault(400, 'SecurityGroupInvalidIcmpValue', `Invalid value for ICMP type (port_range_min) ${asked.icmpType}. It must be 0 to 255.`);
    case 'icmpCode':
      return fault(400, 'SecurityGroupInvalidIcmpValue', `Invalid value for ICMP code (port_range_max) ${asked.icmpCode}. It must be 0 to 255.`);
    default:
      return undefined;
  }
}

/** Answer Neutron's error for this request. */
export function raise(f: Fault): never {
  throw f;
}

/** A service call whose refusal `faultOf` gives Neutron's words (undefined: the core's generic mapping). */
export async function translated<T>(call: Promise<T>, faultOf: (e: StrataError) => Fault | undefined): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const f = faultOf(toStrataError(err));
    if (f) raise(f);
    throw err;
  }
}
