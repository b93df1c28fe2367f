/**
 * What the Neutron API needs of the domain (issue 17): the default group on
 * first use, groups born with Neutron's egress rules, a rule found and
 * deleted by its id alone, rule descriptions and timestamps, and refusals
 * that carry a reason a front door can map.
 */
import { describe, expect, it } from 'vitest';
import { defaultSecurityGroupId, defaultSecurityGroupRuleId, egressRuleId, SecgroupRefusal, securityGroupAggregate, secgroupEvents } from '@strata/contracts';
import { errorOf } from '@strata/service-kit/testing';
import { applyStored } from './evolve.js';
import { getGroup, getRule } from './queries.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

function withGroup(egressRules = false): { w: World; id: string } {
  const w = new World();
  const id = w.run('group.create', { name: 'web', egressRules }, tenantA).resourceId;
  return { w, id };
}

const ssh = (groupId: string) => ({ groupId, direction: 'ingress' as const, ethertype: 'IPv4' as const, protocol: 'tcp' as const, portMin: 22, portMax: 22 });

describe('group.ensureDefault', () => {
  it("creates the caller's default group with its four rules once; again it writes nothing", () => {
    const w = new World();
    const id = defaultSecurityGroupId('tenant-a');
    const created = w.run('group.ensureDefault', {}, tenantA);
    expect(created).toMatchObject({ aggregate: securityGroupAggregate(id), expectedVersion: 0, tenant: 'tenant-a', resourceId: id });
    const group = getGroup(w.state, tenantA, { id });
    expect(group).toMatchObject({ name: 'default', isDefault: true, tenant: 'tenant-a', revision: 1 });
    expect(group.rules.map((r) => [r.direction, r.ethertype, r.protocol, r.remoteGroupId])).toEqual([
      ['egress', 'IPv4', 'any', null],
      ['egress', 'IPv6', 'any', null],
      ['ingress', 'IPv4', 'any', id],
      ['ingress', 'IPv6', 'any', id],
    ]);
    expect(group.rules[0]!.id).toBe(defaultSecurityGroupRuleId('tenant-a', 'egress-ipv4'));
    expect(w.decide('group.ensureDefault', {}, tenantA)).toEqual({ kind: 'done', resourceId: id });
  });

  it("is done when the port reactor already made it, and an admin may name a tenant; a tenant may not name another", () => {
    const w = new World();
    w.reactCreated(w.ipamPortCreated('tenant-a'));
    expect(w.decide('group.ensureDefault', {}, tenantA)).toEqual({ kind: 'done', resourceId: defaultSecurityGroupId('tenant-a') });
    expect(w.run('group.ensureDefault', { tenant: 'tenant-b' }, admin).tenant).toBe('tenant-b');
    expect(errorOf(() => w.decide('group.ensureDefault', { tenant: 'tenant-a' }, tenantB))).toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('recreates a default group an admin deleted, continuing its aggregate', () => {
    const w = new World();
    const id = w.run('group.ensureDefault', {}, tenantA).resourceId;
    w.run('group.delete', { id }, admin);
    const deletedAt = w.events.at(-1)!.seq;
    expect(w.run('group.ensureDefault', {}, tenantA).expectedVersion).toBe(deletedAt);
    expect(getGroup(w.state, tenantA, { id }).rules).toHaveLength(4);
  });
});

describe('group.create with egressRules', () => {
  it("starts with Neutron's egress-anywhere rules for IPv4 and IPv6, in the creating event", () => {
    const { w, id } = withGroup(true);
    const rules = getGroup(w.state, tenantA, { id }).rules;
    expect(rules.map((r) => ({ id: r.id, direction: r.direction, ethertype: r.ethertype, protocol: r.protocol, remoteGroupId: r.remoteGroupId, remoteCidr: r.remoteCidr }))).toEqual([
      { id: egressRuleId(id, 'ipv4'), direction: 'egress', ethertype: 'IPv4', protocol: 'any', remoteGroupId: null, remoteCidr: null },
      { id: egressRuleId(id, 'ipv6'), direction: 'egress', ethertype: 'IPv6', protocol: 'any', remoteGroupId: null, remoteCidr: null },
    ]);
    expect(w.events.filter((e) => e.type.startsWith('secgroup.'))).toHaveLength(1);
    expect(getRule(w.state, tenantA, rules[0]!.id)).toMatchObject({ groupId: id, tenant: 'tenant-a', description: '' });
  });

  it('without it, a group starts empty (the native default)', () => {
    const { w, id } = withGroup();
    expect(getGroup(w.state, tenantA, { id }).rules).toEqual([]);
  });
});

describe('a rule by its id alone', () => {
  it('rule.get answers the rule with its group, tenant, description and creation time; others and deleted ones are not found', () => {
    const { w, id } = withGroup();
    const ruleId = w.run('rule.create', { ...ssh(id), description: 'ssh from anywhere' }, tenantA).resourceId;
    expect(getRule(w.state, tenantA, ruleId)).toMatchObject({ id: ruleId, groupId: id, tenant: 'tenant-a', description: 'ssh from anywhere', createdAt: '2026-01-01T00:00:00.000Z', portMin: 22 });
    expect(getRule(w.state, admin, ruleId).groupId).toBe(id);
    expect(errorOf(() => getRule(w.state, tenantB, ruleId))).toMatchObject({ code: 'NOT_FOUND', message: `security group rule ${ruleId} not found` });
    w.run('rule.delete', { ruleId }, tenantA);
    expect(errorOf(() => getRule(w.state, tenantA, ruleId))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rule.delete finds the group itself; another tenant and a wrong group are not found; the group names it as before', () => {
    const { w, id } = withGroup();
    const ruleId = w.run('rule.create', ssh(id), tenantA).resourceId;
    const other = w.run('group.create', { name: 'db' }, tenantA).resourceId;
    expect(errorOf(() => w.decide('rule.delete', { ruleId }, tenantB))).toMatchObject({ code: 'NOT_FOUND', message: `security group rule ${ruleId} not found` });
    expect(errorOf(() => w.decide('rule.delete', { groupId: other, ruleId }, tenantA))).toMatchObject({ code: 'NOT_FOUND' });
    const removed = w.run('rule.delete', { ruleId }, tenantA);
    expect(removed.event).toEqual({ type: 'secgroup.RuleRemoved', data: { groupId: id, ruleId } });
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ rules: [], revision: 3 });
  });
});

describe('rule descriptions', () => {
  it('is kept beside the rule (not in it), written only when not empty, and does not make a duplicate different', () => {
    const { w, id } = withGroup();
    const described = w.run('rule.create', { ...ssh(id), description: 'ssh' }, tenantA);
    expect(described.event.data).toMatchObject({ description: 'ssh' });
    expect((described.event.data as { rule: object }).rule).not.toHaveProperty('description');
    const plain = w.run('rule.create', { ...ssh(id), portMin: 80, portMax: 80 }, tenantA);
    expect(plain.event.data).not.toHaveProperty('description');
    expect(errorOf(() => w.decide('rule.create', { ...ssh(id), description: 'again' }, tenantA))).toMatchObject({
      code: 'ALREADY_EXISTS',
      details: { ruleId: described.resourceId },
    });
  });
});

describe('duplicates', () => {
  it('a /0 peer prefix is the same rule as no prefix (every peer of the family), as Neutron compares them', () => {
    const { w, id } = withGroup();
    const any = w.run('rule.create', { ...ssh(id) }, tenantA).resourceId;
    expect(errorOf(() => w.decide('rule.create', { ...ssh(id), remoteCidr: '0.0.0.0/0' }, tenantA))).toMatchObject({ code: 'ALREADY_EXISTS', details: { ruleId: any } });
    const v6 = { ...ssh(id), ethertype: 'IPv6' as const, remoteCidr: '::/0' };
    const slash0 = w.run('rule.create', v6, tenantA).resourceId;
    const { remoteCidr: _none, ...v6Any } = v6;
    expect(errorOf(() => w.decide('rule.create', v6Any, tenantA))).toMatchObject({ code: 'ALREADY_EXISTS', details: { ruleId: slash0 } });
    // A narrower prefix is another rule.
    expect(w.decide('rule.create', { ...ssh(id), remoteCidr: '10.0.0.0/8' }, tenantA).kind).toBe('append');
  });
});

describe('updatedAt', () => {
  it('is the time of the group\'s last event, rules included', () => {
    const { w, id } = withGroup();
    const rule = { id: 'r1', direction: 'egress', ethertype: 'IPv4', protocol: 'any', portMin: null, portMax: null, icmpType: null, icmpCode: null, remoteGroupId: null, remoteCidr: null } as const;
    const later = '2026-01-02T00:00:00.000Z';
    applyStored(w.state, {
      id: 'e-later',
      type: 'secgroup.RuleAdded',
      version: secgroupEvents.encode('secgroup.RuleAdded', { groupId: id, rule }).version,
      aggregate: securityGroupAggregate(id),
      data: { groupId: id, rule },
      tenant: 'tenant-a',
      actor: 'test',
      occurredAt: later,
      correlationId: 'c',
      causationId: null,
      seq: 1000,
      subject: `strata.evt.secgroup.group.${id}`,
      storedAt: later,
    });
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ createdAt: '2026-01-01T00:00:00.000Z', updatedAt: later });
    expect(getRule(w.state, tenantA, 'r1')).toMatchObject({ createdAt: later, description: '' });
  });
});

