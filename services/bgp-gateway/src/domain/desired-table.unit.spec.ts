import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bgpEvents, bgpRouteAggregate, ipamEvents, natEvents, routeAggregateId, secgroupEvents, type AggregateRef } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import { diffRib, diffRibAt, type Advertisement, type Liveness } from './advertisements.js';
import { DesiredChanges, DesiredTable, desiredAdvertisements } from './desired-table.js';
import { desiredNeighbours } from './neighbours.js';
import { World } from './test/world.js';

const AP = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const ROUTED_POOL = { poolId: 'routed', name: '', cidr: '198.19.0.0/24', purpose: 'routed' } as const;
const CLOUD: AggregateRef = { context: 'ipam', type: 'cloud', id: 'default' };
const network = (id: string): AggregateRef => ({ context: 'ipam', type: 'network', id });
const NAT = (id: string): AggregateRef => ({ context: 'nat', type: 'floating-ip', id });

/**
 * A small world where everything collides: two routed networks of two
 * tenants with the same subnet (claims by age) inside a routed pool (which
 * comes and goes); a non-routed network; an appliance peer group over part of the
 * routed space with an assigned application prefix, and (unless left
 * out) an appliance port with a route it announced; three hypervisors.
 */
function world(appliance: boolean): World {
  const w = new World();
  w.run('settings.set', { localAs: 65000, routerId: '198.18.0.2' });
  w.storeOf(ipamEvents, 'ipam.PoolCreated', CLOUD, ROUTED_POOL, '_system');
  w.storeOf(ipamEvents, 'ipam.ApplicationPrefixAllocated', CLOUD, { prefixId: AP, poolId: 'app', prefix: '198.51.100.0/28' }, 'tenant-a');
  w.run('peergroup.create', { name: 'fw', listenRange: '198.19.0.0/26', remoteAs: 65100, maxPrefixes: 4 });
  w.run('appliance.assign', { prefixId: AP, deviceId: 'fw' });
  for (const [i, id] of ['hv1', 'hv2', 'hv3'].entries()) host(w, id, i);
  for (const [id, tenant, routed] of [['r1', 'tenant-a', true], ['r2', 'tenant-b', true], ['plain', 'tenant-a', false]] as const) {
    w.storeOf(ipamEvents, 'ipam.NetworkCreated', CLOUD, { networkId: id, name: '', vni: 100 + w.events.length, mtu: 1450, routed }, tenant);
    w.storeOf(ipamEvents, 'ipam.SubnetCreated', network(id), { subnetId: `${id}-s`, name: '', ipVersion: 4, cidr: routed ? '198.19.0.0/24' : '10.0.0.0/24', gatewayIp: null, allocationPools: [], enableDhcp: false }, tenant);
  }
  if (!appliance) return w;
  // An appliance on hv1 with a route it announced (the ops may move, re-address or delete it).
  w.storeOf(ipamEvents, 'ipam.PortCreated', network('r1'), { portId: 'p5', name: '', mac: '02:00:00:00:00:05', fixedIps: [{ subnetId: 'r1-s', ip: IPS[0] }], hostId: 'hv1', deviceId: 'fw' }, 'tenant-a');
  const route = { peer: IPS[0], prefix: '198.51.100.0/30', nextHop: IPS[0], asPath: [65100], deviceId: 'fw' };
  w.storeOf(bgpEvents, 'bgp.RouteLearned', bgpRouteAggregate(routeAggregateId(route.peer, route.prefix)), route, 'tenant-a');
  return w;
}

function host(w: World, id: string, i: number): void {
  w.storeOf(ipamEvents, 'ipam.HypervisorRegistered', CLOUD, { hostId: id, vtepIp: `198.18.0.${11 + i}`, publicIp: `203.0.113.${1 + i}`, hostPoolId: 'h' }, '_system');
}

const HOSTS = ['hv1', 'hv2', 'hv3', null] as const;
const NETWORKS = ['r1', 'r2', 'plain'] as const;
/** Inside the appliance range; inside the routed pool but not the range (twice: the networks' subnets overlap). */
const IPS = ['198.19.0.10', '198.19.0.70', '198.19.0.200'] as const;

const op = fc.record({
  kind: fc.constantFrom('create', 'bind', 'readdress', 'delete', 'associate', 'disassociate', 'learn', 'withdraw', 'deregister', 'register', 'pool', 'unpool', 'session', 'irrelevant'),
  port: fc.nat(5),
  fip: fc.nat(3),
  pick: fc.nat(11),
});
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

class Run {
  readonly w: World;
  constructor(appliance = true) {
    this.w = world(appliance);
  }
  readonly down = new Set<string>();
  live: Liveness = { now: Date.parse('2026-01-01T00:00:00Z'), sessionUp: (a) => !this.down.has(a) };

