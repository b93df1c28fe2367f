/**
 * The security-group service's contract over NATS (contract.ts): commands at
 * `strata.cmd.secgroup.<op>`, queries at `strata.qry.secgroup.<op>`, each with
 * its request schema (commands.ts) and reply schema (below, checked against
 * views.ts).
 */
import { z } from 'zod';
import { defineContract, type CommandInput, type CommandName, type CommandRequest, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { historyQuery } from '../audit/history.js';
import { Deleted, pageOf, StateDigest } from '../replies.js';
import {
  CreateSecurityGroup,
  CreateSecurityGroupRule,
  DeleteSecurityGroupRule,
  EnsureDefaultSecurityGroup,
  ListSecurityGroups,
  PortSecurityRef,
  PortSecurityRefs,
  SecgroupDigestRequest,
  SecurityGroupRef,
  SecurityGroupRuleRef,
  SetPortGroups,
  SetPortSecurity,
  UpdateSecurityGroup,
} from './commands.js';
import * as v from './views.js';

const RuleView = z.object({
  id: z.string(),
  direction: z.enum(v.RuleDirection),
  ethertype: z.enum(v.EtherType),
  protocol: z.enum(v.RuleProtocol),
  portMin: z.number().nullable(),
  portMax: z.number().nullable(),
  icmpType: z.number().nullable(),
  icmpCode: z.number().nullable(),
  remoteGroupId: z.string().nullable(),
  remoteCidr: z.string().nullable(),
  description: z.string(),
  createdAt: z.string(),
});
const GroupRuleView = RuleView.extend({ groupId: z.string(), tenant: z.string() });
const SecurityGroupView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  description: z.string(),
  isDefault: z.boolean(),
  federationTag: z.number().nullable().default(null),
  rules: z.array(RuleView),
  createdAt: z.string(),
  updatedAt: z.string(),
  revision: z.number(),
});
const PortSecurityView = z.object({ portId: z.string(), tenant: z.string(), groupIds: z.array(z.string()), portSecurity: z.boolean(), revision: z.number() });

// The reply schemas parse to exactly the view types of views.ts: neither can change without the other.
true satisfies Exactly<z.output<typeof RuleView>, v.RuleView>;
true satisfies Exactly<z.output<typeof GroupRuleView>, v.GroupRuleView>;
true satisfies Exactly<z.output<typeof SecurityGroupView>, v.SecurityGroupView>;
true satisfies Exactly<z.output<typeof PortSecurityView>, v.PortSecurityView>;

export const secgroupContract = defineContract('secgroup', {
  commands: {
    'group.create': { request: CreateSecurityGroup, reply: SecurityGroupView },
    'group.update': { request: UpdateSecurityGroup, reply: SecurityGroupView },
    'group.delete': { request: SecurityGroupRef, reply: Deleted },
    'group.ensureDefault': { request: EnsureDefaultSecurityGroup, reply: SecurityGroupView },
    'rule.create': { request: CreateSecurityGroupRule, reply: GroupRuleView },
    'rule.delete': { request: DeleteSecurityGroupRule, reply: Deleted },
    'port.setGroups': { request: SetPortGroups, reply: PortSecurityView },
    'port.setSecurity': { request: SetPortSecurity, reply: PortSecurityView },
  },
  queries: {
    'group.get': { request: SecurityGroupRef, reply: SecurityGroupView },
    'group.list': { request: ListSecurityGroups, reply: pageOf(SecurityGroupView) },
    'rule.get': { request: SecurityGroupRuleRef, reply: GroupRuleView },
    'port.get': { request: PortSecurityRef, reply: PortSecurityView },
    /** The ports of `portIds` the caller may see and secgroup knows, in no particular order (the others are left out). */
    'port.list': { request: PortSecurityRefs, reply: z.object({ items: z.array(PortSecurityView) }) },
    'state.digest': { request: SecgroupDigestRequest, reply: StateDigest },
    history: historyQuery,
  },
});

export type SecgroupContract = typeof secgroupContract;
export type SecgroupCommandName = CommandName<SecgroupContract>;
export type SecgroupCommandInput<K extends SecgroupCommandName> = CommandInput<SecgroupContract, K>;
export type SecgroupCommand<K extends SecgroupCommandName> = CommandRequest<SecgroupContract, K>;
export type SecgroupQuery<K extends QueryName<SecgroupContract>> = QueryRequest<SecgroupContract, K>;
