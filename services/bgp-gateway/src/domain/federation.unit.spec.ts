/** Availability zones, pure: what a zone announces for its stretched networks, what it takes from the others, and its configuration's checks. */
import { describe, expect, it } from 'vitest';
import { ipamEvents, physicalMacId } from '@strata/contracts';
import { admin, errorOf, tenantA } from '@strata/service-kit/testing';
import { observeZones, orphanPhysical, orphanZones, recordPhysical, type ZoneRoute } from './decide/index.js';
import { desiredEvpn, type EvpnRoute } from './evpn.js';
import { desiredFederation, federationExportTargets, mergeEvpn, originCommunity } from './federation.js';
import { desiredNeighbours } from './neighbours.js';
import { getFederation } from './queries.js';
import { given } from './test/given.js';
import { World } from './test/world.js';

const VM1 = '02:00:00:00:00:01';
const VM2 = '02:00:00:00:00:02';
const AZ2 = { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }] };
const AZ3 = { name: 'az3', id: 3, vtepPrefixes: ['198.18.0.32/28'], vniRanges: [{ min: 3000, max: 3999 }] };
const FROM = (zoneId: number): number[] => [originCommunity(65500, zoneId)];

/** Zone az1: net-a (VNI 1000, its own) and net-j (joined: az2's VNI 2005), federated; net-b (1001) not; VMs on hv1 and hv2. */
const zone = () =>
  given()
    .host('hv1', '198.18.0.11')
    .host('hv2', '198.18.0.12')
    .tenantNetwork('ta', 'net-a', false, ['s-a', '10.0.0.0/24'])
    .tenantNetwork('ta', 'net-b', false, ['s-b', '10.1.0.0/24'])
    .tenantNetwork('tb', 'net-j', false, ['s-j', '10.0.0.0/24'])
    .port('p1', 'net-a', 'hv1', ['10.0.0.10'], 'vm-1', VM1)
    .port('p2', 'net-a', 'hv2', ['10.0.0.11'], 'vm-2', VM2)
    .port('p3', 'net-b', 'hv1', ['10.1.0.10'], 'vm-3', '02:00:00:00:00:03')
    .port('p4', 'net-j', 'hv1', [], 'vm-4', '02:00:00:00:00:04')
    .federation(AZ2, AZ3)
    .federated('net-a')
    .federated('net-j', 2005);

const show = (g: ReturnType<typeof given>): string[] =>
  [...desiredFederation(g.state).values()]
    .map((a) => `${a.route.type} ${a.route.rd} ${a.route.type === 'mac-ip' ? `${a.route.mac} ${a.route.ip}` : a.route.vtep} via ${a.route.nextHop} rt ${a.routeTargets.map((t) => `${t.asn}:${t.value}`).join(',')} c ${a.communities?.join(',')}`)
    .sort();

const mac = (vni: number, m: string, ip: string, nextHop: string, communities: number[]): ZoneRoute => ({ route: { type: 'mac-ip', rd: `2:${vni}`, vni, mac: m, ip, nextHop }, communities });
const imet = (vni: number, vtep: string, communities: number[], nextHop = vtep): ZoneRoute => ({ route: { type: 'imet', rd: `2:${vni}`, vni, vtep, nextHop }, communities });

const learned = (g: ReturnType<typeof given>, routes: ZoneRoute[], complete = true) => {
  const { targets, rejected } = observeZones(g.state, routes, complete);
  return {
    records: [...targets.values()].map((t) => `${t.learned ? '+' : '-'} ${t.record.tenant} ${t.record.data.deviceId} ${t.record.data.vni} ${t.record.kind === 'mac' ? `${t.record.data.mac} ${t.record.data.ip ?? ''}` : ''} @${t.record.data.vtep}`.replace(/ +/g, ' ')).sort(),
    rejected: rejected.map((r) => `${r.reason} ${r.zone} ${r.vni}`).sort(),
  };
};

