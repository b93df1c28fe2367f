/**
 * `<H>.member.<r>.<p>` (GroupMember): for every group r a rule of one of H's
 * sg groups names as remote group, or a classifier of a chain on a routing
 * domain H realises names, every member p of r, wherever p is bound
 * (any host, registered or not, or unbound): a member is a member wherever
 * it runs. Its addresses are p's fixed IPs and its allowed-address-pair
 * addresses (Neutron's semantics). A membership change of p in r, or a
 * change of p's pairs, touches exactly one key on each host naming r.
 * Members in other zones (inputs/zone-members.ts) are keyed by their
 * endpoint id in p's place and behave alike.
 */
import { hostviewKey, type FollowedPort, type GroupMember } from '@strata/contracts';
import { chainsNamingGroup } from '../inputs/chaining.js';
import { groupIdsOf, hostsReferencing, isMember } from '../inputs/secgroup.js';
import { isRemoteMemberId, remoteMemberIps, remoteMembersOf } from '../inputs/zone-members.js';
import type { Change, Model } from '../model.js';
import type { HostNeeds } from '../needs.js';
import { hostsOfDomain } from '../topology.js';
import { stringify, symmetricDifference, type KeyFamily } from './family.js';
import { securityNeedsHosts } from './sg.js';

export const memberFamily: KeyFamily<'member'> = {
  kind: 'member',
  putOrder: 3,
  value: (model, k, needs) => memberValue(model, k.id, k.portId, needs),
  encode: stringify,
  entries(model, hostId, needs, put) {
    for (const id of needs.remotes) {
      for (const portId of model.secgroup.groupPorts.get(id) ?? []) put(hostviewKey.member(hostId, id, portId), memberValue(model, id, portId, needs));
      for (const epId of remoteMembersOf(model, id)) put(hostviewKey.member(hostId, id, epId), memberValue(model, id, epId, needs));
    }
  },
  hosts(model, change, add) {
    const groups = new Set<string>();
    changedMembers(model, change, (r) => groups.add(r));
    for (const r of groups) {
      for (const h of hostsReferencing(model.secgroup, r)) add(h);
      for (const chainId of chainsNamingGroup(model.chaining, r)) for (const h of hostsOfDomain(model.ipam, model.chaining.chains.get(chainId)!.routerId)) add(h);
    }
    // Hosts whose remote groups can have come or gone.
    securityNeedsHosts(model, change, add);
  },
  touched(model, hostId, change, { before, after }, add) {
    // Every member the host had or now has of a remote group that came or went: the ports listing the group
    // now; those that just stopped are in the change's members (below).
    symmetricDifference(before.remotes, after.remotes, (r) => {
      for (const portId of model.secgroup.groupPorts.get(r) ?? []) add(hostviewKey.member(hostId, r, portId));
      for (const epId of remoteMembersOf(model, r)) add(hostviewKey.member(hostId, r, epId));
    });
    // A membership (or a member's pair addresses) changed: the one member key, on a host whose rules name the group (before or after).
    changedMembers(model, change, (r, portId) => {
      if (after.remotes.has(r) || before.remotes.has(r)) add(hostviewKey.member(hostId, r, portId));
    });
  },
};

/**
 * Every (group, port) whose member value can have changed: the memberships
 * that changed, and each group of a port whose allowed address pairs changed
 * (its pair addresses are part of the value). A pair change never changes a
 * port's groups, so its current groups are the ones to touch.
 */
function changedMembers(model: Model, change: Change, visit: (groupId: string, portId: string) => void): void {
  for (const [r, ports] of change.secgroup.members) for (const portId of ports) visit(r, portId);
  for (const portId of change.ipam.pairs) for (const r of groupIdsOf(model.secgroup, portId)) visit(r, portId);
}

/** Positional, so the full recompute (every member of every remote group) allocates no key object per member. */
function memberValue(model: Model, groupId: string, portId: string, needs: HostNeeds): GroupMember | undefined {
  if (!needs.remotes.has(groupId)) return undefined;
  if (isRemoteMemberId(portId)) {
    const ips = remoteMemberIps(model, groupId, portId);
    return ips && { groupId, ips, portId };
  }
  if (!isMember(model, groupId, portId)) return undefined;
  return { groupId, ips: memberAddresses(model.ipam.ports.get(portId)!), portId };
}

/**
 * A member's addresses (Neutron's semantics): its fixed IPs, then the
 * addresses of its allowed address pairs, each once. A pair that is a CIDR
 * is left out: the agent's member sets hold addresses, not intervals
 * (docs/architecture.md, "Allowed address pairs in security-group member sets").
 */
export function memberAddresses(port: FollowedPort): string[] {
  const ips = port.fixedIps.map((f) => f.ip);
  for (const pair of port.allowedAddressPairs ?? []) {
    if (!pair.ipAddress.includes('/') && !ips.includes(pair.ipAddress)) ips.push(pair.ipAddress);
  }
  return ips;
}
