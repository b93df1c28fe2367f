/**
 * The secgroup input node: security groups and their rules, each port's
 * groups and port security, and the indexes the sg and member families read
 * (ports and hosts per group, groups naming a remote group). Its inputs are
 * secgroup's events and the IPAM node's port moves (a port's host decides
 * where its groups are needed; a port coming or going starts or ends its
 * memberships).
 *
 * A port is a member of a group when both exist and the port's latest
 * PortGroupsSet lists the group.
 */
import type { SecgroupEvent, SecurityGroupRule } from '@strata/contracts';
import { addTo, count, EMPTY_IDS, removeFrom } from '../indexes.js';
import type { Change, Model, Slice } from '../model.js';
import type { IpamChange } from './ipam.js';
import { markRemoteMembers, tagKey } from './zone-members.js';

export interface GroupRec {
  id: string;
  tenant: string;
  /** ruleId → the rule as secgroup's event recorded it. */
  rules: Map<string, SecurityGroupRule>;
  /** Its federation tag: other zones' endpoints with it (same tenant) are members (inputs/zone-members.ts); null: none. */
  federationTag: number | null;
}

/** A port's filtering as secgroup set it (beside IPAM's port: it may exist before or after the port). */
export interface PortSecurityRec {
  /**
   * Sorted, without duplicates; may name groups that do not exist (deleted concurrently: they contribute nothing).
   * null until secgroup has decided the port's groups: such a port is not plugged (fail closed, see LocalPort).
   */
  groupIds: string[] | null;
  portSecurity: boolean;
}

export interface SecgroupModel {
  /** Security groups that exist. */
  groups: Map<string, GroupRec>;
  /** portId → its groups and port security; absent = groups not known, port security on. */
  portSecurity: Map<string, PortSecurityRec>;
  /** groupId → ports whose groups list it (whether the port or the group exists). */
  groupPorts: Map<string, Set<string>>;
  /** groupId → hostId → how many existing ports bound to that host list the group. */
  groupHosts: Map<string, Map<string, number>>;
  /** remote group id → existing group → how many of its rules name it as remote group. */
  remoteRefs: Map<string, Map<string, number>>;
  /** tagKey(tenant, tag) → existing groups with that federation tag (one, unless a race let two take it). */
  tagGroups: Map<string, Set<string>>;
}

export const emptySecgroupModel = (): SecgroupModel => ({
  groups: new Map(),
  portSecurity: new Map(),
  groupPorts: new Map(),
  groupHosts: new Map(),
  remoteRefs: new Map(),
  tagGroups: new Map(),
});

/** What changed in security-group terms. */
export interface SecgroupChange {
  /** Security groups whose HostSecurityGroup value can have changed: created, deleted, a rule added or removed. */
  groups: Set<string>;
  /**
   * groupId → ports whose membership of the group, or whose GroupMember value (IPs), can have changed:
   * the port joined or left the group, the port was created, re-created or deleted, the group was created or deleted.
   */
  members: Map<string, Set<string>>;
  /** Ports whose groups or port security changed. */
  ports: Set<string>;
}

export const emptySecgroupChange = (): SecgroupChange => ({ groups: new Set(), members: new Map(), ports: new Set() });

export type SecgroupInputEvent = Slice<SecgroupEvent>;