describe('what a zone announces for its stretched networks', () => {
  it('nothing without a federation; then per federated network a type 2 per port address and a type 3 per hypervisor, RT <federation AS>:<VNI>, origin community, RD <zone>:<VNI>', () => {
    const g = zone();
    const federation = g.state.config.federation;
    g.state.config.federation = null;
    expect(show(g)).toEqual([]);
    g.state.config.federation = federation;
    const c = originCommunity(65500, 1);
    expect(c).toBe(65500 * 65536 + 1);
    expect(show(g)).toEqual([
      `imet 1:1000 198.18.0.11 via 198.18.0.11 rt 65500:1000 c ${c}`,
      `imet 1:1000 198.18.0.12 via 198.18.0.12 rt 65500:1000 c ${c}`,
      `imet 1:2005 198.18.0.11 via 198.18.0.11 rt 65500:2005 c ${c}`,
      `mac-ip 1:1000 ${VM1} 10.0.0.10 via 198.18.0.11 rt 65500:1000 c ${c}`,
      `mac-ip 1:1000 ${VM2} 10.0.0.11 via 198.18.0.12 rt 65500:1000 c ${c}`,
      `mac-ip 1:2005 02:00:00:00:00:04  via 198.18.0.11 rt 65500:2005 c ${c}`,
    ]);
    expect(federationExportTargets(g.state)).toEqual([{ asn: 65500, value: 1000 }, { asn: 65500, value: 2005 }]);
  });

  it('a port moving moves its next hop; a network no longer federated is no longer announced', () => {
    const g = zone();
    g.state.fabric.ports['p2'] = { ...g.state.fabric.ports['p2']!, hostId: 'hv1' };
    g.state.fabric.networks['net-j']!.federated = false;
    expect(show(g).map((r) => r.replace(/ c \d+$/, ''))).toEqual([`imet 1:1000 198.18.0.11 via 198.18.0.11 rt 65500:1000`, `mac-ip 1:1000 ${VM1} 10.0.0.10 via 198.18.0.11 rt 65500:1000`, `mac-ip 1:1000 ${VM2} 10.0.0.11 via 198.18.0.11 rt 65500:1000`]);
  });

  it('switch routes and federation routes share one table: distinct RDs stay two paths, a shared key carries both route targets', () => {
    const g = zone().evpnDevice('leaf1', '198.18.0.50', '198.18.0.50', 65010).bind('b1', 'leaf1', 'net-a');
    const both = mergeEvpn(desiredEvpn(g.state, '198.18.0.2'), desiredFederation(g.state));
    expect(both.size).toBe(desiredEvpn(g.state, '198.18.0.2').size + desiredFederation(g.state).size);
    const route: EvpnRoute = { type: 'imet', rd: '1:1000', vni: 1000, vtep: '198.18.0.11', nextHop: '198.18.0.11' };
    const merged = mergeEvpn(new Map([['k', { route, routeTargets: [{ asn: 65010, value: 1000 }] }]]), new Map([['k', { route, routeTargets: [{ asn: 65500, value: 1000 }], communities: [7] }]]));
    expect(merged.get('k')).toEqual({ route, routeTargets: [{ asn: 65010, value: 1000 }, { asn: 65500, value: 1000 }], communities: [7] });
  });
});

