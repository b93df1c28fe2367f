/**
 * Members in other availability zones (docs/architecture.md, "Security
 * groups across zones"): a MAC/IP another zone announces with group tags is
 * a member of the groups of the network's tenant with those tags, keyed by
 * its endpoint id, on every host whose rules name the group; a change of its
 * tags, or of a group's tag, writes member keys only, and the incremental
 * views always equal a full recompute.
 */
import { describe, expect, it } from 'vitest';
import { parseHostviewKey, securityGroupAggregate } from '@strata/contracts';
import { applyOps, type KvOp } from './diff.js';
import { applyEvent, type ModelEvent } from './model.js';
import { HostViews } from './views.js';
import { deriveAll, Given, physicalMac, plain, replay, rule } from './test/given.js';

const TA = 'tenant-a';
const TB = 'tenant-b';
const DB_RULE = rule('db-5432', 'ingress', 'tcp', 5432, 5432, { remoteGroupId: 'app' });
const DB_RULE_B = rule('db-b-5432', 'ingress', 'tcp', 5432, 5432, { remoteGroupId: 'app-b' });
const ZONE = { deviceId: 'zone-az1', vtep: '198.18.0.11' };
const MAC_A = '02:00:00:00:01:0a';
const MAC_B = '02:00:00:00:02:0a';
/** hostview's endpoint ids (inputs/physical.ts). */
const EP_A = 'phys-zone-az1-100-02000000010a';
const EP_B = 'phys-zone-az1-200-02000000020a';

/** Zone az2's view: tenant A's stretched net-a (VNI 100) with db on hv-3 admitting app (tag 10); tenant B's net-b (VNI 200) alike with app-b (tag 10). */
function zone(): Given {
  const g = new Given();
  g.host('hv-3', '198.18.0.13');
  g.host('hv-4', '198.18.0.14');
  g.network('net-a', TA, 100);
  g.subnet('net-a', 's-a', '10.0.0.0/24', '10.0.0.1', TA);
  g.network('net-b', TB, 200);
  g.subnet('net-b', 's-b', '10.0.0.0/24', '10.0.0.1', TB);
  tagged(g, 'app', TA, 10);
  g.group('db', TA, [DB_RULE]);
  tagged(g, 'app-b', TB, 10);
  g.group('db-b', TB, [DB_RULE_B]);
  g.port('net-a', 'db1', 'hv-3', '02:00:00:00:00:64', [{ subnetId: 's-a', ip: '10.0.0.100' }], TA);
  g.setGroups('db1', ['db'], TA);
  g.port('net-b', 'db2', 'hv-4', '02:00:00:00:00:65', [{ subnetId: 's-b', ip: '10.0.0.100' }], TB);
  g.setGroups('db2', ['db-b'], TB);
  return g;
}

function tagged(g: Given, groupId: string, tenant: string, federationTag: number): ModelEvent {
  return g.emit('secgroup.GroupCreated', { groupId, name: groupId, description: '', isDefault: false, rules: [], federationTag }, securityGroupAggregate(groupId), tenant);
}

const retag = (g: Given, groupId: string, tenant: string, federationTag: number | null): ModelEvent =>
  g.emit('secgroup.GroupUpdated', { groupId, federationTag }, securityGroupAggregate(groupId), tenant);

/** az1's app VM of a tenant, as az2's gateway records it. */
const remote = (g: Given, learned: boolean, vni: number, mac: string, tags: number[], tenant: string): ModelEvent =>
  physicalMac(g, learned, { ...ZONE, vni, mac, ip: '10.0.0.10', ...(tags.length > 0 ? { groupTags: tags } : {}) }, tenant);

const members = (kv: Record<string, unknown>) => Object.fromEntries(Object.entries(kv).filter(([k]) => parseHostviewKey(k)?.kind === 'member'));

describe('members in other zones', () => {
  it("a remote MAC/IP with tag 10 is a member of its own tenant's group with tag 10 only, keyed by its endpoint id, on the hosts naming the group", () => {
    const g = zone();
    remote(g, true, 100, MAC_A, [10], TA);
    remote(g, true, 200, MAC_B, [10, 20], TB);
    expect(members(plain(deriveAll(replay(g.events))))).toEqual({
      [`hv-3.member.app.${EP_A}`]: { groupId: 'app', portId: EP_A, ips: ['10.0.0.10'] },
      [`hv-4.member.app-b.${EP_B}`]: { groupId: 'app-b', portId: EP_B, ips: ['10.0.0.10'] },
    });
  });

  it('no tag, another tag, a MAC-only record, a VNI of no network here: no member', () => {
    const g = zone();
    remote(g, true, 100, MAC_A, [], TA);
    remote(g, true, 100, '02:00:00:00:01:0b', [20], TA);
    physicalMac(g, true, { ...ZONE, vni: 100, mac: '02:00:00:00:01:0c', groupTags: [10] }, TA);
    remote(g, true, 999, '02:00:00:00:01:0d', [10], TA);
    expect(members(plain(deriveAll(replay(g.events))))).toEqual({});
  });

  it('joins, leaves, retags and group changes write member keys only (never an sg key), and the incremental views equal a full recompute after each', () => {
    const g = zone();
    const views = new HostViews();
    const model = replay(g.events);
    views.rebuild(model);
    const kv = views.snapshot();
    const step = (e: ModelEvent): string[] => {
      const { ops } = views.apply(model, applyEvent(model, e));
      applyOps(kv, ops);
      expect(plain(kv)).toEqual(plain(deriveAll(replay(g.events))));
      return ops.map((o: KvOp) => `${o.op} ${o.key}`).sort();
    };
    const put = `put hv-3.member.app.${EP_A}`;
    const del = `delete hv-3.member.app.${EP_A}`;
    const ep = `hv-3.ep.${EP_A}`;
    expect(step(remote(g, true, 100, MAC_A, [20], TA))).toEqual([`put ${ep}`]); // on the segment, not in app
    expect(step(remote(g, true, 100, MAC_A, [10, 20], TA))).toEqual([put]); // joins app in az1
    expect(step(retag(g, 'app', TA, 11))).toEqual([del]); // app here no longer tag 10
    expect(step(retag(g, 'app', TA, 20))).toEqual([put]);
    expect(step(retag(g, 'app', TA, null))).toEqual([del]);
    expect(step(retag(g, 'app', TA, 10))).toEqual([put]);
    expect(step(remote(g, true, 100, MAC_A, [20], TA))).toEqual([del]); // leaves app in az1
    expect(step(remote(g, true, 100, MAC_A, [10], TA))).toEqual([put]);
    expect(step(remote(g, false, 100, MAC_A, [10], TA))).toEqual([`delete ${ep}`, del]); // withdrawn
    expect(step(remote(g, true, 100, MAC_A, [10], TA))).toEqual([`put ${ep}`, put]);
    // tenant B's member with the same tag never touches tenant A's group
    expect(step(remote(g, true, 200, MAC_B, [10], TB))).toEqual([`put hv-4.ep.${EP_B}`, `put hv-4.member.app-b.${EP_B}`]);
    // a group created with the tag later, and one deleted: its remote members come and go with it
    expect(step(g.deleteGroup('app', TA)).filter((o) => o.includes('.sg.'))).toEqual([]);
    expect(step(tagged(g, 'app', TA, 10)).filter((o) => o.includes('.sg.'))).toEqual([]);
    expect(plain(kv)[`hv-3.member.app.${EP_A}`]).toEqual({ groupId: 'app', portId: EP_A, ips: ['10.0.0.10'] });
  });
});