describe('reasons a front door maps', () => {
  it('rule refusals name their reason', () => {
    const { w, id } = withGroup();
    const reason = (input: object) => errorOf(() => w.decide('rule.create', { groupId: id, direction: 'ingress', ethertype: 'IPv4', ...input } as never, tenantA)).details.reason;
    expect(reason({ protocol: 'tcp', portMin: 90, portMax: 80 })).toBe(SecgroupRefusal.PortRangeOrder);
    expect(reason({ protocol: 'any', portMin: 80 })).toBe(SecgroupRefusal.PortsNeedL4);
    expect(reason({ protocol: 'icmpv6' })).toBe(SecgroupRefusal.ProtocolEthertype);
    expect(reason({ protocol: 'icmp', icmpCode: 1 })).toBe(SecgroupRefusal.IcmpCodeNeedsType);
    expect(reason({ remoteCidr: '2001:db8::/32' })).toBe(SecgroupRefusal.CidrFamily);
    expect(reason({ remoteCidr: '10.0.0.0/8', remoteGroupId: id })).toBe(SecgroupRefusal.RemoteExclusive);
  });

  it('a member may not delete its default group (an admin may, when it has no ports); a group in use says why', () => {
    const w = new World();
    const id = w.run('group.ensureDefault', {}, tenantA).resourceId;
    expect(errorOf(() => w.decide('group.delete', { id }, tenantA))).toMatchObject({ code: 'FAILED_PRECONDITION', details: { reason: SecgroupRefusal.DefaultGroup } });
    const port = w.ipamPortCreated('tenant-a');
    w.reactCreated(port);
    expect(errorOf(() => w.decide('group.delete', { id }, admin)).details.reason).toBe(SecgroupRefusal.TenantHasPorts);
    const web = w.run('group.create', { name: 'web' }, tenantA).resourceId;
    w.run('port.setGroups', { portId: port, groupIds: [web] }, tenantA);
    expect(errorOf(() => w.decide('group.delete', { id: web }, tenantA)).details.reason).toBe(SecgroupRefusal.Members);
    expect(errorOf(() => w.decide('group.create', { name: 'default' }, tenantA)).details.reason).toBe(SecgroupRefusal.ReservedName);
    expect(errorOf(() => w.decide('group.create', { name: 'Default' }, tenantA))).toMatchObject({ message: "the name Default is reserved for the tenant's default security group" });
    expect(errorOf(() => w.decide('group.update', { id: web, name: 'DEFAULT' }, tenantA)).details.reason).toBe(SecgroupRefusal.ReservedName);
    expect(errorOf(() => w.decide('group.update', { id, name: 'mine' }, tenantA)).details.reason).toBe(SecgroupRefusal.DefaultGroupName);
  });
});
