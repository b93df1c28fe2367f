/**
 * `<H>.sg.<g>` (HostSecurityGroup): an existing group some port bound to H
 * lists, with its rules sorted by id, each as secgroup's events record it.
 */
import { hostviewKey, type HostSecurityGroup } from '@strata/contracts';
import { hostsWithMembers } from '../inputs/secgroup.js';
import { canonicalJson } from '../json.js';
import type { Change, Model } from '../model.js';
import { portHosts, symmetricDifference, type Add, type KeyFamily } from './family.js';

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const sgFamily: KeyFamily<'sg'> = {
  kind: 'sg',
  putOrder: 4,
  value(model, k, needs): HostSecurityGroup | undefined {
    const g = model.secgroup.groups.get(k.id);
    if (!g || !needs.groups.has(g.id)) return undefined;
    return { id: g.id, rules: [...g.rules.values()].sort(byId), tenant: g.tenant };
  },
  // The rules keep the field order of the event's schema: sort the keys (a group's rules change rarely).
  encode: canonicalJson,
  entries(model, hostId, needs, put) {
    for (const id of needs.groups) put(hostviewKey.sg(hostId, id), this.value(model, { hostId, id, portId: '' }, needs));
  },
  hosts: securityNeedsHosts,
  touched(_model, hostId, change, needs, add) {
    for (const g of change.secgroup.groups) add(hostviewKey.sg(hostId, g));
    symmetricDifference(needs.before.groups, needs.after.groups, (g) => add(hostviewKey.sg(hostId, g)));
  },
};

/**
 * Hosts whose security needs or whose groups' values can have changed: the
 * hosts with local members of a changed group, and the hosts of the ports
 * that came, went, moved or changed groups.
 */
export function securityNeedsHosts(model: Model, change: Change, add: Add): void {
  for (const g of change.secgroup.groups) for (const h of hostsWithMembers(model.secgroup, g)) add(h);
  portHosts(model, change, [change.secgroup.ports], add);
}
