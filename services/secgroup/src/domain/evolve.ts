/**
 * state + event → state, applied in stream order by every instance and by
 * replay. It mutates the state it is given (the state belongs to one
 * projection; nothing else holds a reference).
 *
 * Two inputs: secgroup's own events and IPAM's port events (the port read
 * model). nats-server 2.9 consumers take one filter subject, so the
 * projection reads the whole domain stream (`strata.evt.>`) in stream order
 * and `applyStored` picks what it needs: a total order across both inputs,
 * one sequence for read-your-writes, at the cost of skipping other
 * contexts' events client-side (with 2.10, two filter subjects).
 */
import {
  ipamEvents,
  IPAM_CONTEXT,
  SECGROUP_CONTEXT,
  secgroupEvents,
  type IpamEvent,
  type SecgroupEvent,
} from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import type { GroupEntry, SecgroupState } from './state.js';

/** The IPAM events secgroup follows. Others (and IPAM event types newer than this build) are skipped undecoded. */
const IPAM_PORT_EVENTS = new Set(['ipam.PortCreated', 'ipam.PortBound', 'ipam.PortDeleted']);

type IpamPortEvent = Extract<IpamEvent, { type: 'ipam.PortCreated' | 'ipam.PortBound' | 'ipam.PortDeleted' }>;

/** Is this stored event one secgroup's state depends on? */
export function isRelevant(event: Pick<StoredEvent, 'type' | 'aggregate'>): boolean {
  if (event.aggregate.context === SECGROUP_CONTEXT) return true;
  return event.aggregate.context === IPAM_CONTEXT && IPAM_PORT_EVENTS.has(event.type);
}

/** Fold one stored event of the domain stream: decode what secgroup reads, skip the rest (only its sequence counts). */
export function applyStored(state: SecgroupState, stored: StoredEvent): SecgroupState {
  if (!isRelevant(stored)) {
    state.seq = stored.seq;
    return state;
  }
  if (stored.aggregate.context === SECGROUP_CONTEXT) return evolve(state, secgroupEvents.decode(stored));
  return evolve(state, ipamEvents.decode(stored) as IpamPortEvent);
}

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
        rules: [],
        version: event.seq,
        createdAt: event.occurredAt,
      };
      state.groups[d.groupId] = group;
      for (const rule of d.rules) addRule(state, group, rule);
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
    case 'secgroup.RuleAdded': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      g.version = event.seq;
      addRule(state, g, event.data.rule);
      break;
    }
    case 'secgroup.RuleRemoved': {
      const g = state.groups[event.data.groupId];
      if (!g) break;
      g.version = event.seq;
      const rule = g.rules.find((r) => r.id === event.data.ruleId);
      if (!rule) break;
      g.rules = g.rules.filter((r) => r.id !== rule.id);
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
      delete state.groups[g.id];
      delete state.members[g.id];
      delete state.remoteRefs[g.id];
      state.deletedGroups[g.id] = event.seq;
      break;
    }
    case 'secgroup.PortGroupsSet': {
      const s = settings(state, event.data.portId);
      for (const id of s.groupIds ?? []) unindex(state.members, id, event.data.portId);
      s.groupIds = [...event.data.groupIds];
      s.forgotten = false;
      s.version = event.seq;
      // Only live groups are indexed: an id of a group deleted concurrently contributes nothing (see architecture notes).
      for (const id of s.groupIds) if (state.groups[id]) index(state.members, id, event.data.portId, true);
      break;
    }
    case 'secgroup.PortSecuritySet': {
      const s = settings(state, event.data.portId);
      s.portSecurity = event.data.enabled;
      s.forgotten = false;
      s.version = event.seq;
      break;
    }
    case 'secgroup.PortForgotten': {
      const s = settings(state, event.data.portId);
      for (const id of s.groupIds ?? []) unindex(state.members, id, event.data.portId);
      state.portSettings[event.data.portId] = { version: event.seq, groupIds: null, portSecurity: true, forgotten: true };
      break;
    }
    case 'ipam.PortCreated': {
      const d = event.data;
      if (state.ports[d.portId]) break;
      state.ports[d.portId] = {
        id: d.portId,
        tenant: event.tenant,
        networkId: event.aggregate.id,
        mac: d.mac,
        fixedIps: d.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip })),
        hostId: d.hostId,
      };
      state.tenantPorts[event.tenant] = (state.tenantPorts[event.tenant] ?? 0) + 1;
      break;
    }
    case 'ipam.PortBound': {
      const p = state.ports[event.data.portId];
      if (p) p.hostId = event.data.hostId;
      break;
    }
    case 'ipam.PortDeleted': {
      const p = state.ports[event.data.portId];
      if (!p) break;
      delete state.ports[p.id];
      const left = (state.tenantPorts[p.tenant] ?? 1) - 1;
      if (left > 0) state.tenantPorts[p.tenant] = left;
      else delete state.tenantPorts[p.tenant];
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

function addRule(state: SecgroupState, group: GroupEntry, rule: GroupEntry['rules'][number]): void {
  group.rules.push({ ...rule });
  state.ruleGroup[rule.id] = group.id;
  // A rule naming a group deleted concurrently is kept (it matches no peer) but not indexed.
  if (rule.remoteGroupId !== null && state.groups[rule.remoteGroupId]) index(state.remoteRefs, rule.remoteGroupId, rule.id, group.id);
}

function settings(state: SecgroupState, portId: string): SecgroupState['portSettings'][string] {
  let s = state.portSettings[portId];
  if (!s) {
    s = { version: 0, groupIds: null, portSecurity: true, forgotten: false };
    state.portSettings[portId] = s;
  }
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
