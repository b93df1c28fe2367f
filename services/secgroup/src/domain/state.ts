/**
 * Security-group state: the groups and port settings the secgroup log says
 * exist, plus a read model of IPAM's ports (from IPAM's events) so commands
 * can check that a port exists and whose it is. Plain JSON-serialisable
 * records (no Maps), so a snapshot is a JSON document and equality with a
 * full replay is a digest comparison.
 */
import type { FollowedPort, FollowedPorts, SecurityGroupRule } from '@strata/contracts';

export interface SecgroupState {
  /** Last stream sequence seen (the projection reads the whole domain stream; see evolve.ts). */
  seq: number;
  groups: Record<string, GroupEntry>;
  /** groupId → last version of a deleted group's aggregate; a recreated default group continues from it. */
  deletedGroups: Record<string, number>;
  /** ruleId → groupId, for every rule of a live group. */
  ruleGroup: Record<string, string>;
  /** Remote group id → ruleId → id of the (live) group whose rule names it as remote group. */
  remoteRefs: Record<string, Record<string, string>>;
  /** groupId → portIds whose membership lists it (live groups only). */
  members: Record<string, Record<string, true>>;
  /** The `secgroup.port.<portId>` aggregates. */
  portSettings: Record<string, PortSettings>;
  /** IPAM's ports, folded by the shared port lifecycle (@strata/contracts, ipam/port-lifecycle.ts). */
  ports: FollowedPorts;
  /** tenant → how many IPAM ports it has (its default group cannot be deleted while > 0). */
  tenantPorts: Record<string, number>;
  /** federationTagKey(tenant, tag) → the live group holding the tag (one per tenant and tag: group.create/update refuse a second). */
  federationTags: Record<string, string>;
}

export const federationTagKey = (tenant: string, tag: number): string => `${tenant} ${tag}`;

export interface GroupEntry {
  id: string;
  tenant: string;
  name: string;
  description: string;
  isDefault: boolean;
  /** Its federation tag; null: none. */
  federationTag: number | null;
  /** In the order they were added. */
  rules: SecurityGroupRule[];
  /** ruleId → what is kept beside the rule: its description and when it was added. */
  ruleInfo: Record<string, RuleInfo>;
  /** Last sequence of the group's aggregate. */
  version: number;
  /** 1 at creation, +1 per event of the group (what `expectedRevision` is checked against). */
  revision: number;
  createdAt: string;
  /** occurredAt of the group's last event. */
  updatedAt: string;
}

export interface RuleInfo {
  description: string;
  createdAt: string;
}

export interface PortSettings {
  /** The tenant of the port's aggregate's last event (the port's: deciders write as it), so its history needs no IPAM event. */
  tenant: string;
  /** Last sequence of the port's aggregate. */
  version: number;
  /** +1 per PortGroupsSet/PortSecuritySet; 0 when never set or forgotten. */
  revision: number;
  /** null: never set (the reactor puts the port in its tenant's default group). [] = in no group, unfiltered. */
  groupIds: string[] | null;
  /** Anti-spoofing; on unless turned off. */
  portSecurity: boolean;
  /** The last event was PortForgotten (IPAM deleted the port). */
  forgotten: boolean;
}

/** A port as secgroup knows it: IPAM's, as its events describe it. */
export type PortEntry = FollowedPort;

export function initialState(): SecgroupState {
  return {
    seq: 0,
    groups: {},
    deletedGroups: {},
    ruleGroup: {},
    remoteRefs: {},
    members: {},
    portSettings: {},
    ports: {},
    tenantPorts: {},
    federationTags: {},
  };
}
