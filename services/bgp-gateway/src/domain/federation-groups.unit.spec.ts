/** Security groups across zones, pure: the group tags a port's federated routes carry, how the gateway learns them from secgroup's events, and what a receiving zone records of them. */
import { describe, expect, it } from 'vitest';
import { physicalMacId, secgroupEvents } from '@strata/contracts';
import { observeZones, recordPhysical, type ZoneRoute } from './decide/index.js';
import { diffEvpn } from './evpn.js';
import { desiredFederation, groupTagCommunity, groupTagsOf, originCommunity } from './federation.js';
import { given } from './test/given.js';
import { World } from './test/world.js';

const VM1 = '02:00:00:00:00:01';
const AZ2 = { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }] };
const FROM_AZ2 = [originCommunity(65500, 2)];
const tag = (t: number) => groupTagCommunity(65500, t);

/** Zone az1: tenant ta's net-a (VNI 1000) federated, p1 on hv1 in groups app (tag 10) and db (untagged); tb's group x has tag 20. */
const zone = () => {
  const g = given()
    .host('hv1', '198.18.0.11')
    .tenantNetwork('ta', 'net-a', false, ['s-a', '10.0.0.0/24'])
    .tenantNetwork('tb', 'net-b', false, ['s-b', '10.0.0.0/24'])
    .port('p1', 'net-a', 'hv1', ['10.0.0.10'], 'vm-1', VM1)
    .port('p2', 'net-a', 'hv1', ['10.0.0.11'], 'vm-2', '02:00:00:00:00:02')
    .federation(AZ2)
    .federated('net-a')
    .federated('net-b', 2001);
  g.state.fabric.taggedGroups = { app: { tenant: 'ta', tag: 10 }, x: { tenant: 'tb', tag: 20 } };
  g.state.fabric.portGroups = { p1: ['app', 'db'] };
  return g;
};

const macs = (g: ReturnType<typeof zone>) =>
  [...desiredFederation(g.state).values()].filter((a) => a.route.type === 'mac-ip').map((a) => `${a.route.type === 'mac-ip' ? a.route.mac : ''} ${(a.largeCommunities ?? []).map((c) => `${c.global}:${c.local1}:${c.local2}`).join(',')}`);

