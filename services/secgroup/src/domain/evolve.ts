/**
 * state + event → state, applied in stream order by every instance and by
 * replay. It mutates the state it is given (the state belongs to one
 * projection; nothing else holds a reference).
 *
 * Two inputs: secgroup's own events and IPAM's port lifecycle (the port
 * read model, folded by the shared `applyPortEvent`), read in one total
 * order (see `follow` in @strata/service-kit).
 */
import {
  applyPortEvent,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  ipamEvents,
  SECGROUP_CONTEXT,
  secgroupEvents,
  type IpamPortEvent,
  type SecgroupEvent,
} from '@strata/contracts';
import { applyUpdate, eventTypes, follow, ownEvents } from '@strata/service-kit';
import { federationTagKey, type GroupEntry, type SecgroupState } from './state.js';

/** What secgroup's state is folded from: its own events and IPAM's port lifecycle. */
export const secgroupFollows = follow(ownEvents(SECGROUP_CONTEXT, secgroupEvents), eventTypes(IPAM_CONTEXT, ipamEvents, IPAM_PORT_EVENT_TYPES));

/** Is this stored event one secgroup's state depends on? */
export const isRelevant = secgroupFollows.isRelevant;

/** Fold one stored event of the domain stream: decode what secgroup reads, skip the rest (only its sequence counts). */
export const applyStored = secgroupFollows.fold(evolve);

export function evolve(state: SecgroupState, event: SecgroupEvent | IpamPortEvent): SecgroupState {
  state.seq = event.seq;
  switch (event.type) {
    case 'secgroup.GroupCreated': {
      const d = event.data;
      const group: GroupEntry = {
        id: d.groupId,
        tenant: event.tenant,
        name: d.name,
        description: d.description,
        isDefault: d.isDefault,
        federationTag: d.federationTag ?? null,
        rules: [],
        ruleInfo: {},
        version: event.seq,
        revision: 1,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
      state.groups[d.groupId] = group;
      holdTag(state, group, group.federationTag);
      for (const rule of d.rules) addRule(state, group, rule, '', event.occurredAt);
      if (state.deletedGroups[d.groupId] !== undefined) {
        // Recreated (only the default group is): ports still listing it are members again. Rare, so a scan is fine.
        delete state.deletedGroups[d.groupId];
        for (const [portId, s] of Object.entries(state.portSettings)) {
          if (s.groupIds?.includes(d.groupId)) index(state.members, d.groupId, portId, true);
        }
        for (const other of Object.values(state.groups)) {
          for (const r of other.rules) if (r.remoteGroupId === d.groupId) index(state.remoteRefs, d.groupId, r.id, other.id);
        }
      }
      break;
    }
    case 'secgroup.GroupUpdated': {
      const { groupId, ...changed } = event.data;
      const g = state.groups[groupId];
      if (g && changed.federationTag !== undefined) holdTag(state, g, changed.federationTag);
      applyUpdate(g, { ...changed, version: event.seq, updatedAt: event.occurredAt });
      break;
    }
    case 'secgroup.RuleAdded': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      g.version = event.seq;
      g.revision++;
      g.updatedAt = event.occurredAt;
      addRule(state, g, event.data.rule, event.data.description ?? '', event.occurredAt);
      break;
    }
    case 'secgroup.RuleRemoved': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      g.version = event.seq;
      g.revision++;
      g.updatedAt = event.occurredAt;
      const rule = g.rules.find((r) => r.id === event.data.ruleId);
      if (!rule) break;
      g.rules = g.rules.filter((r) => r.id !== rule.id);
      delete g.ruleInfo[rule.id];
      delete state.ruleGroup[rule.id];
      if (rule.remoteGroupId !== null) unindex(state.remoteRefs, rule.remoteGroupId, rule.id);
      break;
    }
    case 'secgroup.GroupDeleted': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      for (const rule of g.rules) {
        delete state.ruleGroup[rule.id];
        if (rule.remoteGroupId !== null) unindex(state.remoteRefs, rule.remoteGroupId, rule.id);
      }
      holdTag(state, g, null);
      delete state.groups[g.id];
      delete state.members[g.id];
      delete state.remoteRefs[g.id];
      state.deletedGroups[g.id] = event.seq;
      break;
    }
    case 'secgroup.PortGroupsSet': {
      const s = settings(state, event.data.portId, event.tenant);
      for (const id of s.groupIds ?? []) unindex(state.members, id, event.data.portId);
      s.groupIds = [...event.data.groupIds];
      s.revision = s.forgotten ? 1 : s.revision + 1;
      s.forgotten = false;
      s.version = event.seq;
      // Only live groups are indexed: an id of a group deleted concurrently contributes nothing (see architecture notes).
      for (const id of s.groupIds) if (state.groups[id]) index(state.members, id, event.data.portId, true);
      break;
    }
    case 'secgroup.PortSecuritySet': {
      const s = settings(state, event.data.portId, event.tenant);
      s.portSecurity = event.data.enabled;
      s.revision = s.forgotten ? 1 : s.revision + 1;
      s.forgotten = false;
      s.version = event.seq;
      break;
    }
    case 'secgroup.PortForgotten': {
      const s = settings(state, event.data.portId, event.tenant);
      for (const id of s.groupIds ?? []) unindex(state.members, id, event.data.portId);
      state.portSettings[event.data.portId] = { tenant: event.tenant, version: event.seq, revision: 0, groupIds: null, portSecurity: true, forgotten: true };
      break;
    }
    case 'ipam.PortCreated':
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted': {
      const t = applyPortEvent(state.ports, event);
      // Ports per tenant: its default group cannot be deleted while it has any.
      if (t?.before && t.before.tenant !== t.after?.tenant) countPort(state, t.before.tenant, -1);
      if (t?.after && t.after.tenant !== t.before?.tenant) countPort(state, t.after.tenant, 1);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