describe('what a zone takes from the others', () => {
  it("records a remote zone's MACs and flood VTEPs on a federated VNI, each with the route's own VTEP, as zone-<name> of the network's tenant", () => {
    const g = zone();
    expect(
      learned(g, [mac(1000, '02:00:00:00:02:01', '10.0.0.20', '198.18.0.19', FROM(2)), mac(1000, '02:00:00:00:02:02', '', '198.18.0.20', FROM(2)), imet(1000, '198.18.0.19', FROM(2)), imet(1000, '198.18.0.20', FROM(2))]),
    ).toEqual({
      records: ['+ ta zone-az2 1000 02:00:00:00:02:01 10.0.0.20 @198.18.0.19', '+ ta zone-az2 1000 02:00:00:00:02:02 @198.18.0.20', '+ ta zone-az2 1000 @198.18.0.19', '+ ta zone-az2 1000 @198.18.0.20'],
      rejected: [],
    });
  });

  it('refuses, writing nothing: a VTEP in no known zone, a missing or wrong origin community, a VNI not federated here, a joined VNI from a zone that does not own it', () => {
    const g = zone();
    expect(
      learned(g, [
        mac(1000, '02:00:00:00:09:01', '10.0.0.66', '203.0.113.9', FROM(2)), // next hop outside every zone
        mac(1000, '02:00:00:00:09:02', '10.0.0.67', '198.18.0.19', FROM(3)), // az3 claims to be a VTEP of az2
        mac(1000, '02:00:00:00:09:03', '10.0.0.68', '198.18.0.19', []), // no origin
        imet(1000, '198.18.0.19', FROM(2), '198.18.0.33'), // originator in az2, next hop in az3
        mac(1001, '02:00:00:00:09:04', '10.1.0.66', '198.18.0.19', FROM(2)), // net-b is not stretched
        mac(4000, '02:00:00:00:09:05', '', '198.18.0.19', FROM(2)), // no network here
        mac(2005, '02:00:00:00:09:06', '', '198.18.0.33', FROM(3)), // az3 announcing az2's segment
      ]),
    ).toEqual({
      records: [],
      rejected: ['not-federated az2 1001', 'not-federated az2 4000', 'unknown-origin  1000', 'vni-not-owned az3 2005', 'zone-mismatch az2 1000', 'zone-mismatch az2 1000', 'zone-mismatch az2 1000'],
    });
  });

  it("takes a zone's routes on a segment this zone allocated (any zone may join it) and on a joined segment from the zone that owns it", () => {
    const g = zone();
    expect(learned(g, [mac(1000, '02:00:00:00:03:01', '', '198.18.0.33', FROM(3)), mac(2005, '02:00:00:00:02:05', '', '198.18.0.19', FROM(2))]).records).toEqual([
      '+ ta zone-az3 1000 02:00:00:00:03:01 @198.18.0.33',
      '+ tb zone-az2 2005 02:00:00:00:02:05 @198.18.0.19',
    ]);
  });

  it('ignores its own routes reflected back and counts a route seen from two reflectors once', () => {
    const g = zone();
    const twice = mac(1000, '02:00:00:00:02:01', '', '198.18.0.19', FROM(2));
    expect(learned(g, [mac(1000, VM1, '10.0.0.10', '198.18.0.11', FROM(1)), twice, twice])).toEqual({ records: ['+ ta zone-az2 1000 02:00:00:00:02:01 @198.18.0.19'], rejected: [] });
  });

  it('keeps the first maxRoutes routes of a zone by key and refuses the rest', () => {
    const g = zone();
    g.state.config.federation!.zones[0]!.maxRoutes = 2;
    const r = learned(g, [1, 2, 3].map((i) => mac(1000, `02:00:00:00:02:0${i}`, '', '198.18.0.19', FROM(2))));
    expect(r.records).toEqual(['+ ta zone-az2 1000 02:00:00:00:02:01 @198.18.0.19', '+ ta zone-az2 1000 02:00:00:00:02:02 @198.18.0.19']);
    expect(r.rejected).toEqual(['max-routes az2 1000']);
  });

  it('a complete table withdraws what it lacks, an incomplete one does not; orphans: an unstretched network, a zone no longer configured; switches leave zone records alone', () => {
    const g = zone();
    const route = mac(1000, '02:00:00:00:02:01', '10.0.0.20', '198.18.0.19', FROM(2));
    for (const t of observeZones(g.state, [route], true).targets.values()) {
      const d = recordPhysical(g.state, physicalMacId('zone-az2', 1000, '02:00:00:00:02:01', '10.0.0.20'), t);
      expect(d).toMatchObject({ kind: 'append', tenant: 'ta', event: { type: 'bgp.PhysicalMacLearned', data: { deviceId: 'zone-az2', vtep: '198.18.0.19' } } });
      const id = physicalMacId('zone-az2', 1000, '02:00:00:00:02:01', '10.0.0.20');
      g.state.physical[id] = { id, version: 5, learned: true, ...t.record };
    }
    expect(learned(g, [], false).records).toEqual([]);
    expect(learned(g, [], true).records).toEqual(['- ta zone-az2 1000 02:00:00:00:02:01 10.0.0.20 @198.18.0.19']);
    // a VM moving to another hypervisor of az2: the same record, a new VTEP
    const moved = observeZones(g.state, [{ ...route, route: { ...route.route, nextHop: '198.18.0.20' } }], true).targets;
    expect([...moved.values()].map((t) => recordPhysical(g.state, [...moved.keys()][0]!, t).kind)).toEqual(['append']);
    expect(orphanZones(g.state).size).toBe(0);
    expect(orphanPhysical(g.state, new Map()).size).toBe(0);
    g.state.fabric.networks['net-a']!.federated = false;
    expect([...orphanZones(g.state).values()].map((t) => t.learned)).toEqual([false]);
    g.state.fabric.networks['net-a']!.federated = true;
    g.state.config.federation!.zones = [AZ3].map((z) => ({ ...z, maxRoutes: 100 }));
    expect(orphanZones(g.state).size).toBe(1);
  });
});

describe('the route reflectors as neighbours', () => {
  it('one reflector neighbour per configured address in the federation AS, after the fabric peers (a fabric peer keeps its address)', () => {
    const g = zone();
    g.state.config.federation!.routeReflectors.push({ address: '198.18.0.1', passwordRef: null });
    g.peer('tor', '198.18.0.1');
    const n = desiredNeighbours(g.state);
    expect(n.get('198.18.0.100')).toEqual({ kind: 'reflector', address: '198.18.0.100', remoteAs: 65500, passwordRef: 'rr' });
    expect(n.get('198.18.0.1')?.kind).toBe('fabric');
    g.state.config.federation = null;
    expect([...desiredNeighbours(g.state).values()].some((x) => x.kind === 'reflector')).toBe(false);
  });
});

