/** Deciders of the configuration commands (all on the `bgp.config.default` singleton, all admin-only). */
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '@strata/errors';
import { BGP_CONFIG_AGGREGATE, type BgpCommand } from '@strata/contracts';
import { contains, overlaps, parseAddress, parsePrefix } from '@strata/netaddr';
import { changedFields, checkRevision, createdId, isEmpty, requireAdmin } from '@strata/service-kit';
import type { BgpState } from '../state.js';
import { SYSTEM_TENANT, type CommandContext, type Decision, type NewBgpEvent } from './types.js';

const ACTION = 'configuring the BGP gateway';

function configEvent(state: BgpState, resourceId: string, event: NewBgpEvent, tenant = SYSTEM_TENANT): Decision {
  return { kind: 'append', aggregate: BGP_CONFIG_AGGREGATE, expectedVersion: state.config.version, tenant, resourceId, event };
}

export function setSettings(state: BgpState, cmd: BgpCommand<'settings.set'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const s = state.config.settings;
  if (s && s.localAs === cmd.localAs && s.routerId === cmd.routerId && s.listenPort === cmd.listenPort) return { kind: 'done', resourceId: 'default' };
  return configEvent(state, 'default', { type: 'bgp.SettingsSet', data: { localAs: cmd.localAs, routerId: cmd.routerId, listenPort: cmd.listenPort } });
}

export function createPeer(state: BgpState, cmd: BgpCommand<'peer.create'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const id = createdId(ctx.caller, 'bgp', 'peer');
  const existing = state.config.peers[id];
  if (existing) {
    if (existing.address === cmd.address) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`BGP peer ${id} already exists`);
  }
  const twin = Object.values(state.config.peers).find((p) => p.address === cmd.address);
  if (twin) throw new AlreadyExistsError(`BGP peer ${twin.id} (${twin.name}) already has address ${cmd.address}`, { field: 'address' });
  const addr = parseAddress(cmd.address);
  if (addr.version !== 4) throw new ValidationError('address: IPv6 fabric sessions are not supported yet; use an IPv4 address', { field: 'address' });
  const group = Object.values(state.config.groups).find((g) => contains(parsePrefix(g.listenRange), addr));
  if (group) {
    throw new IllegalStateError(`address ${cmd.address} is inside the listen range ${group.listenRange} of peer group ${group.id} (${group.name})`, {
      field: 'address',
    });
  }
  const passwordRef = cmd.passwordRef ?? null;
  return configEvent(state, id, { type: 'bgp.PeerAdded', data: { peerId: id, name: cmd.name, address: cmd.address, remoteAs: cmd.remoteAs, passwordRef } });
}

/** Name, AS and secret of a fabric peer; its address is fixed (refused by the request schema). */
export function updatePeer(state: BgpState, cmd: BgpCommand<'peer.update'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const peer = state.config.peers[cmd.id];
  if (!peer) throw new NotFoundError('BGP peer', cmd.id);
  checkRevision('BGP peer', peer.id, cmd.expectedRevision, peer.revision);
  const changes = changedFields({ name: peer.name, remoteAs: peer.remoteAs, passwordRef: peer.passwordRef }, cmd);
  if (isEmpty(changes)) return { kind: 'done', resourceId: peer.id };
  return configEvent(state, peer.id, { type: 'bgp.PeerUpdated', data: { peerId: peer.id, ...changes } });
}

export function deletePeer(state: BgpState, cmd: BgpCommand<'peer.delete'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const peer = state.config.peers[cmd.id];
  if (!peer) throw new NotFoundError('BGP peer', cmd.id);
  return configEvent(state, peer.id, { type: 'bgp.PeerRemoved', data: { peerId: peer.id, address: peer.address } });
}

