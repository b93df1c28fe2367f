/**
 * Rule validation and the default group's shape: the cross-field rules the
 * request schema cannot express on one field. Errors name the field.
 */
import { ValidationError } from '@strata/errors';
import { defaultSecurityGroupRuleId, egressRuleId, SecgroupRefusal, type SecgroupCommand, type SecurityGroupRule } from '@strata/contracts';
import { parsePrefix } from '@strata/netaddr';

type RuleInput = Omit<SecgroupCommand<'rule.create'>, 'groupId' | 'description'>;


const L4 = new Set(['tcp', 'udp']);
const ICMP = new Set(['icmp', 'icmpv6']);

/** The rule a `rule.create` asks for, normalised (absent fields null, a lone port bound = one port), or INVALID_ARGUMENT. */
export function ruleFromInput(id: string, input: RuleInput): SecurityGroupRule {
  const { protocol, ethertype } = input;
  if (!L4.has(protocol)) {
    for (const field of ['portMin', 'portMax'] as const) {
      if (input[field] !== undefined) throw new ValidationError(`${field} applies only to tcp and udp rules, not ${protocol}`, { field, reason: SecgroupRefusal.PortsNeedL4 });
    }
  }
  if (!ICMP.has(protocol)) {
    for (const field of ['icmpType', 'icmpCode'] as const) {
      if (input[field] !== undefined) throw new ValidationError(`${field} applies only to icmp and icmpv6 rules, not ${protocol}`, { field, reason: SecgroupRefusal.IcmpFieldsNeedIcmp });
    }
  }
  if (protocol === 'icmp' && ethertype !== 'IPv4') {
    throw new ValidationError('protocol icmp is ICMP for IPv4; use icmpv6 for an IPv6 rule', { field: 'protocol', reason: SecgroupRefusal.ProtocolEthertype });
  }
  if (protocol === 'icmpv6' && ethertype !== 'IPv6') {
    throw new ValidationError('protocol icmpv6 is ICMP for IPv6; use icmp for an IPv4 rule', { field: 'protocol', reason: SecgroupRefusal.ProtocolEthertype });
  }
  if (input.icmpCode !== undefined && input.icmpType === undefined) {
    throw new ValidationError('icmpCode needs icmpType', { field: 'icmpCode', reason: SecgroupRefusal.IcmpCodeNeedsType });
  }
  const portMin = input.portMin ?? input.portMax ?? null;
  const portMax = input.portMax ?? input.portMin ?? null;
  if (portMin !== null && portMax !== null && portMin > portMax) {
    throw new ValidationError(`portMin ${portMin} is above portMax ${portMax}`, { field: 'portMin', reason: SecgroupRefusal.PortRangeOrder });
  }
  if (input.remoteGroupId !== undefined && input.remoteCidr !== undefined) {
    throw new ValidationError('remoteGroupId and remoteCidr are exclusive: a rule names a peer group or a peer prefix, not both', { field: 'remoteCidr', reason: SecgroupRefusal.RemoteExclusive });
  }
  if (input.remoteCidr !== undefined) {
    const family = parsePrefix(input.remoteCidr).version === 4 ? 'IPv4' : 'IPv6';
    if (family !== ethertype) {
      throw new ValidationError(`remoteCidr ${input.remoteCidr} is an ${family} prefix but the rule's ethertype is ${ethertype}`, { field: 'remoteCidr', reason: SecgroupRefusal.CidrFamily });
    }
  }
  return {
    id,
    direction: input.direction,
    ethertype,
    protocol,
    portMin,
    portMax,
    icmpType: input.icmpType ?? null,
    icmpCode: input.icmpCode ?? null,
    remoteGroupId: input.remoteGroupId ?? null,
    remoteCidr: input.remoteCidr ?? null,
  };
}

/** The peer prefix a rule matches: a /0 (0.0.0.0/0, ::/0) matches every peer of its family, like no prefix (as Neutron compares rules). */
const peerPrefix = (r: SecurityGroupRule): string | null => (r.remoteCidr?.endsWith('/0') ? null : r.remoteCidr);

/** Same rule except for its id: adding it again would change nothing. */
export function sameRule(a: SecurityGroupRule, b: SecurityGroupRule): boolean {
  return (
    a.direction === b.direction &&
    a.ethertype === b.ethertype &&
    a.protocol === b.protocol &&
    a.portMin === b.portMin &&
    a.portMax === b.portMax &&
    a.icmpType === b.icmpType &&
    a.icmpCode === b.icmpCode &&
    a.remoteGroupId === b.remoteGroupId &&
    peerPrefix(a) === peerPrefix(b)
  );
}

export const DEFAULT_GROUP_NAME = 'default';
export const DEFAULT_GROUP_DESCRIPTION = 'Default security group';

const anyRule = (id: string, direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6', remoteGroupId: string | null): SecurityGroupRule => ({
  id,
  direction,
  ethertype,
  protocol: 'any',
  portMin: null,
  portMax: null,
  icmpType: null,
  icmpCode: null,
  remoteGroupId,
  remoteCidr: null,
});

/** What a group created with `egressRules` starts with (Neutron's new groups): egress anywhere, IPv4 and IPv6. */
export function egressRules(groupId: string): SecurityGroupRule[] {
  return [anyRule(egressRuleId(groupId, 'ipv4'), 'egress', 'IPv4', null), anyRule(egressRuleId(groupId, 'ipv6'), 'egress', 'IPv6', null)];
}

/**
 * The default group's initial rules: all egress, and ingress only from
 * members of the group itself (ports of the tenant talk to each other; nothing
 * else gets in). Rule ids are derived from the tenant, like the group's id.
 */
export function defaultRules(tenant: string, groupId: string): SecurityGroupRule[] {
  const rule = (name: string, direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6', remoteGroupId: string | null): SecurityGroupRule =>
    anyRule(defaultSecurityGroupRuleId(tenant, name), direction, ethertype, remoteGroupId);
  return [
    rule('egress-ipv4', 'egress', 'IPv4', null),
    rule('egress-ipv6', 'egress', 'IPv6', null),
    rule('ingress-ipv4', 'ingress', 'IPv4', groupId),
    rule('ingress-ipv6', 'ingress', 'IPv6', groupId),
  ];
}
