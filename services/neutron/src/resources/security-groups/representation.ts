/**
 * Secgroup's views as Neutron shows them (the security-group extension with
 * standard attributes, stateful-security-group and
 * security-groups-normalized-cidr). Pure: view in, JSON out.
 *
 * - A rule's ports: tcp/udp port range, or for icmp/icmpv6 the ICMP type
 *   (port_range_min) and code (port_range_max), as Neutron stores them.
 * - protocol: null for any; Strata's icmpv6 is Neutron's `ipv6-icmp`.
 * - Strata keeps remote prefixes canonical, so normalized_cidr is the prefix itself.
 * - A rule never changes after it is made: revision_number 0 and
 *   updated_at = created_at, as Neutron shows a rule.
 * - Security groups are always stateful and never shared (no RBAC).
 */
import type { GroupRuleView, RuleProtocol, RuleView, SecurityGroupView } from '@strata/contracts';
import type { Json } from '../../resource.js';

const NEUTRON_PROTOCOL: Readonly<Record<RuleProtocol, string | null>> = { any: null, tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'ipv6-icmp' };

/** Neutron's timestamps have whole seconds (`2026-01-01T10:00:00Z`). */
export const neutronTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

const isIcmp = (p: RuleProtocol): boolean => p === 'icmp' || p === 'icmpv6';

export function neutronRule(rule: RuleView, groupId: string, tenant: string): Json {
  const icmp = isIcmp(rule.protocol);
  return {
    id: rule.id,
    security_group_id: groupId,
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: NEUTRON_PROTOCOL[rule.protocol],
    port_range_min: icmp ? rule.icmpType : rule.portMin,
    port_range_max: icmp ? rule.icmpCode : rule.portMax,
    remote_ip_prefix: rule.remoteCidr,
    normalized_cidr: rule.remoteCidr,
    remote_group_id: rule.remoteGroupId,
    remote_address_group_id: null,
    description: rule.description,
    tenant_id: tenant,
    project_id: tenant,
    revision_number: 0,
    created_at: neutronTime(rule.createdAt),
    updated_at: neutronTime(rule.createdAt),
  };
}

export const neutronGroupRule = (v: GroupRuleView): Json => neutronRule(v, v.groupId, v.tenant);

export function neutronGroup(g: SecurityGroupView): Json {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.tenant,
    project_id: g.tenant,
    security_group_rules: g.rules.map((r) => neutronRule(r, g.id, g.tenant)),
    stateful: true,
    shared: false,
    revision_number: g.revision,
    created_at: neutronTime(g.createdAt),
    updated_at: neutronTime(g.updatedAt),
  };
}
