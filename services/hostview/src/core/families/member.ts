/**
 * `<H>.member.<r>.<p>` (GroupMember): for every group r a rule of one of H's
 * sg groups names as remote group, or a classifier of a chain on a routing
 * domain H realises names, every member p of r, wherever p is bound
 * (any host, registered or not, or unbound): a member is a member wherever
 * it runs. A membership change of p in r touches exactly one key on each
 * host naming r.
 */
import { hostviewKey, type GroupMember } from '@strata/contracts';
import { chainsNamingGroup } from '../inputs/chaining.js';
import { hostsReferencing, isMember } from '../inputs/secgroup.js';
import type { Model } from '../model.js';
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
    }
  },
  hosts(model, change, add) {
    for (const r of change.secgroup.members.keys()) {
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
    });
    // A membership changed: the one member key, on a host whose rules name the group (before or after).
    for (const [r, ports] of change.secgroup.members) {
      if (!after.remotes.has(r) && !before.remotes.has(r)) continue;
      for (const portId of ports) add(hostviewKey.member(hostId, r, portId));
    }
  },
};

/** Positional, so the full recompute (every member of every remote group) allocates no key object per member. */
function memberValue(model: Model, groupId: string, portId: string, needs: HostNeeds): GroupMember | undefined {
  if (!needs.remotes.has(groupId) || !isMember(model, groupId, portId)) return undefined;
  return { groupId, ips: model.ipam.ports.get(portId)!.fixedIps.map((f) => f.ip), portId };
}
