/** What secgroup queries return: plain values, the same shape the gRPC API will expose. */
import { z } from 'zod';

export const RuleDirection = ['ingress', 'egress'] as const;
export type RuleDirection = (typeof RuleDirection)[number];

export const EtherType = ['IPv4', 'IPv6'] as const;
export type EtherType = (typeof EtherType)[number];

export const RuleProtocol = ['tcp', 'udp', 'icmp', 'icmpv6', 'any'] as const;
export type RuleProtocol = (typeof RuleProtocol)[number];

/**
 * One allow rule: the one shape a rule has from the command that makes it
 * to the agent that enforces it (the events record it, queries answer it,
 * the host view carries it; the gRPC message is mapped from it in the api's
 * security-groups handler only). Ingress rules are checked at the
 * destination port, egress at the source port; both are stateful (replies
 * are allowed). `remoteGroupId` and `remoteCidr` are exclusive; both null =
 * any peer. Fields that do not apply to the protocol are null.
 */
export const SecurityGroupRule = z.object({
  id: z.string(),
  direction: z.enum(RuleDirection),
  ethertype: z.enum(EtherType),
  protocol: z.enum(RuleProtocol),
  /** tcp/udp only: inclusive port range; null = every port. */
  portMin: z.number().int().nullable(),
  portMax: z.number().int().nullable(),
  /** icmp/icmpv6 only: null = every type (code null = every code). */
  icmpType: z.number().int().nullable(),
  icmpCode: z.number().int().nullable(),
  /** The peer is any port that is a member of this group (group-to-group rule). */
  remoteGroupId: z.string().nullable(),
  /** The peer is any address in this canonical prefix, of the rule's ethertype. */
  remoteCidr: z.string().nullable(),
});
export type SecurityGroupRule = z.infer<typeof SecurityGroupRule>;

/** What a query answers for a rule: the rule itself, its description and when it was added (a rule never changes). */
export interface RuleView extends SecurityGroupRule {
  description: string;
  createdAt: string;
}

/** One rule on its own (`rule.get`, `rule.create`): with the group that holds it and that group's tenant. */
export interface GroupRuleView extends RuleView {
  groupId: string;
  tenant: string;
}

export interface SecurityGroupView {
  id: string;
  tenant: string;
  name: string;
  description: string;
  /** The tenant's default group: new ports join it automatically. */
  isDefault: boolean;
  /** Members in other zones with this tag (same tenant) are members here; null: none. */
  federationTag: number | null;
  /** In the order they were added. */
  rules: RuleView[];
  createdAt: string;
  /** When the group or its rules last changed (its last event). */
  updatedAt: string;
  /** 1 at creation, +1 for each change (rename, new description, a rule added or removed). */
  revision: number;
}

/**
 * A port's filtering: `groupIds` empty = the port is in no group and is not
 * filtered by security groups; otherwise traffic is allowed when a rule of
 * any of its groups allows it. `portSecurity` is anti-spoofing (the port may
 * only send from its own MAC and fixed IPs); on by default.
 */
export interface PortSecurityView {
  portId: string;
  tenant: string;
  /** Sorted. */
  groupIds: string[];
  portSecurity: boolean;
  /** +1 for each change of the port's groups or port security; 0 while never set. */
  revision: number;
}