describe('federation.set and federation.clear', () => {
  const config = { localZone: { name: 'az1', id: 1 }, federationAs: 65500, routeReflectors: [{ address: '198.18.0.100', passwordRef: 'rr-md5' }], zones: [{ ...AZ2, maxRoutes: 5000 }] };

  it('set whole, shown with its revision, the same again writes nothing, cleared', () => {
    const w = new World();
    expect(getFederation(w.state, admin)).toEqual({ localZone: null, federationAs: null, routeReflectors: [], zones: [], revision: 0 });
    expect(w.run('federation.set', config).event.type).toBe('bgp.FederationSet');
    expect(getFederation(w.state, admin)).toEqual({ ...config, revision: 1 });
    expect(w.decide('federation.set', config)).toEqual({ kind: 'done', resourceId: 'federation' });
    expect(w.run('federation.clear', {}).event).toEqual({ type: 'bgp.FederationCleared', data: {} });
    expect(getFederation(w.state, admin)).toMatchObject({ localZone: null, revision: 2 });
    expect(w.decide('federation.clear', {})).toEqual({ kind: 'done', resourceId: 'federation' });
  });

  it('refuses, writing nothing: tenants, ambiguous zones, prefixes or ranges, a reflector that is a fabric peer, a four-octet federation AS', () => {
    const w = new World();
    w.run('peer.create', { name: 'tor', address: '198.18.0.1', remoteAs: 65001 });
    w.run('settings.set', { localAs: 65000, routerId: '198.18.0.2' });
    const refused = (input: unknown, caller = admin) => {
      const before = w.events.length;
      const e = errorOf(() => w.decide('federation.set', input as typeof config, caller));
      expect(w.events.length).toBe(before);
      return `${e.code} ${e.message}`;
    };
    expect(refused(config, tenantA)).toMatch(/^PERMISSION_DENIED/);
    expect(() => getFederation(w.state, tenantA)).toThrow(/admin/);
    expect(refused({ ...config, zones: [{ ...AZ2, name: 'az1', maxRoutes: 1 }] })).toMatch(/zones\[0\]\.name: az1 is also the name of localZone/);
    expect(refused({ ...config, zones: [{ ...AZ2, maxRoutes: 1 }, { ...AZ3, id: 2, maxRoutes: 1 }] })).toMatch(/zones\[1\]\.id: 2 is also the number of zones\[0\]/);
    expect(refused({ ...config, zones: [{ ...AZ2, maxRoutes: 1 }, { ...AZ3, vtepPrefixes: ['198.18.0.0/27'], maxRoutes: 1 }] })).toMatch(/198\.18\.0\.0\/27 of zone az3 overlaps 198\.18\.0\.16\/28 of zone az2/);
    expect(refused({ ...config, zones: [{ ...AZ2, maxRoutes: 1 }, { ...AZ3, vniRanges: [{ min: 2500, max: 3500 }], maxRoutes: 1 }] })).toMatch(/2500-3500 of zone az3 overlaps 2000-2999 of zone az2/);
    expect(refused({ ...config, zones: [{ ...AZ2, vniRanges: [{ min: 9, max: 3 }], maxRoutes: 1 }] })).toMatch(/min must not be above max/);
    expect(refused({ ...config, zones: [{ ...AZ2, vtepPrefixes: ['2001:db8::/64'], maxRoutes: 1 }] })).toMatch(/not an IPv4 prefix/);
    expect(refused({ ...config, routeReflectors: [{ address: '198.18.0.1' }] })).toMatch(/^FAILED_PRECONDITION .*198\.18\.0\.1 is the address of BGP peer/);
    expect(refused({ ...config, routeReflectors: [{ address: '198.18.0.100' }, { address: '198.18.0.100' }] })).toMatch(/named twice/);
    expect(refused({ ...config, federationAs: 4200000000 })).toMatch(/federationAs: must be a two-octet AS/);
    expect(refused({ ...config, localZone: { name: 'AZ 1', id: 1 } })).toMatch(/localZone\.name/);
    expect(refused({ ...config, routeReflectors: [{ address: '198.18.0.100', passwordRef: 'hunter2 secret' }] })).toMatch(/passwordRef/);
  });

  it("refuses a remote zone's VTEP prefix holding one of this zone's hypervisors", () => {
    const w = new World();
    w.storeOf(ipamEvents, 'ipam.HypervisorRegistered', { context: 'ipam', type: 'cloud', id: 'default' }, { hostId: 'hv1', vtepIp: '198.18.0.20', publicIp: '203.0.113.11', hostPoolId: 'hp' }, '_system');
    expect(errorOf(() => w.decide('federation.set', config)).message).toMatch(/198\.18\.0\.16\/28 contains the VTEP 198\.18\.0\.20 of this zone's hypervisor hv1/);
  });
});
