/**
 * `<H>.sg.<g>` (HostSecurityGroup): an existing group some port bound to H
 * lists, with its rules sorted by id, each as secgroup's events record it.
 */
import { hostviewKey, type HostSecurityGroup } from '@strata/contracts';
import { hostsWithMembers } from '../inputs/secgroup.js';
import { canonicalJson } from '../json.js';
import type { Change, Model } from '../model.js';
import { portHosts, symmetricDifference, type KeyFamily } from './family.js';

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
  *entries(model, hostId, needs) {
    for (const id of needs.groups) yield [hostviewKey.sg(hostId, id), this.value(model, { hostId, kind: 'sg', id, portId: '', name: id }, needs)];
  },
  hosts: securityNeedsHosts,
  *touched(_model, hostId, change, needs) {
    for (const g of change.secgroup.groups) yield hostviewKey.sg(hostId, g);
    for (const g of symmetricDifference(needs.before.groups, needs.after.groups)) yield hostviewKey.sg(hostId, g);
  },
};

/**
 * Hosts whose security needs or whose groups' values can have changed: the
 * hosts with local members of a changed group, and the hosts of the ports
 * that came, went, moved or changed groups.
 */
export function* securityNeedsHosts(model: Model, change: Change): Iterable<string> {
  for (const g of change.secgroup.groups) yield* hostsWithMembers(model.secgroup, g);
  yield* portHosts(model, change, [change.secgroup.ports]);
}