/** The group now holds `tag` (null: none): its old tag is released, unless another group holds it (only an old race can make two). */
function holdTag(state: SecgroupState, group: GroupEntry, tag: number | null): void {
  if (group.federationTag !== null) {
    const key = federationTagKey(group.tenant, group.federationTag);
    if (state.federationTags[key] === group.id) delete state.federationTags[key];
  }
  if (tag !== null) state.federationTags[federationTagKey(group.tenant, tag)] = group.id;
  group.federationTag = tag;
}

function countPort(state: SecgroupState, tenant: string, delta: number): void {
  const n = (state.tenantPorts[tenant] ?? 0) + delta;
  if (n > 0) state.tenantPorts[tenant] = n;
  else delete state.tenantPorts[tenant];
}

function addRule(state: SecgroupState, group: GroupEntry, rule: GroupEntry['rules'][number], description: string, createdAt: string): void {
  group.rules.push({ ...rule });
  group.ruleInfo[rule.id] = { description, createdAt };
  state.ruleGroup[rule.id] = group.id;
  // A rule naming a group deleted concurrently is kept (it matches no peer) but not indexed.
  if (rule.remoteGroupId !== null && state.groups[rule.remoteGroupId]) index(state.remoteRefs, rule.remoteGroupId, rule.id, group.id);
}

function settings(state: SecgroupState, portId: string, tenant: string): SecgroupState['portSettings'][string] {
  let s = state.portSettings[portId];
  if (!s) {
    s = { tenant, version: 0, revision: 0, groupIds: null, portSecurity: true, forgotten: false };
    state.portSettings[portId] = s;
  }
  s.tenant = tenant;
  return s;
}

function index<V>(map: Record<string, Record<string, V>>, outer: string, inner: string, value: V): void {
  (map[outer] ??= {})[inner] = value;
}

function unindex(map: Record<string, Record<string, unknown>>, outer: string, inner: string): void {
  const m = map[outer];
  if (!m) return;
  delete m[inner];
  for (const _ in m) return; // still has entries (O(1), unlike Object.keys on a large group)
  delete map[outer];
}
