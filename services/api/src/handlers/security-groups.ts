import type { EtherType, PortSecurityView, RuleDirection, RuleProtocol, RuleView, SecurityGroupView } from '@strata/contracts';
import { ValidationError } from '@strata/errors';
import {
  etherTypeFromProto,
  etherTypeToProto,
  ruleDirectionFromProto,
  ruleDirectionToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  type CreateSecurityGroupRuleRequest__Output,
  type PortSecurity,
  type SecurityGroup,
  type SecurityGroupRule,
  type SecurityGroupServiceHandlers,
  type SetPortSecurityRequest__Output,
} from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toSecurityGroupRule(v: RuleView): SecurityGroupRule {
  return {
    id: v.id,
    direction: ruleDirectionToProto(v.direction),
    ethertype: etherTypeToProto(v.ethertype),
    protocol: ruleProtocolToProto(v.protocol),
    // null (does not apply / every port, type, peer) is expressed by leaving the optional field unset.
    portMin: v.portMin ?? undefined,
    portMax: v.portMax ?? undefined,
    icmpType: v.icmpType ?? undefined,
    icmpCode: v.icmpCode ?? undefined,
    remoteGroupId: v.remoteGroupId ?? undefined,
    remoteCidr: v.remoteCidr ?? undefined,
  };
}

export function toSecurityGroup(v: SecurityGroupView): SecurityGroup {
  return {
    id: v.id,
    tenant: v.tenant,
    name: v.name,
    description: v.description,
    isDefault: v.isDefault,
    rules: v.rules.map(toSecurityGroupRule),
    createdAt: v.createdAt,
    revision: v.revision,
    federationTag: v.federationTag ?? undefined,
  };
}

export function toPortSecurity(v: PortSecurityView): PortSecurity {
  return { portId: v.portId, tenant: v.tenant, groupIds: v.groupIds, portSecurity: v.portSecurity, revision: v.revision };
}

/** The enums' zero value means the client did not choose: say so in the client's own terms. */
function required<T extends string>(field: string, value: T | '', names: readonly string[]): T {
  if (value === '') throw new ValidationError(`${field}: required, one of ${names.join(', ')}`, { field });
  return value;
}

/** The contract's `rule.create` body; unset optional fields stay omitted, an unspecified protocol means any. */
export function ruleRequestOf(req: CreateSecurityGroupRuleRequest__Output) {
  const protocol: RuleProtocol | '' = ruleProtocolFromProto(req.protocol);
  return {
    groupId: req.groupId,
    direction: required<RuleDirection>('direction', ruleDirectionFromProto(req.direction), ['RULE_DIRECTION_INGRESS', 'RULE_DIRECTION_EGRESS']),
    ethertype: required<EtherType>('ethertype', etherTypeFromProto(req.ethertype), ['ETHER_TYPE_IPV4', 'ETHER_TYPE_IPV6']),
    protocol: protocol === '' ? undefined : protocol,
    portMin: req.portMin,
    portMax: req.portMax,
    icmpType: req.icmpType,
    icmpCode: req.icmpCode,
    remoteGroupId: req.remoteGroupId,
    remoteCidr: req.remoteCidr,
  };
}

/** proto3 would read an unset bool as false: turning anti-spoofing off must be asked for. */
function enabledOf(req: SetPortSecurityRequest__Output): boolean {
  if (req.enabled === undefined) throw new ValidationError('enabled: required, true or false', { field: 'enabled' });
  return req.enabled;
}

/** Forwarded to the secgroup service, which enforces tenancy (another tenant's group or port is NOT_FOUND). */
export function securityGroupHandlers(deps: RpcDeps): SecurityGroupServiceHandlers {
  const { secgroup } = deps;
  return {
    CreateSecurityGroup: unary(deps, 'CreateSecurityGroup', async (req, { meta }) =>
      toSecurityGroup(await secgroup.command('group.create', { tenant: req.tenant, name: req.name, description: req.description, federationTag: req.federationTag }, meta)),
    ),
    GetSecurityGroup: unary(deps, 'GetSecurityGroup', async (req, { meta }) =>
      toSecurityGroup(await secgroup.query('group.get', { id: req.id }, meta)),
    ),
    ListSecurityGroups: unary(deps, 'ListSecurityGroups', async (req, { meta }) => {
      const page = await secgroup.query('group.list', paging(req), meta);
      return { items: page.items.map(toSecurityGroup), next: page.next };
    }),
    UpdateSecurityGroup: unary(deps, 'UpdateSecurityGroup', async (req, { meta }) =>
      toSecurityGroup(
        await secgroup.command('group.update', {
          id: req.id,
          expectedRevision: req.expectedRevision,
          name: req.name,
          description: req.description,
          // proto3 has no null: 0 (outside the tags' range) removes the tag.
          federationTag: req.federationTag === 0 ? null : req.federationTag,
        }, meta),
      ),
    ),
    DeleteSecurityGroup: unary(deps, 'DeleteSecurityGroup', (req, { meta }) => secgroup.command('group.delete', { id: req.id }, meta)),
    CreateSecurityGroupRule: unary(deps, 'CreateSecurityGroupRule', async (req, { meta }) =>
      toSecurityGroupRule(await secgroup.command('rule.create', ruleRequestOf(req), meta)),
    ),
    DeleteSecurityGroupRule: unary(deps, 'DeleteSecurityGroupRule', (req, { meta }) =>
      // An unset group id (proto3: '') lets the service find the rule's group.
      secgroup.command('rule.delete', { ...(req.groupId === '' ? {} : { groupId: req.groupId }), ruleId: req.ruleId }, meta),
    ),
    SetPortSecurityGroups: unary(deps, 'SetPortSecurityGroups', async (req, { meta }) =>
      toPortSecurity(await secgroup.command('port.setGroups', { portId: req.portId, groupIds: req.groupIds, expectedRevision: req.expectedRevision }, meta)),
    ),
    SetPortSecurity: unary(deps, 'SetPortSecurity', async (req, { meta }) =>
      toPortSecurity(await secgroup.command('port.setSecurity', { portId: req.portId, enabled: enabledOf(req), expectedRevision: req.expectedRevision }, meta)),
    ),
    GetPortSecurity: unary(deps, 'GetPortSecurity', async (req, { meta }) =>
      toPortSecurity(await secgroup.query('port.get', { portId: req.portId }, meta)),
    ),
  };
}
