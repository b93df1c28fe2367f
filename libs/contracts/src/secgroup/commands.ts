/**
 * The security-group service's request schemas, one per operation;
 * contract.ts ties each to its operation, subject and reply.
 *
 * The schemas check each field on its own (types, ranges, canonical CIDR);
 * rules that tie fields together (ports only for tcp/udp, the CIDR's family
 * matches the ethertype, ...) are checked by the service's domain, which
 * answers INVALID_ARGUMENT naming the field either way.
 */
import { z } from 'zod';
import { MAX_GROUPS_PER_PORT, MAX_SECURITY_PORTS } from '../bounds.js';
import { Cidr, DisplayName, Id, ListOptions, TenantId } from '../common.js';
import { ExpectedRevision, immutable, UpdatedText } from '../updates.js';
import { EtherType, RuleDirection, RuleProtocol } from './views.js';

const L4Port = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be a port number from 1 to 65535' })
  .max(65535, { message: 'must be a port number from 1 to 65535' });
/**
 * A group's federation tag (docs/architecture.md, "Security groups across
 * zones"): the number the group's members carry as a BGP large community on
 * their federated routes, and by which another zone's group of the same
 * tenant with the same tag takes them as members. Unique per tenant in a zone.
 */
export const FederationTag = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be a federation tag from 1 to 65535' })
  .max(65535, { message: 'must be a federation tag from 1 to 65535' });
const IcmpField = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(0, { message: 'must be 0-255' })
  .max(255, { message: 'must be 0-255' });

export const CreateSecurityGroup = z.object({
  /** Admins may create for another tenant; a tenant caller may only name itself. */
  tenant: TenantId.optional(),
  name: DisplayName,
  description: DisplayName,
  /**
   * Start with Neutron's two egress rules (any protocol to anywhere, IPv4 and
   * IPv6), written in the same event as the group. Without them a new group
   * allows nothing (Strata's native default).
   */
  egressRules: z.boolean().default(false),
  /** Members of the group in other zones (same tenant, same tag) become members here, and this zone's members there. */
  federationTag: FederationTag.optional(),
});

/** The tenant's default group, created if it does not exist yet (Neutron makes it on a project's first use). Admins may name another tenant. */
export const EnsureDefaultSecurityGroup = z.object({ tenant: TenantId.optional() });

/** Name and description change; the tenant and whether it is the default group do not. Rules change by rule.create/delete. */
export const UpdateSecurityGroup = z.object({
  id: Id,
  expectedRevision: ExpectedRevision.optional(),
  name: UpdatedText.optional(),
  description: UpdatedText.optional(),
  /** A new federation tag; null removes it. */
  federationTag: FederationTag.nullable().optional(),
  tenant: immutable("a security group's tenant is fixed at creation"),
  isDefault: immutable('a tenant has exactly one default group, made by Strata'),
  rules: immutable('rules are added and removed one by one (rule create / rule delete)'),
});

export const SecurityGroupRef = z.object({ id: Id });

export const CreateSecurityGroupRule = z.object({
  groupId: Id,
  direction: z.enum(RuleDirection),
  ethertype: z.enum(EtherType),
  protocol: z.enum(RuleProtocol).default('any'),
  /** tcp/udp only. One of the two alone means that single port. */
  portMin: L4Port.optional(),
  portMax: L4Port.optional(),
  /** icmp (IPv4) / icmpv6 (IPv6) only; a code needs a type. */
  icmpType: IcmpField.optional(),
  icmpCode: IcmpField.optional(),
  /** Exclusive with remoteCidr; neither = any peer. */
  remoteGroupId: Id.optional(),
  /** Canonical prefix (host bits zero) of the ethertype's family. */
  remoteCidr: Cidr.optional(),
  /** Free text kept with the rule (not part of what it matches). */
  description: DisplayName,
});

/** `groupId` may be left out: a rule id names one rule of one group (Neutron deletes a rule by its id alone). */
export const DeleteSecurityGroupRule = z.object({ groupId: Id.optional(), ruleId: Id });

export const SecurityGroupRuleRef = z.object({ id: Id });

export const SetPortGroups = z.object({
  portId: Id,
  /** Replaces the port's groups. Empty: the port is in no group and is not filtered. */
  groupIds: z.array(Id).max(MAX_GROUPS_PER_PORT, { message: `a port may be in at most ${MAX_GROUPS_PER_PORT} security groups` }),
  /** The port security view's revision the caller read. */
  expectedRevision: ExpectedRevision.optional(),
});

/** Port security = anti-spoofing (MAC and fixed IPs of the port only). */
export const SetPortSecurity = z.object({ portId: Id, enabled: z.boolean(), expectedRevision: ExpectedRevision.optional() });

export const PortSecurityRef = z.object({ portId: Id });

/** Many ports' security at once (one query for a page of ports, not one per port). */
export const PortSecurityRefs = z.object({
  portIds: z.array(Id).min(1).max(MAX_SECURITY_PORTS, { message: `at most ${MAX_SECURITY_PORTS} ports per request` }),
});

export const ListSecurityGroups = ListOptions.extend({});
export const SecgroupDigestRequest = z.object({});