  /** The stored event of the op, or undefined when the op does not apply here. */
  do(o: Op): StoredEvent | undefined {
    const { w } = this;
    const portId = `p${o.port}`;
    const port = w.state.fabric.ports[portId];
    const net = NETWORKS[o.pick % 3]!;
    const ips = (n: string) => (n === 'plain' ? [{ subnetId: 'plain-s', ip: `10.0.0.${o.pick}` }] : [{ subnetId: `${n}-s`, ip: IPS[o.pick % 3]! }]);
    switch (o.kind) {
      case 'create':
        if (port) return undefined;
        return w.storeOf(ipamEvents, 'ipam.PortCreated', network(net), { portId, name: '', mac: '02:00:00:00:00:01', fixedIps: ips(net), hostId: HOSTS[o.pick % 4]!, deviceId: o.pick % 2 ? 'fw' : '' }, net === 'r2' ? 'tenant-b' : 'tenant-a');
      case 'bind':
        if (!port) return undefined;
        return w.storeOf(ipamEvents, 'ipam.PortBound', network(port.networkId), { portId, hostId: HOSTS[o.pick % 4]!, previousHostId: port.hostId }, port.tenant);
      case 'readdress': {
        if (!port) return undefined;
        const after = ips(port.networkId);
        return w.storeOf(ipamEvents, 'ipam.PortUpdated', network(port.networkId), { portId, fixedIps: { before: port.fixedIps, after, released: port.fixedIps, allocated: after } }, port.tenant);
      }
      case 'delete':
        if (!port) return undefined;
        return w.storeOf(ipamEvents, 'ipam.PortDeleted', network(port.networkId), { portId, releasedIps: port.fixedIps }, port.tenant);
      case 'associate':
        return w.storeOf(natEvents, 'nat.FloatingIpAssociated', NAT(`f${o.fip}`), { floatingIpId: `f${o.fip}`, address: `203.0.113.${100 + (o.pick % 3)}`, portId, networkId: port?.networkId ?? 'r1', fixedIp: port?.fixedIps[0]?.ip ?? '198.19.0.10' }, 'tenant-a');
      case 'disassociate': {
        const fip = w.state.fabric.floatingIps[`f${o.fip}`];
        if (!fip) return undefined;
        return w.storeOf(natEvents, 'nat.FloatingIpDisassociated', NAT(`f${o.fip}`), { floatingIpId: `f${o.fip}`, address: fip.address, portId: fip.portId, reason: 'requested' }, 'tenant-a');
      }
      case 'learn':
      case 'withdraw': {
        // As the recorder writes them: whatever the appliance announced (the import policy decides on advertising).
        const [peer, prefix] = [IPS[o.pick % 2]!, `198.51.100.${o.fip * 4}/30`];
        const aggregate = bgpRouteAggregate(routeAggregateId(peer, prefix));
        return o.kind === 'learn'
          ? w.storeOf(bgpEvents, 'bgp.RouteLearned', aggregate, { peer, prefix, nextHop: peer, asPath: [65100], deviceId: 'fw' }, 'tenant-a')
          : w.storeOf(bgpEvents, 'bgp.RouteWithdrawn', aggregate, { peer, prefix }, 'tenant-a');
      }
      case 'deregister':
        return w.storeOf(ipamEvents, 'ipam.HypervisorDeregistered', CLOUD, { hostId: HOSTS[o.pick % 3]!, publicIp: `203.0.113.${1 + (o.pick % 3)}` }, '_system');
      case 'register':
        host(w, HOSTS[o.pick % 3]!, o.pick % 3);
        return w.events.at(-1);
      case 'pool':
        return w.storeOf(ipamEvents, 'ipam.PoolCreated', CLOUD, ROUTED_POOL, '_system');
      case 'unpool':
        return w.storeOf(ipamEvents, 'ipam.PoolDeleted', CLOUD, { poolId: ROUTED_POOL.poolId }, '_system');
      case 'session':
        // Not an event: this instance's session with an appliance goes down or up.
        if (this.down.has(IPS[0])) this.down.delete(IPS[0]);
        else this.down.add(IPS[0]);
        return undefined;
      case 'irrelevant':
        return w.storeOf(secgroupEvents, 'secgroup.PortGroupsSet', { context: 'secgroup', type: 'port', id: portId }, { portId, groupIds: [] }, 'tenant-a');
    }
  }
}