describe('the group tags a port carries to the other zones', () => {
  it("one large community <federationAs>:1:<tag> per tagged group of the port, on its type 2s only; another tenant's group lends no tag", () => {
    const g = zone();
    expect(macs(g)).toEqual([`${VM1} 65500:1:10`, '02:00:00:00:00:02 ']);
    expect([...desiredFederation(g.state).values()].filter((a) => a.route.type === 'imet').every((a) => a.largeCommunities === undefined)).toBe(true);
    // p2 listing tb's group (impossible through secgroup, which refuses another tenant's group) carries nothing of it.
    g.state.fabric.portGroups['p2'] = ['x'];
    expect(macs(g)[1]).toBe('02:00:00:00:00:02 ');
  });

  it('a membership change changes the path (the RIB reconciler replaces it), nothing else does', () => {
    const g = zone();
    const before = desiredFederation(g.state);
    expect(diffEvpn(desiredFederation(g.state), before)).toEqual({ add: [], withdraw: [] });
    g.state.fabric.taggedGroups['web'] = { tenant: 'ta', tag: 20 };
    g.state.fabric.portGroups['p2'] = ['web'];
    const diff = diffEvpn(desiredFederation(g.state), before);
    expect(diff.withdraw).toEqual([]);
    expect(diff.add.map((a) => [a.route.type === 'mac-ip' ? a.route.mac : '', a.largeCommunities])).toEqual([['02:00:00:00:00:02', [tag(20)]]]);
  });

  it("folds secgroup's tags and memberships: created, retagged, untagged, deleted; a port's groups set and forgotten", () => {
    const w = new World();
    const group = (id: string) => ({ context: 'secgroup', type: 'group', id });
    const port = (id: string) => ({ context: 'secgroup', type: 'port', id });
    w.storeOf(secgroupEvents, 'secgroup.GroupCreated', group('app'), { groupId: 'app', name: 'app', description: '', isDefault: false, rules: [], federationTag: 10 }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.GroupCreated', group('web'), { groupId: 'web', name: 'web', description: '', isDefault: false, rules: [] }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.PortGroupsSet', port('p1'), { portId: 'p1', groupIds: ['app', 'web'] }, 'ta');
    expect(w.state.fabric.taggedGroups).toEqual({ app: { tenant: 'ta', tag: 10 } });
    expect(w.state.fabric.portGroups).toEqual({ p1: ['app', 'web'] });
    w.storeOf(secgroupEvents, 'secgroup.GroupUpdated', group('web'), { groupId: 'web', federationTag: 20 }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.GroupUpdated', group('app'), { groupId: 'app', name: 'renamed' }, 'ta');
    expect(w.state.fabric.taggedGroups).toEqual({ app: { tenant: 'ta', tag: 10 }, web: { tenant: 'ta', tag: 20 } });
    w.storeOf(secgroupEvents, 'secgroup.GroupUpdated', group('web'), { groupId: 'web', federationTag: null }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.PortGroupsSet', port('p1'), { portId: 'p1', groupIds: [] }, 'ta');
    expect(w.state.fabric.taggedGroups).toEqual({ app: { tenant: 'ta', tag: 10 } });
    expect(w.state.fabric.portGroups).toEqual({});
    w.storeOf(secgroupEvents, 'secgroup.PortGroupsSet', port('p1'), { portId: 'p1', groupIds: ['app'] }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.GroupDeleted', group('app'), { groupId: 'app' }, 'ta');
    w.storeOf(secgroupEvents, 'secgroup.PortForgotten', port('p1'), { portId: 'p1' }, 'ta');
    expect(w.state.fabric).toMatchObject({ taggedGroups: {}, portGroups: {} });
  });
});

describe('what a zone records of the tags', () => {
  const mac = (m: string, ip: string, large: ZoneRoute['largeCommunities'], nextHop = '198.18.0.19', communities = FROM_AZ2): ZoneRoute => ({
    route: { type: 'mac-ip', rd: '2:1000', vni: 1000, mac: m, ip, nextHop },
    communities,
    largeCommunities: large,
  });
  const records = (g: ReturnType<typeof zone>, routes: ZoneRoute[]) => {
    const { targets, rejected } = observeZones(g.state, routes, true);
    return { tags: [...targets.values()].map((t) => (t.record.kind === 'mac' ? `${t.record.data.mac} ${JSON.stringify(t.record.data.groupTags)}` : '')), rejected: rejected.map((r) => r.reason) };
  };

  it("records a type 2's tags sorted and once, ignoring large communities that are not this federation's group tags", () => {
    const g = zone();
    const other = [{ global: 65001, local1: 1, local2: 5 }, { global: 65500, local1: 2, local2: 7 }, { global: 65500, local1: 1, local2: 0 }];
    expect(records(g, [mac('02:00:00:00:02:01', '10.0.0.20', [tag(30), tag(10), tag(30), ...other]), mac('02:00:00:00:02:02', '10.0.0.21', undefined)])).toEqual({
      tags: ['02:00:00:00:02:01 [10,30]', '02:00:00:00:02:02 undefined'],
      rejected: [],
    });
  });

  it('refuses a route with more tags than a port has groups, and a refused route brings no tags', () => {
    const g = zone();
    const many = Array.from({ length: 17 }, (_, i) => tag(i + 1));
    expect(groupTagsOf(65500, many)).toBeUndefined();
    expect(records(g, [mac('02:00:00:00:02:01', '10.0.0.20', many), mac('02:00:00:00:02:02', '10.0.0.21', [tag(10)], '203.0.113.9')])).toEqual({ tags: [], rejected: ['too-many-tags', 'unknown-origin'] });
  });

  it('a change of tags re-records the MAC (an update); the same tags again write nothing', () => {
    const g = zone();
    const id = physicalMacId('zone-az2', 1000, '02:00:00:00:02:01', '10.0.0.20');
    const target = (tags: number[]) => observeZones(g.state, [mac('02:00:00:00:02:01', '10.0.0.20', tags.map(tag))], true).targets.get(id)!;
    const first = recordPhysical(g.state, id, target([10]));
    expect(first).toMatchObject({ kind: 'append', tenant: 'ta', expectedVersion: 0, event: { type: 'bgp.PhysicalMacLearned', data: { groupTags: [10] } } });
    g.state.physical[id] = { id, version: 7, learned: true, ...target([10]).record };
    expect(recordPhysical(g.state, id, target([10])).kind).toBe('done');
    expect(recordPhysical(g.state, id, target([10, 20]))).toMatchObject({ kind: 'append', expectedVersion: 7, event: { type: 'bgp.PhysicalMacLearned', data: { groupTags: [10, 20] } } });
    expect(recordPhysical(g.state, id, target([]))).toMatchObject({ kind: 'append', event: { data: { mac: '02:00:00:00:02:01' } } });
    expect((recordPhysical(g.state, id, target([])) as { event: { data: object } }).event.data).not.toHaveProperty('groupTags');
  });
});
