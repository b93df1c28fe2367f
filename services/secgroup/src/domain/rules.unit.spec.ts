import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import { admin, tenantA, tenantB, World } from './test/given.js';

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    expect((e as StrataError).code).toBe(code);
    expect((e as StrataError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error, got a decision');
}

function groupOf(w: World, caller = tenantA, name = 'web'): string {
  return w.run('group.create', { name }, caller).resourceId;
}

describe('security groups', () => {
  it('creates an empty group for the caller, or (admins only) for another tenant', () => {
    const w = new World();
    const d = w.run('group.create', { name: 'web', description: 'front end' }, tenantA);
    expect(d.aggregate).toEqual({ context: 'secgroup', type: 'group', id: d.resourceId });
    expect(d.expectedVersion).toBe(0);
    expect(d.event).toEqual({ type: 'secgroup.GroupCreated', data: { groupId: d.resourceId, name: 'web', description: 'front end', isDefault: false, rules: [] } });
    expect(d.tenant).toBe('tenant-a');
    expectError(() => w.decide('group.create', { name: 'x', tenant: 'tenant-b' }, tenantA), ErrorCode.PermissionDenied, /may not create resources for tenant tenant-b/);
    expect(w.run('group.create', { name: 'x', tenant: 'tenant-b' }, admin).tenant).toBe('tenant-b');
  });

  it('answers a retried request with its first result and reserves the name default', () => {
    const w = new World();
    const rid = '00000000-0000-4000-8000-000000000001';
    const first = w.run('group.create', { name: 'web' }, tenantA, rid);
    expect(w.decide('group.create', { name: 'web' }, tenantA, rid)).toEqual({ kind: 'done', resourceId: first.resourceId });
    expectError(() => w.decide('group.create', { name: 'default' }, tenantA), ErrorCode.InvalidArgument, /name default is reserved/);
  });

  it("reports another tenant's group as not found", () => {
    const w = new World();
    const g = groupOf(w);
    expectError(() => w.decide('group.delete', { id: g }, tenantB), ErrorCode.NotFound, new RegExp(`security group ${g} not found`));
    expectError(() => w.decide('rule.create', { groupId: g, direction: 'ingress', ethertype: 'IPv4' }, tenantB), ErrorCode.NotFound, /not found/);
  });
});

describe('rule validation', () => {
  const ingress = { direction: 'ingress', ethertype: 'IPv4' } as const;

  it('adds a valid rule with every absent field null, a lone port bound meaning one port', () => {
    const w = new World();
    const groupId = groupOf(w);
    const d = w.run('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 443, remoteCidr: '0.0.0.0/0' }, tenantA);
    expect(d.event).toEqual({
      type: 'secgroup.RuleAdded',
      data: {
        groupId,
        rule: { id: d.resourceId, ...ingress, protocol: 'tcp', portMin: 443, portMax: 443, icmpType: null, icmpCode: null, remoteGroupId: null, remoteCidr: '0.0.0.0/0' },
      },
    });
    expect(d.expectedVersion).toBe(w.events[0]!.seq);
  });

  it('rejects an unknown group and an unknown remote group as NOT_FOUND', () => {
    const w = new World();
    const groupId = groupOf(w);
    const missing = '00000000-0000-4000-8000-00000000dead';
    expectError(() => w.decide('rule.create', { groupId: missing, ...ingress }, tenantA), ErrorCode.NotFound, new RegExp(`security group ${missing} not found`));
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteGroupId: missing }, tenantA), ErrorCode.NotFound, new RegExp(`security group ${missing} not found`));
  });

  it("rejects another tenant's remote group as NOT_FOUND, also for an admin", () => {
    const w = new World();
    const groupId = groupOf(w, tenantA);
    const theirs = groupOf(w, tenantB);
    for (const caller of [tenantA, admin]) {
      expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteGroupId: theirs }, caller), ErrorCode.NotFound, new RegExp(`security group ${theirs} not found`));
    }
  });

  it('rejects port 0, port 65536 and a range that ends before it starts, naming the field', () => {
    const w = new World();
    const groupId = groupOf(w);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 0, portMax: 80 }, tenantA), ErrorCode.InvalidArgument, /portMin: must be a port number from 1 to 65535/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'udp', portMin: 1, portMax: 65536 }, tenantA), ErrorCode.InvalidArgument, /portMax: must be a port number from 1 to 65535/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 2000, portMax: 1000 }, tenantA), ErrorCode.InvalidArgument, /portMin 2000 is above portMax 1000/);
    try {
      w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 0 }, tenantA);
    } catch (e) {
      expect((e as StrataError).details.field).toBe('portMin');
    }
  });

  it('rejects ports on non-tcp/udp rules and ICMP fields on non-ICMP rules', () => {
    const w = new World();
    const groupId = groupOf(w);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'icmp', portMin: 80 }, tenantA), ErrorCode.InvalidArgument, /portMin applies only to tcp and udp/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, portMax: 80 }, tenantA), ErrorCode.InvalidArgument, /portMax applies only to tcp and udp rules, not any/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', icmpType: 8 }, tenantA), ErrorCode.InvalidArgument, /icmpType applies only to icmp/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'icmp', icmpCode: 0 }, tenantA), ErrorCode.InvalidArgument, /icmpCode needs icmpType/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'icmp', icmpType: 256 }, tenantA), ErrorCode.InvalidArgument, /icmpType: must be 0-255/);
    expect(w.run('rule.create', { groupId, ...ingress, protocol: 'icmp', icmpType: 8, icmpCode: 0 }, tenantA).event.data).toMatchObject({ rule: { icmpType: 8, icmpCode: 0 } });
  });

  it('rejects icmp with IPv6 and icmpv6 with IPv4', () => {
    const w = new World();
    const groupId = groupOf(w);
    expectError(() => w.decide('rule.create', { groupId, direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' }, tenantA), ErrorCode.InvalidArgument, /use icmpv6 for an IPv6 rule/);
    expectError(() => w.decide('rule.create', { groupId, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmpv6' }, tenantA), ErrorCode.InvalidArgument, /use icmp for an IPv4 rule/);
  });

  it('rejects a bad CIDR, host bits, a CIDR of the other family and both remote kinds', () => {
    const w = new World();
    const groupId = groupOf(w);
    const other = groupOf(w, tenantA, 'app');
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteCidr: '10.0.0.0/33' }, tenantA), ErrorCode.InvalidArgument, /remoteCidr: /);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteCidr: 'banana' }, tenantA), ErrorCode.InvalidArgument, /remoteCidr: /);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteCidr: '10.0.0.1/24' }, tenantA), ErrorCode.InvalidArgument, /remoteCidr: .*did you mean 10.0.0.0\/24/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteCidr: '2001:db8::/32' }, tenantA), ErrorCode.InvalidArgument, /remoteCidr 2001:db8::\/32 is an IPv6 prefix but the rule's ethertype is IPv4/);
    expectError(() => w.decide('rule.create', { groupId, direction: 'egress', ethertype: 'IPv6', remoteCidr: '10.0.0.0/8' }, tenantA), ErrorCode.InvalidArgument, /is an IPv4 prefix but the rule's ethertype is IPv6/);
    expectError(() => w.decide('rule.create', { groupId, ...ingress, remoteGroupId: other, remoteCidr: '10.0.0.0/8' }, tenantA), ErrorCode.InvalidArgument, /remoteGroupId and remoteCidr are exclusive/);
  });

  it('rejects a rule equal to an existing one (all fields but the id) as ALREADY_EXISTS; a retried request answers the first', () => {
    const w = new World();
    const groupId = groupOf(w);
    const rid = '00000000-0000-4000-8000-000000000002';
    const first = w.run('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 22, portMax: 22 }, tenantA, rid);
    expect(w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', portMin: 22 }, tenantA, rid)).toEqual({ kind: 'done', resourceId: first.resourceId });
    expectError(() => w.decide('rule.create', { groupId, ...ingress, protocol: 'tcp', portMax: 22 }, tenantA), ErrorCode.AlreadyExists, new RegExp(`already has this rule: ${first.resourceId}`));
    // Any field differing makes another rule.
    expect(w.decide('rule.create', { groupId, direction: 'egress', ethertype: 'IPv4', protocol: 'tcp', portMin: 22 }, tenantA).kind).toBe('append');
  });

  it('removes a rule; an unknown rule is NOT_FOUND', () => {
    const w = new World();
    const groupId = groupOf(w);
    const rule = w.run('rule.create', { groupId, ...ingress }, tenantA).resourceId;
    w.run('rule.delete', { groupId, ruleId: rule }, tenantA);
    expect(w.state.groups[groupId]!.rules).toEqual([]);
    expectError(() => w.decide('rule.delete', { groupId, ruleId: rule }, tenantA), ErrorCode.NotFound, /not found/);
  });
});