const view = (m: ReadonlyMap<string, Advertisement>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

describe('the desired table, kept change by change', () => {
  it('equals the advertisements rebuilt from scratch after every event, and names every prefix that changed (property)', () => {
    let incremental = 0;
    const kinds = new Set<string>();
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const r = new Run();
        const table = new DesiredTable();
        const changes = new DesiredChanges();
        table.update(r.w.state, changes, desiredNeighbours(r.w.state), r.live);
        // What a reconciler would have in gobgpd after applying each pass's diff.
        const rib = new Map([...table.desired].map(([p, a]) => [p, a.nextHop]));
        for (const o of ops) {
          const event = r.do(o);
          if (event) changes.note(event);
          if (!changes.all) incremental++;
          const changed = table.update(r.w.state, changes, desiredNeighbours(r.w.state), r.live);
          expect(view(table.desired)).toEqual(view(desiredAdvertisements(r.w.state, r.live)));
          for (const a of table.desired.values()) kinds.add(a.kind);
          const diff = changed === 'all' ? diffRib(table.desired, rib) : diffRibAt(table.desired, rib, changed);
          for (const p of diff.withdraw) rib.delete(p);
          for (const a of diff.add) rib.set(a.prefix, a.nextHop);
          expect([...rib].sort()).toEqual([...table.desired].map(([p, a]) => [p, a.nextHop]).sort());
        }
      }),
      { numRuns: 300 },
    );
    // Most steps took the incremental path (a generator that always rebuilt would prove nothing).
    expect(incremental).toBeGreaterThan(1000);
    expect([...kinds].sort()).toEqual(['application-prefix', 'floating-ip', 'host-ip', 'host-route', 'routed-subnet']);
  });

  it('a floating IP or a port change touches its own prefixes only; a hypervisor rebuilds', () => {
    const r = new Run(false);
    const table = new DesiredTable();
    const changes = new DesiredChanges();
    const update = () => table.update(r.w.state, changes, desiredNeighbours(r.w.state), r.live);
    r.do({ kind: 'create', port: 0, fip: 0, pick: 4 }); // r1, 198.19.0.70, hv1
    r.do({ kind: 'create', port: 1, fip: 0, pick: 2 }); // plain, hv3
    r.do({ kind: 'associate', port: 1, fip: 0, pick: 0 });
    expect(update()).toBe('all');
    expect(view(table.desired).map(([p, a]) => `${p} ${a.kind} ${a.nextHop}`)).toEqual(['198.19.0.0/24 routed-subnet 198.18.0.11', '198.19.0.70/32 host-route 198.18.0.11', '203.0.113.1/32 host-ip 198.18.0.11', '203.0.113.100/32 floating-ip 198.18.0.13', '203.0.113.2/32 host-ip 198.18.0.12', '203.0.113.3/32 host-ip 198.18.0.13']);
    changes.note(r.do({ kind: 'disassociate', port: 1, fip: 0, pick: 0 })!);
    expect(update()).toEqual(new Set(['203.0.113.100/32']));
    changes.note(r.do({ kind: 'bind', port: 0, fip: 0, pick: 1 })!); // to hv2: its host route and its network's subnet move
    expect(update()).toEqual(new Set(['198.19.0.70/32', '198.19.0.0/24']));
    changes.note(r.do({ kind: 'irrelevant', port: 0, fip: 0, pick: 0 })!);
    expect(update()).toEqual(new Set());
    changes.note(r.do({ kind: 'deregister', port: 0, fip: 0, pick: 2 })!);
    expect(update()).toBe('all');
  });

  it("an appliance address that moves to another port re-ranks that port's host route, though no event named it", () => {
    const r = new Run(false);
    const table = new DesiredTable();
    const changes = new DesiredChanges();
    const update = () => table.update(r.w.state, changes, desiredNeighbours(r.w.state), r.live);
    const ten = '198.19.0.10/32';
    r.do({ kind: 'create', port: 1, fip: 0, pick: 0 }); // r1, 198.19.0.10 on hv1, no device: the earliest claim
    r.do({ kind: 'create', port: 0, fip: 0, pick: 9 }); // r1, 198.19.0.10 on hv2, device fw (entitled): the appliance
    r.do({ kind: 'create', port: 2, fip: 0, pick: 9 }); // the same, later
    update();
    expect(table.desired.get(ten)?.sourceId).toBe('p0');
    changes.note(r.do({ kind: 'delete', port: 0, fip: 0, pick: 0 })!);
    expect(update()).toEqual(new Set([ten]));
    // p2 is the appliance now: its host route wins the address over the earlier p1.
    expect(desiredNeighbours(r.w.state).get('198.19.0.10')).toMatchObject({ kind: 'appliance', portId: 'p2' });
    expect(table.desired.get(ten)?.sourceId).toBe('p2');
  });
});
