/**
 * Security groups and rules between Neutron and secgroup's contract: the
 * representation, a rule POST's conversions, and secgroup's refusals in
 * Neutron's words (type, status, message).
 */
import { describe, expect, it } from 'vitest';
import { SecgroupRefusal, type GroupRuleView, type SecurityGroupView } from '@strata/contracts';
import { AlreadyExistsError, IllegalStateError, NotFoundError, RevisionConflictError, StrataError, ValidationError } from '@strata/errors';
import { NeutronHttpError } from '../../errors.js';
import { groupFault as groupFaultOf, ruleFault as ruleFaultOf, type Fault } from './faults.js';
import { neutronGroup, neutronGroupRule } from './representation.js';
import { ruleCreateOf, type RuleCreate } from './rule-request.js';

/** An error as the client reads it: status, NeutronError type and message. */
const plain = (f: Fault | undefined) => f && { status: f.status, type: f.type, message: f.message };
const ruleFault = (...args: Parameters<typeof ruleFaultOf>) => plain(ruleFaultOf(...args));
const groupFault = (...args: Parameters<typeof groupFaultOf>) => plain(groupFaultOf(...args));

const G = '11111111-1111-4111-8111-111111111111';
const R = '22222222-2222-4222-8222-222222222222';
const P = '0123456789abcdef0123456789abcdef';

const rule = (over: Partial<GroupRuleView> = {}): GroupRuleView => ({
  id: R,
  groupId: G,
  tenant: P,
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: 'tcp',
  portMin: 22,
  portMax: 22,
  icmpType: null,
  icmpCode: null,
  remoteGroupId: null,
  remoteCidr: '10.0.0.0/8',
  description: 'ssh',
  createdAt: '2026-01-01T10:00:00.123Z',
  ...over,
});

