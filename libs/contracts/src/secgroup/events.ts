/**
 * The security-group service's events. Two aggregate kinds:
 *
 *   secgroup.group.<groupId>   a security group and its rules. The envelope
 *                              tenant is the owner.
 *   secgroup.port.<portId>     one port's filtering: its groups (membership
 *                              is a tag on the port, never a rule change)
 *                              and port security. The port itself belongs
 *                              to IPAM; this aggregate only exists beside it.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { SecurityGroupRule } from './views.js';

export const SECGROUP_CONTEXT = 'secgroup';

/** `rules`: the group's initial rules (the default group is created with four; others with none), in one event so a group never exists half-made. */
export const GroupCreated = defineEvent({
  type: 'secgroup.GroupCreated',
  version: 1,
  schema: z.object({
    groupId: z.string(),
    name: z.string(),
    description: z.string(),
    isDefault: z.boolean(),
    rules: z.array(SecurityGroupRule),
    /** Its federation tag, left out when it has none. */
    federationTag: z.number().int().optional(),
  }),
});

/** `description`: free text kept beside the rule (absent = empty; not part of what the rule matches, so not in the host view). */
export const RuleAdded = defineEvent({
  type: 'secgroup.RuleAdded',
  version: 1,
  schema: z.object({ groupId: z.string(), rule: SecurityGroupRule, description: z.string().optional() }),
});

export const RuleRemoved = defineEvent({
  type: 'secgroup.RuleRemoved',
  version: 1,
  schema: z.object({ groupId: z.string(), ruleId: z.string() }),
});

/** A rename, new description or federation tag: only the fields that changed are present (`federationTag: null`: removed). */
export const GroupUpdated = defineEvent({
  type: 'secgroup.GroupUpdated',
  version: 1,
  schema: z.object({ groupId: z.string(), name: z.string().optional(), description: z.string().optional(), federationTag: z.number().int().nullable().optional() }),
});

export const GroupDeleted = defineEvent({
  type: 'secgroup.GroupDeleted',
  version: 1,
  schema: z.object({ groupId: z.string() }),
});

/** The port's complete list of groups (sorted); empty = in no group, unfiltered. */
export const PortGroupsSet = defineEvent({
  type: 'secgroup.PortGroupsSet',
  version: 1,
  schema: z.object({ portId: z.string(), groupIds: z.array(z.string()) }),
});

export const PortSecuritySet = defineEvent({
  type: 'secgroup.PortSecuritySet',
  version: 1,
  schema: z.object({ portId: z.string(), enabled: z.boolean() }),
});

/**
 * IPAM deleted the port: its groups and port-security setting are dropped.
 * Always written after a PortDeleted (also when the port had no settings),
 * so a stale decision about the deleted port conflicts instead of landing.
 */
export const PortForgotten = defineEvent({
  type: 'secgroup.PortForgotten',
  version: 1,
  schema: z.object({ portId: z.string() }),
});

export const secgroupEvents = new EventRegistry([GroupCreated, GroupUpdated, RuleAdded, RuleRemoved, GroupDeleted, PortGroupsSet, PortSecuritySet, PortForgotten] as const);

export type SecgroupEvent = ReturnType<typeof secgroupEvents.decode>;
export const securityGroupAggregate = (id: string) => ({ context: SECGROUP_CONTEXT, type: 'group', id }) as const;
export const portSecurityAggregate = (id: string) => ({ context: SECGROUP_CONTEXT, type: 'port', id }) as const;
