/**
 * `<H>.member.<r>.<p>` (GroupMember): for every group r a rule of one of H's
 * sg groups names as remote group, every member p of r, wherever p is bound
 * (any host, registered or not, or unbound): a member is a member wherever
 * it runs. A membership change of p in r touches exactly one key on each
 * host naming r.
 */
import { hostviewKey, type GroupMember } from '@strata/contracts';
import { hostsReferencing, isMember } from '../inputs/secgroup.js';
import { stringify, symmetricDifference, type KeyFamily } from './family.js';
import { securityNeedsHosts } from './sg.js';

export const memberFamily: KeyFamily<'member'> = {
  kind: 'member',
  putOrder: 3,
  value(model, k, needs): GroupMember | undefined {
    if (!needs.remotes.has(k.id) || !isMember(model, k.id, k.portId)) return undefined;
    return { groupId: k.id, ips: model.ipam.ports.get(k.portId)!.fixedIps.map((f) => f.ip), portId: k.portId };
  },
  encode: stringify,
  *entries(model, hostId, needs) {
    for (const id of needs.remotes) {
      for (const portId of model.secgroup.groupPorts.get(id) ?? []) {
        yield [hostviewKey.member(hostId, id, portId), this.value(model, { hostId, kind: 'member', id, portId, name: `${id}.${portId}` }, needs)];
      }
    }
  },
  *hosts(model, change) {
    for (const r of change.secgroup.members.keys()) yield* hostsReferencing(model.secgroup, r);
    // Hosts whose remote groups can have come or gone.
    yield* securityNeedsHosts(model, change);
  },
  *touched(model, hostId, change, { before, after }) {
    for (const r of symmetricDifference(before.remotes, after.remotes)) {
      // Every member the host had or now has: the ports listing the group now; those that just stopped are in the change's members (below).
      for (const portId of model.secgroup.groupPorts.get(r) ?? []) yield hostviewKey.member(hostId, r, portId);
    }
    // A membership changed: the one member key, on a host whose rules name the group (before or after).
    for (const [r, ports] of change.secgroup.members) {
      if (!after.remotes.has(r) && !before.remotes.has(r)) continue;
      for (const portId of ports) yield hostviewKey.member(hostId, r, portId);
    }
  },
};