/** Fold one secgroup event into `model.secgroup`; records what changed in `change.secgroup`. */
export function applySecgroupEvent(model: Model, event: SecgroupInputEvent, change: Change): void {
  const sec = model.secgroup;
  const out = change.secgroup;
  switch (event.type) {
    case 'secgroup.GroupCreated': {
      const d = event.data;
      const existing = sec.groups.get(d.groupId);
      // Re-created (the default group can be): the event's rules replace the old ones.
      if (existing) unindexRules(sec, existing);
      if (existing) setTag(model, existing, null, change);
      const group: GroupRec = { id: d.groupId, tenant: event.tenant, rules: new Map(d.rules.map((r) => [r.id, r])), federationTag: null };
      sec.groups.set(group.id, group);
      indexRules(sec, group);
      out.groups.add(group.id);
      // The group comes into existence: every port listing it (and existing) becomes a member.
      if (!existing) markGroupMembers(model, group.id, out);
      setTag(model, group, d.federationTag ?? null, change);
      break;
    }
    case 'secgroup.GroupUpdated': {
      // A name or description is not part of any host's view; a federation tag changes remote members only.
      const group = sec.groups.get(event.data.groupId);
      if (group && event.data.federationTag !== undefined) setTag(model, group, event.data.federationTag, change);
      break;
    }
    case 'secgroup.RuleAdded': {
      const group = sec.groups.get(event.data.groupId);
      if (!group) break;
      const rule = event.data.rule;
      const old = group.rules.get(rule.id);
      if (old) unindexRule(sec, group.id, old);
      group.rules.set(rule.id, rule);
      indexRule(sec, group.id, rule);
      out.groups.add(group.id);
      break;
    }
    case 'secgroup.RuleRemoved': {
      const group = sec.groups.get(event.data.groupId);
      const rule = group?.rules.get(event.data.ruleId);
      if (!group || !rule) break;
      group.rules.delete(rule.id);
      unindexRule(sec, group.id, rule);
      out.groups.add(group.id);
      break;
    }
    case 'secgroup.GroupDeleted': {
      const group = sec.groups.get(event.data.groupId);
      if (!group) break;
      unindexRules(sec, group);
      setTag(model, group, null, change);
      sec.groups.delete(group.id);
      out.groups.add(group.id);
      // Ports still listing it (a concurrent race, see secgroup's README) stop being members.
      markGroupMembers(model, group.id, out);
      break;
    }
    case 'secgroup.PortGroupsSet':
      setPortGroups(model, event.data.portId, [...new Set(event.data.groupIds)].sort(), out);
      break;
    case 'secgroup.PortSecuritySet': {
      const { portId, enabled } = event.data;
      const rec = sec.portSecurity.get(portId);
      if ((rec?.portSecurity ?? true) === enabled) break;
      if (rec) rec.portSecurity = enabled;
      else sec.portSecurity.set(portId, { groupIds: null, portSecurity: enabled });
      out.ports.add(portId);
      break;
    }
    case 'secgroup.PortForgotten': {
      const portId = event.data.portId;
      if (!sec.portSecurity.has(portId)) break;
      setPortGroups(model, portId, [], out);
      // Forgetting turns "known" back into "not known" (null groups), whatever the groups were.
      out.ports.add(portId);
      sec.portSecurity.delete(portId);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know event ${(unreachable as { type: string }).type}`);
    }
  }
}

/**
 * The IPAM node moved ports: keep the group → host counts in step, and a
 * port created, re-created or deleted starts or ends its memberships (a
 * port that only changed host keeps them: membership does not depend on
 * where a port runs).
 */
export function onPortMoves(model: Model, moves: IpamChange['ports'], change: Change): void {
  const sec = model.secgroup;
  for (const [portId, { lifecycle, before, after }] of moves) {
    const groupIds = groupIdsOf(sec, portId);
    if (groupIds.length === 0) continue;
    for (const g of groupIds) {
      if (before?.hostId != null) count(sec.groupHosts, g, before.hostId, -1);
      if (after?.hostId != null) count(sec.groupHosts, g, after.hostId, 1);
      if (lifecycle !== 'bound' && sec.groups.has(g)) addTo(change.secgroup.members, g, portId);
    }
  }
}

/** The group's federation tag becomes `tag`: the remote members of the old tag and of the new one change. */
function setTag(model: Model, group: GroupRec, tag: number | null, change: Change): void {
  if (group.federationTag === tag) return;
  const sec = model.secgroup;
  if (group.federationTag !== null) {
    markRemoteMembers(model, group.id, change);
    removeFrom(sec.tagGroups, tagKey(group.tenant, group.federationTag), group.id);
  }
  group.federationTag = tag;
  if (tag !== null) {
    addTo(sec.tagGroups, tagKey(group.tenant, tag), group.id);
    markRemoteMembers(model, group.id, change);
  }
}

function indexRule(sec: SecgroupModel, groupId: string, rule: SecurityGroupRule): void {
  if (rule.remoteGroupId !== null) count(sec.remoteRefs, rule.remoteGroupId, groupId, 1);
}

function unindexRule(sec: SecgroupModel, groupId: string, rule: SecurityGroupRule): void {
  if (rule.remoteGroupId !== null) count(sec.remoteRefs, rule.remoteGroupId, groupId, -1);
}

function indexRules(sec: SecgroupModel, group: GroupRec): void {
  for (const rule of group.rules.values()) indexRule(sec, group.id, rule);
}

function unindexRules(sec: SecgroupModel, group: GroupRec): void {
  for (const rule of group.rules.values()) unindexRule(sec, group.id, rule);
}

/** The groups a port lists (sorted), whether or not they exist. */
export function groupIdsOf(sec: SecgroupModel, portId: string): readonly string[] {
  return sec.portSecurity.get(portId)?.groupIds ?? EMPTY_IDS;
}

/** A port is a member of a group when both exist and the port lists the group. */
export function isMember(model: Model, groupId: string, portId: string): boolean {
  return model.secgroup.groups.has(groupId) && model.ipam.ports.has(portId) && groupIdsOf(model.secgroup, portId).includes(groupId);
}

/** Record (group, port) as a membership that can have changed, if it can exist at all. */
function markMember(model: Model, groupId: string, portId: string, out: SecgroupChange): void {
  if (model.secgroup.groups.has(groupId) && model.ipam.ports.has(portId)) addTo(out.members, groupId, portId);
}

/** Every membership of one group (it comes into existence or goes). */
function markGroupMembers(model: Model, groupId: string, out: SecgroupChange): void {
  for (const p of model.secgroup.groupPorts.get(groupId) ?? []) if (model.ipam.ports.has(p)) addTo(out.members, groupId, p);
}

/** Replace a port's groups (sorted, unique): memberships left and joined, and the port's settings, are recorded. */
function setPortGroups(model: Model, portId: string, groupIds: string[], out: SecgroupChange): void {
  const sec = model.secgroup;
  const before = groupIdsOf(sec, portId);
  const known = sec.portSecurity.get(portId)?.groupIds != null;
  // The first decision always counts, even an empty list: it turns "not known yet" into "known".
  if (known && before.length === groupIds.length && before.every((g, i) => g === groupIds[i])) return;
  const hostId = model.ipam.ports.get(portId)?.hostId ?? null;
  const after = new Set(groupIds);
  for (const g of before) {
    if (after.has(g)) continue;
    markMember(model, g, portId, out);
    removeFrom(sec.groupPorts, g, portId);
    if (hostId !== null) count(sec.groupHosts, g, hostId, -1);
  }
  const had = new Set(before);
  for (const g of groupIds) {
    if (had.has(g)) continue;
    addTo(sec.groupPorts, g, portId);
    if (hostId !== null) count(sec.groupHosts, g, hostId, 1);
    markMember(model, g, portId, out);
  }
  const rec = sec.portSecurity.get(portId);
  if (rec) rec.groupIds = groupIds;
  else sec.portSecurity.set(portId, { groupIds, portSecurity: true });
  out.ports.add(portId);
}

/** Hosts with an existing port bound to them that lists the group (registered or not). */
export function hostsWithMembers(sec: SecgroupModel, groupId: string): Iterable<string> {
  return sec.groupHosts.get(groupId)?.keys() ?? EMPTY_IDS;
}

/** Hosts whose local groups' rules name `groupId` as remote group: the hosts that hold its member keys. */
export function hostsReferencing(sec: SecgroupModel, groupId: string): Set<string> {
  const hosts = new Set<string>();
  for (const g of sec.remoteRefs.get(groupId)?.keys() ?? []) for (const h of hostsWithMembers(sec, g)) hosts.add(h);
  return hosts;
}