export function createPeerGroup(state: BgpState, cmd: BgpCommand<'peergroup.create'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const id = createdId(ctx.caller, 'bgp', 'peer-group');
  const existing = state.config.groups[id];
  if (existing) {
    if (existing.listenRange === cmd.listenRange) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`BGP peer group ${id} already exists`);
  }
  const range = parsePrefix(cmd.listenRange);
  if (range.version !== 4) throw new ValidationError('listenRange: IPv6 appliance sessions are not supported yet; use an IPv4 range', { field: 'listenRange' });
  const clash = Object.values(state.config.groups).find((g) => overlaps(parsePrefix(g.listenRange), range));
  if (clash) {
    throw new IllegalStateError(`listen range ${cmd.listenRange} overlaps ${clash.listenRange} of peer group ${clash.id} (${clash.name})`, { field: 'listenRange' });
  }
  const peer = Object.values(state.config.peers).find((p) => contains(range, parseAddress(p.address)));
  if (peer) {
    throw new IllegalStateError(`listen range ${cmd.listenRange} contains the address ${peer.address} of BGP peer ${peer.id} (${peer.name})`, {
      field: 'listenRange',
    });
  }
  return configEvent(state, id, {
    type: 'bgp.PeerGroupAdded',
    data: {
      groupId: id,
      name: cmd.name,
      listenRange: cmd.listenRange,
      remoteAs: cmd.remoteAs,
      passwordRef: cmd.passwordRef ?? null,
      maxPrefixes: cmd.maxPrefixes,
      sendDefault: cmd.sendDefault,
    },
  });
}

/** Name, AS, secret, prefix limit and default route of a peer group; its listen range is fixed (refused by the request schema). */
export function updatePeerGroup(state: BgpState, cmd: BgpCommand<'peergroup.update'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const group = state.config.groups[cmd.id];
  if (!group) throw new NotFoundError('BGP peer group', cmd.id);
  checkRevision('BGP peer group', group.id, cmd.expectedRevision, group.revision);
  const { name, remoteAs, passwordRef, maxPrefixes, sendDefault } = group;
  const changes = changedFields({ name, remoteAs, passwordRef, maxPrefixes, sendDefault }, cmd);
  if (isEmpty(changes)) return { kind: 'done', resourceId: group.id };
  return configEvent(state, group.id, { type: 'bgp.PeerGroupUpdated', data: { groupId: group.id, ...changes } });
}

export function deletePeerGroup(state: BgpState, cmd: BgpCommand<'peergroup.delete'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const group = state.config.groups[cmd.id];
  if (!group) throw new NotFoundError('BGP peer group', cmd.id);
  return configEvent(state, group.id, { type: 'bgp.PeerGroupRemoved', data: { groupId: group.id } });
}

export function assignPrefix(state: BgpState, cmd: BgpCommand<'appliance.assign'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const ap = state.fabric.appPrefixes[cmd.prefixId];
  if (!ap) throw new NotFoundError('application prefix', cmd.prefixId);
  const current = state.config.assignments[cmd.prefixId];
  if (current?.deviceId === cmd.deviceId) return { kind: 'done', resourceId: cmd.prefixId };
  if (current) {
    throw new IllegalStateError(`application prefix ${ap.prefix} is assigned to appliance ${current.deviceId}; unassign it first`, { field: 'prefixId' });
  }
  return configEvent(state, cmd.prefixId, { type: 'bgp.AppliancePrefixAssigned', data: { prefixId: cmd.prefixId, prefix: ap.prefix, deviceId: cmd.deviceId } }, ap.tenant);
}

export function unassignPrefix(state: BgpState, cmd: BgpCommand<'appliance.unassign'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, ACTION);
  const current = state.config.assignments[cmd.prefixId];
  if (!current) throw new NotFoundError('appliance assignment of application prefix', cmd.prefixId);
  const { prefixId, prefix, deviceId } = current;
  return configEvent(state, prefixId, { type: 'bgp.AppliancePrefixUnassigned', data: { prefixId, prefix, deviceId } }, current.tenant);
}
