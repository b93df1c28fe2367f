import { describe, expect, it } from 'vitest';
import type { PortSecurity__Output, SecurityGroup__Output, SecurityGroupRule__Output } from '@strata/proto';
import {
  groupNamesOf,
  portGroupsRequest,
  portSecurityColumns,
  renderSecurityGroup,
  ruleLine,
  ruleRequest,
  securityGroupColumns,
  type RuleOptions,
} from './commands/security-groups.js';
import { UsageError } from './errors.js';
import { renderJson, renderRecord, renderTable } from './output.js';

const WEB = '11111111-1111-4111-8111-111111111111';
const APP = '22222222-2222-4222-8222-222222222222';

/** As proto-loader decodes a rule: unset optional fields absent, set ones with their virtual oneof marker. */
function rule(over: Partial<SecurityGroupRule__Output> & { id: string }): SecurityGroupRule__Output {
  const r: Record<string, unknown> = { direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', ...over };
  for (const k of ['portMin', 'portMax', 'icmpType', 'icmpCode', 'remoteGroupId', 'remoteCidr']) if (k in over) r[`_${k}`] = k;
  return r as unknown as SecurityGroupRule__Output;
}

const r9000 = rule({ id: 'r-9000', portMin: 9000, portMax: 9000, remoteGroupId: WEB });
const group = (over: Partial<SecurityGroup__Output>): SecurityGroup__Output => ({
  id: APP, tenant: 'tenant-a', name: 'app', description: 'application servers', isDefault: false, rules: [], createdAt: '2024-05-01T14:03:00.000Z', ...over,
});

describe('rules as lines', () => {
  const names = new Map([[WEB, 'web']]);

  it.each<[string, SecurityGroupRule__Output, string]>([
    ['one port from a group', r9000, 'ingress IPv4 tcp 9000 from group web'],
    ['one port from anywhere', rule({ id: 'x', portMin: 443, portMax: 443 }), 'ingress IPv4 tcp 443 from any'],
    ['a range from a prefix', rule({ id: 'x', protocol: 'RULE_PROTOCOL_UDP', portMin: 1000, portMax: 2000, remoteCidr: '10.0.0.0/8' }), 'ingress IPv4 udp 1000-2000 from 10.0.0.0/8'],
    ['every port', rule({ id: 'x' }), 'ingress IPv4 tcp from any'],
    ['egress: to', rule({ id: 'x', direction: 'RULE_DIRECTION_EGRESS', ethertype: 'ETHER_TYPE_IPV6', protocol: 'RULE_PROTOCOL_ANY' }), 'egress IPv6 any to any'],
    ['icmp type and code', rule({ id: 'x', protocol: 'RULE_PROTOCOL_ICMP', icmpType: 8, icmpCode: 0 }), 'ingress IPv4 icmp type 8 code 0 from any'],
    ['icmpv6 type', rule({ id: 'x', ethertype: 'ETHER_TYPE_IPV6', protocol: 'RULE_PROTOCOL_ICMPV6', icmpType: 128 }), 'ingress IPv6 icmpv6 type 128 from any'],
    ['an unnamed group by id', rule({ id: 'x', remoteGroupId: APP }), `ingress IPv4 tcp from group ${APP}`],
  ])('%s', (_what, r, line) => {
    expect(ruleLine(r, names)).toBe(line);
  });

  it('names only groups whose name is given and unique', () => {
    const names = groupNamesOf([group({ id: WEB, name: 'web' }), group({ id: APP, name: 'dup' }), group({ id: 'a3', name: 'dup' }), group({ id: 'a4', name: '' })]);
    expect([...names]).toEqual([[WEB, 'web']]);
  });
});

describe('security group tables', () => {
  it('shows a group’s fields, then its rules with their ids', () => {
    const text = renderSecurityGroup(group({ rules: [r9000] }), new Map([[WEB, 'web']]));
    expect(text).toMatch(/│ DESCRIPTION\s+│ application servers\s+│/);
    expect(text).toMatch(/│ DEFAULT\s+│ no\s+│/);
    expect(text).toMatch(/│ FEDERATION TAG │ none\s+│/);
    expect(renderSecurityGroup(group({ federationTag: 10 }))).toMatch(/│ FEDERATION TAG │ 10\s+│/);
    expect(text).toMatch(/│ RULE ID │ RULE\s+│/);
    expect(text).toContain('│ r-9000  │ ingress IPv4 tcp 9000 from group web │');
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('lists groups with their rules as lines, and says when a group allows nothing', () => {
    const web = group({ id: WEB, name: 'web', rules: [rule({ id: 'r443', portMin: 443, portMax: 443 })] });
    const app = group({ rules: [r9000] });
    const empty = group({ id: 'e', name: 'empty' });
    const text = renderTable([web, app, empty], securityGroupColumns(groupNamesOf([web, app, empty])));
    expect(text.split('\n')[1]).toMatch(/│ ID\s+│ NAME\s+│ TENANT\s+│ DEFAULT │ RULES\s+│/);
    expect(text).toContain('ingress IPv4 tcp 443 from any');
    expect(text).toContain('ingress IPv4 tcp 9000 from group web');
    expect(text).toContain('none (allows nothing)');
  });

  it('shows a port’s groups by name and id, or that it is not filtered', () => {
    const p: PortSecurity__Output = { portId: 'p1', tenant: 'tenant-a', groupIds: [WEB, APP], portSecurity: true };
    const text = renderRecord(p, portSecurityColumns(new Map([[WEB, 'web']])));
    expect(text).toMatch(new RegExp(`│ GROUPS\\s+│ web \\(${WEB}\\)\\s+│`));
    expect(text).toMatch(new RegExp(`│\\s+│ ${APP}\\s+│`));
    expect(text).toMatch(/│ PORT SECURITY │ on\s+│/);
    const bare = renderRecord({ ...p, groupIds: [], portSecurity: false }, portSecurityColumns());
    expect(bare).toMatch(/│ GROUPS\s+│ none \(not filtered\)\s+│/);
    expect(bare).toMatch(/│ PORT SECURITY │ off\s+│/);
  });

  it('-o json is the API’s rule exactly: unset fields absent, no virtual oneof keys', () => {
    expect(JSON.parse(renderJson(r9000))).toEqual({
      id: 'r-9000', direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: 9000, portMax: 9000, remoteGroupId: WEB,
    });
  });
});

describe('secgroup rule create: the request', () => {
  const base: RuleOptions = { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp' };

  it('turns the options into proto enums and sets only what was given', () => {
    expect(ruleRequest(WEB, { ...base, port: 443 })).toEqual({
      groupId: WEB, direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: 443, portMax: 443,
    });
    expect(ruleRequest(WEB, { ...base, portRange: { min: 1000, max: 2000 }, remoteGroup: APP })).toMatchObject({ portMin: 1000, portMax: 2000, remoteGroupId: APP });
    const icmp = ruleRequest(WEB, { direction: 'egress', ethertype: 'IPv6', protocol: 'icmpv6', icmpType: 128, icmpCode: 0, remoteCidr: '2001:db8::/32' });
    expect(icmp).toEqual({
      groupId: WEB, direction: 'RULE_DIRECTION_EGRESS', ethertype: 'ETHER_TYPE_IPV6', protocol: 'RULE_PROTOCOL_ICMPV6', icmpType: 128, icmpCode: 0, remoteCidr: '2001:db8::/32',
    });
    expect(ruleRequest(WEB, { ...base, protocol: 'any' })).not.toHaveProperty('portMin');
  });

  it('passes values out of range on, for the server to judge', () => {
    expect(ruleRequest(WEB, { ...base, port: 0 })).toMatchObject({ portMin: 0, portMax: 0 });
  });

  it('refuses contradictions', () => {
    expect(() => ruleRequest(WEB, { ...base, port: 1, portRange: { min: 1, max: 2 } })).toThrow(UsageError);
    expect(() => ruleRequest(WEB, { ...base, remoteGroup: APP, remoteCidr: '10.0.0.0/8' })).toThrow(/--remote-group or --remote-cidr, not both/);
  });
});

describe('port set-groups: the request', () => {
  it('takes the groups, or none with --none, never both or neither', () => {
    expect(portGroupsRequest('p1', [WEB, APP], false)).toEqual({ portId: 'p1', groupIds: [WEB, APP] });
    expect(portGroupsRequest('p1', [], true)).toEqual({ portId: 'p1', groupIds: [] });
    expect(() => portGroupsRequest('p1', [], false)).toThrow(/give one or more security groups, or --none/);
    expect(() => portGroupsRequest('p1', [WEB], true)).toThrow(UsageError);
  });
});