describe('representation', () => {
  it("shows a rule with exactly Neutron's attributes", () => {
    expect(neutronGroupRule(rule())).toEqual({
      id: R,
      security_group_id: G,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '10.0.0.0/8',
      normalized_cidr: '10.0.0.0/8',
      remote_group_id: null,
      remote_address_group_id: null,
      description: 'ssh',
      tenant_id: P,
      project_id: P,
      revision_number: 0,
      created_at: '2026-01-01T10:00:00Z',
      updated_at: '2026-01-01T10:00:00Z',
    });
  });

  it('any protocol is null; ICMP type and code are the port range; icmpv6 is ipv6-icmp', () => {
    expect(neutronGroupRule(rule({ protocol: 'any', portMin: null, portMax: null }))).toMatchObject({ protocol: null, port_range_min: null, port_range_max: null });
    expect(neutronGroupRule(rule({ protocol: 'icmp', portMin: null, portMax: null, icmpType: 8, icmpCode: 0 }))).toMatchObject({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 });
    expect(neutronGroupRule(rule({ protocol: 'icmpv6', ethertype: 'IPv6', portMin: null, portMax: null, icmpType: 128, icmpCode: null }))).toMatchObject({
      protocol: 'ipv6-icmp',
      port_range_min: 128,
      port_range_max: null,
    });
  });

  it('shows a group with its full rules, always stateful and never shared', () => {
    const { groupId: _g, tenant: _t, ...inner } = rule();
    const view: SecurityGroupView = { id: G, tenant: P, name: 'web', description: 'd', isDefault: false, rules: [inner], createdAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-02T10:00:00.000Z', revision: 2 };
    expect(neutronGroup(view)).toEqual({
      id: G,
      name: 'web',
      description: 'd',
      tenant_id: P,
      project_id: P,
      security_group_rules: [neutronGroupRule(rule())],
      stateful: true,
      shared: false,
      revision_number: 2,
      created_at: '2026-01-01T10:00:00Z',
      updated_at: '2026-01-02T10:00:00Z',
    });
  });
});

const faultOfRequest = (body: Record<string, unknown>) => {
  try {
    ruleCreateOf(body);
  } catch (e) {
    if (e instanceof NeutronHttpError) return plain(e)!;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('a rule POST', () => {
  const base = { security_group_id: G, direction: 'ingress' };

  it('defaults to IPv4 and any protocol, and carries the description', () => {
    expect(ruleCreateOf({ ...base, description: 'x' })).toEqual({ groupId: G, direction: 'ingress', ethertype: 'IPv4', protocol: 'any', description: 'x' });
  });

  it("takes Neutron's names and numbers of the protocols Strata filters, any case, and icmp in an IPv6 rule as icmpv6", () => {
    const protocolOf = (protocol: unknown, ethertype = 'IPv4') => ruleCreateOf({ ...base, protocol, ethertype }).protocol;
    expect([protocolOf('TCP'), protocolOf('6'), protocolOf(6), protocolOf('udp'), protocolOf(17), protocolOf('icmp'), protocolOf('1')]).toEqual(['tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'icmp']);
    expect([protocolOf('ipv6-icmp', 'IPv6'), protocolOf('icmpv6', 'ipv6'), protocolOf(58, 'IPv6'), protocolOf('icmp', 'IPv6')]).toEqual(['icmpv6', 'icmpv6', 'icmpv6', 'icmpv6']);
    expect([protocolOf(null), protocolOf('any'), protocolOf('0'), protocolOf(0)]).toEqual(['any', 'any', 'any', 'any']);
    expect(ruleCreateOf({ ...base, ethertype: 'ipv6' }).ethertype).toBe('IPv6');
  });

  it('refuses other protocols and ethertypes with Neutron types', () => {
    for (const p of ['gre', '47', 'sctp', 300, 'bogus', true]) {
      expect(faultOfRequest({ ...base, protocol: p })).toMatchObject({ status: 400, type: 'SecurityGroupRuleInvalidProtocol', message: expect.stringMatching(new RegExp(`^Security group rule protocol ${String(p)} not supported\\.`)) });
    }
    expect(faultOfRequest({ ...base, ethertype: 'IPv5' })).toEqual({
      status: 400,
      type: 'SecurityGroupRuleInvalidEtherType',
      message: "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6'].",
    });
    expect(faultOfRequest({ ...base, direction: 'up' })).toEqual({ status: 400, type: 'InvalidInput', message: "Invalid input for operation: Invalid input for direction. Reason: 'up' is not in ['ingress', 'egress'].." });
  });

  it('ports: a TCP/UDP range needs both bounds; numbers or digit strings 0-65535; ICMP type and code ride in them', () => {
    expect(ruleCreateOf({ ...base, protocol: 'tcp', port_range_min: '80', port_range_max: 81 })).toMatchObject({ portMin: 80, portMax: 81 });
    expect(faultOfRequest({ ...base, protocol: 'tcp', port_range_min: 80 })).toMatchObject({ type: 'SecurityGroupInvalidPortRange', message: 'For TCP/UDP protocols, port_range_min must be <= port_range_max' });
    expect(faultOfRequest({ ...base, protocol: 'tcp', port_range_min: 70000, port_range_max: 70000 })).toEqual({ status: 400, type: 'SecurityGroupInvalidPortValue', message: 'Invalid value for port 70000' });
    expect(faultOfRequest({ ...base, protocol: 'tcp', port_range_min: 'x', port_range_max: 1 })).toMatchObject({ type: 'SecurityGroupInvalidPortValue' });
    const icmp = ruleCreateOf({ ...base, protocol: 'icmp', port_range_min: 8, port_range_max: 0 });
    expect(icmp).toMatchObject({ icmpType: 8, icmpCode: 0 });
    expect(icmp).not.toHaveProperty('portMin');
    // Ports without a protocol go to the service as asked: its refusal becomes Neutron's (below).
    expect(ruleCreateOf({ ...base, port_range_min: 22, port_range_max: 22 })).toMatchObject({ protocol: 'any', portMin: 22, portMax: 22 });
  });

  it('remote_ip_prefix: an address alone is its host prefix; host bits are dropped (normalized_cidr); garbage is InvalidCIDR', () => {
    expect(ruleCreateOf({ ...base, remote_ip_prefix: '192.0.2.7' }).remoteCidr).toBe('192.0.2.7/32');
    expect(ruleCreateOf({ ...base, ethertype: 'IPv6', remote_ip_prefix: '2001:db8::1' }).remoteCidr).toBe('2001:db8::1/128');
    expect(ruleCreateOf({ ...base, remote_ip_prefix: '10.1.2.3/8' }).remoteCidr).toBe('10.0.0.0/8');
    expect(ruleCreateOf({ ...base, remote_ip_prefix: null })).not.toHaveProperty('remoteCidr');
    expect(faultOfRequest({ ...base, remote_ip_prefix: '10.0.0.0/33' })).toEqual({ status: 400, type: 'InvalidCIDR', message: 'Invalid CIDR 10.0.0.0/33 given as IP prefix.' });
  });
});

describe("secgroup's refusals in Neutron's words", () => {
  const asked: RuleCreate = { groupId: G, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 90, portMax: 80, remoteCidr: '2001:db8::/32' };
  const refused = (reason: string) => new ValidationError('x', { reason });

  it('rule refusals by reason', () => {
    expect(ruleFault(refused(SecgroupRefusal.PortRangeOrder), asked)?.type).toBe('SecurityGroupInvalidPortRange');
    expect(ruleFault(refused(SecgroupRefusal.PortsNeedL4), { ...asked, protocol: 'any' })).toEqual({ status: 400, type: 'SecurityGroupProtocolRequiredWithPorts', message: 'Must also specify protocol if port range is given.' });
    expect(ruleFault(refused(SecgroupRefusal.ProtocolEthertype), { ...asked, protocol: 'icmpv6' })).toEqual({ status: 400, type: 'SecurityGroupEthertypeConflictWithProtocol', message: 'Invalid ethertype IPv4 for protocol ipv6-icmp.' });
    expect(ruleFault(refused(SecgroupRefusal.IcmpCodeNeedsType), { ...asked, protocol: 'icmp', icmpCode: 3 })?.message).toBe('ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) is missing.');
    expect(ruleFault(refused(SecgroupRefusal.RemoteExclusive), asked)?.type).toBe('SecurityGroupMultipleRemoteEntites');
    expect(ruleFault(refused(SecgroupRefusal.CidrFamily), asked)).toEqual({ status: 400, type: 'SecurityGroupRuleParameterConflict', message: 'Conflicting value ethertype IPv4 for CIDR 2001:db8::/32' });
    expect(ruleFault(new ValidationError('portMin: must be a port number from 1 to 65535', { field: 'portMin' }), { ...asked, portMin: 0 })?.message).toBe('Invalid value for port 0');
    expect(ruleFault(new ValidationError('icmpType: must be 0-255', { field: 'icmpType' }), { ...asked, protocol: 'icmp', icmpType: 300 })?.message).toBe(
      'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.',
    );
  });

  it('duplicates, unknown groups and rules (also remote groups)', () => {
    expect(ruleFault(new AlreadyExistsError('dup', { ruleId: R }))).toEqual({ status: 409, type: 'SecurityGroupRuleExists', message: `Security group rule already exists. Rule id is ${R}.` });
    expect(ruleFault(new NotFoundError('security group', G))).toEqual({ status: 404, type: 'SecurityGroupNotFound', message: `Security group ${G} does not exist` });
    expect(ruleFault(new NotFoundError('security group rule', R))).toEqual({ status: 404, type: 'SecurityGroupRuleNotFound', message: `Security group rule ${R} does not exist` });
    expect(ruleFault(new NotFoundError(`rule of security group ${G}`, R))?.type).toBe('SecurityGroupRuleNotFound');
    expect(ruleFault(new StrataError('UNAVAILABLE', 'x'))).toBeUndefined();
  });

  it('group refusals: in use, the default group, the reserved name; a stale revision is left to the core', () => {
    expect(groupFault(new IllegalStateError('x', { reason: SecgroupRefusal.Members }), G)).toEqual({ status: 409, type: 'SecurityGroupInUse', message: `Security Group ${G} in use.` });
    expect(groupFault(new IllegalStateError('x', { reason: SecgroupRefusal.DefaultGroup }), G)).toEqual({ status: 409, type: 'SecurityGroupCannotRemoveDefault', message: 'Insufficient rights for removing default security group.' });
    expect(groupFault(new ValidationError('x', { field: 'name', reason: SecgroupRefusal.ReservedName }))?.type).toBe('SecurityGroupDefaultAlreadyExists');
    expect(groupFault(new ValidationError('x', { field: 'name', reason: SecgroupRefusal.DefaultGroupName }), G)?.type).toBe('SecurityGroupCannotUpdateDefault');
    expect(groupFault(new RevisionConflictError('security group', G, 1, 2), G)).toBeUndefined();
    expect(groupFault(new NotFoundError('security group', G), G)?.type).toBe('SecurityGroupNotFound');
  });
});
