/**
 * The test that keeps the incremental path honest (OVN's rule): after any
 * sequence of IPAM, secgroup, NAT, BGP and chaining events, the per-host KV content
 * maintained event by event (each key family's `hosts` and `touched`)
 * equals a full recompute of every host from the model (each family's
 * `entries`), and equals a full recompute from a fresh model built by
 * replaying all the events. Checked after every event, for one instance and
 * for three partitions together; the generated logs must produce keys of
 * every family (a new family without events that make its keys fails here).
 *
 * Ids come from small pools so that sequences collide often: ports move
 * between hosts, are re-created on other networks, routers join and leave
 * subnets, networks and hypervisors disappear under their ports; security
 * groups name each other (and themselves) as remote groups, gain and lose
 * rules, are deleted under their members and re-created, ports join and
 * leave groups before, while and after they exist. The model must also
 * survive what IPAM and secgroup would refuse (it is total), so the
 * generator does not respect their preconditions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLOUD_AGGREGATE,
  floatingIpAssociationAggregate,
  networkAggregate,
  portSecurityAggregate,
  routerAggregate,
  routerGatewayAggregate,
  securityGroupAggregate,
  bgpRouteAggregate,
  bgpPhysicalAggregate,
  chainAggregate,
  flowClassifierAggregate,
  functionGroupAggregate,
  serviceFunctionAggregate,
} from '@strata/contracts';
import { parseHostviewKey as parseKey } from '@strata/contracts';
import { affectedHosts, kindOfKey } from './derive.js';
import { applyOps } from './diff.js';
import { FAMILIES } from './families/index.js';
import { chainsNamingGroup } from './inputs/chaining.js';
import { groupIdsOf, hostsReferencing, hostsWithMembers } from './inputs/secgroup.js';
import { applyEvent, emptyModel, type Model, type ModelEvent } from './model.js';
import { peersOf } from './inputs/peering.js';
import { domainNetworks, domainOf, hostsOfDomain, hostsOnNetwork } from './topology.js';
import { owner } from './partition.js';
import { HostViews } from './views.js';
import { deriveAll, Given, plain, replay, rule } from './test/given.js';
import type { StoredEvent } from '@strata/eventlog';
import { hostAt } from '../app/host-at.js';
import { AuditSnapshots, inMemoryAuditStore } from '../app/audit-snapshots.js';
import { createLogger } from '@strata/runtime';

const silentLogger = createLogger('hostview-test', 'silent');

const HOSTS = ['h0', 'h1', 'h2', 'h3'];
const NETS = ['n0', 'n1', 'n2'];
const SUBNETS = ['s0', 's1', 's2', 's3', 's4'];
const PORTS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
const ROUTERS = ['r0', 'r1'];
const TENANTS = ['ta', 'tb'];
const GROUPS = ['g0', 'g1', 'g2', 'g3'];
const RULES = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
/** Gateway devices (two host devices, one switch) and their bindings. */
const DEVICES = ['gw0', 'gw1', 'sw'];
const BINDINGS = ['b0', 'b1', 'b2'];
/** Peering segments (both routers may be on either). */
const SEGMENTS = ['seg0', 'seg1'];

type Spec = Omit<ModelEvent, 'seq'>;
const pick = <T,>(xs: readonly T[]) => fc.constantFrom(...xs);
const spec = <S extends Spec>(s: S): Spec => s;

const fixedIps = fc.array(
  fc.record({ subnetId: pick(SUBNETS), ip: pick(['10.0.0.10', '10.0.0.11', '10.0.1.10', '2001:db8::10']) }),
  { maxLength: 2 },
);
const hostOrNull = fc.option(pick(HOSTS), { nil: null });
/** Allowed address pairs: addresses and a CIDR that the owner events below name, with the ports' MACs. */
const PAIR_IPS = ['10.0.0.100', '10.0.0.101', '2001:db8::100'];
const arbPairs = fc.array(
  fc.record({ ipAddress: pick([...PAIR_IPS, '10.0.0.96/28']), macAddress: fc.integer({ min: 1, max: 3 }).map((m) => `02:00:00:00:00:0${m}`) }),
  { maxLength: 2 },
);

/** DNS servers, host routes and router routes (Neutron's extraroute): lists that updates replace, often with the same content. */
const arbDns = fc.subarray(['192.0.2.53', '192.0.2.54', '2001:db8::53'], { maxLength: 2 });
const arbRoutes = fc.array(
  fc.record({ destination: pick(['172.16.0.0/12', '192.168.50.0/24', '0.0.0.0/0']), nexthop: pick(['10.0.0.10', '10.0.1.10']) }),
  { maxLength: 2 },
);
/** The optional fields of an update: each present or not (an update naming none changes nothing a host sees). */
const some = <T extends object>(fields: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<Partial<T>> => fc.record(fields, { requiredKeys: [] });

const arbRegister = fc.record({ h: pick(HOSTS), v: fc.integer({ min: 1, max: 5 }) }).map(({ h, v }) =>
  spec({ type: 'ipam.HypervisorRegistered', data: { hostId: h, vtepIp: `198.18.0.${v}`, publicIp: `203.0.113.${v}`, hostPoolId: 'pool' }, aggregate: CLOUD_AGGREGATE, tenant: '_system' }),
);
const arbNetwork = fc.record({ n: pick(NETS), t: pick(TENANTS), vni: fc.integer({ min: 100, max: 103 }), mtu: pick([1450, 9000]) }).map(({ n, t, vni, mtu }) =>
  spec({ type: 'ipam.NetworkCreated', data: { networkId: n, name: n, vni, mtu, routed: true }, aggregate: CLOUD_AGGREGATE, tenant: t }),
);

const arbRule = fc
  .record({
    id: pick(RULES),
    direction: pick(['ingress', 'egress'] as const),
    protocol: pick(['tcp', 'udp', 'any'] as const),
    port: fc.option(pick([22, 443, 5432]), { nil: null }),
    peer: fc.oneof(
      { weight: 3, arbitrary: pick(GROUPS).map((remoteGroupId) => ({ remoteGroupId })) },
      { weight: 1, arbitrary: fc.constant({ remoteCidr: '192.0.2.0/24' }) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
  })
  .map(({ id, direction, protocol, port, peer }) => rule(id, direction, protocol, protocol === 'any' ? null : port, undefined, peer));
/** Federation tags (members in other zones, inputs/zone-members.ts): the physical MACs below carry some of them. */
const TAGS = [10, 20];
const arbGroup = fc.record({ g: pick(GROUPS), t: pick(TENANTS), rules: fc.array(arbRule, { maxLength: 3 }), tag: fc.option(pick(TAGS), { nil: undefined }) }).map(({ g, t, rules, tag }) =>
  spec({
    type: 'secgroup.GroupCreated',
    data: { groupId: g, name: g, description: '', isDefault: false, rules, ...(tag !== undefined ? { federationTag: tag } : {}) },
    aggregate: securityGroupAggregate(g),
    tenant: t,
  }),
);
const arbSetGroups = fc.record({ p: pick(PORTS), gs: fc.subarray(GROUPS, { maxLength: 3 }) }).map(({ p, gs }) =>
  spec({ type: 'secgroup.PortGroupsSet', data: { portId: p, groupIds: gs }, aggregate: portSecurityAggregate(p), tenant: 'ta' }),
);

/** secgroup's events, over the same ports as IPAM's. */
const arbSecgroupEvent: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 4, arbitrary: arbGroup },
  {
    weight: 6,
    arbitrary: fc.record({ g: pick(GROUPS), r: arbRule }).map(({ g, r }) =>
      spec({ type: 'secgroup.RuleAdded', data: { groupId: g, rule: r }, aggregate: securityGroupAggregate(g), tenant: 'ta' }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ g: pick(GROUPS), r: pick(RULES) }).map(({ g, r }) =>
      spec({ type: 'secgroup.RuleRemoved', data: { groupId: g, ruleId: r }, aggregate: securityGroupAggregate(g), tenant: 'ta' }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ g: pick(GROUPS), tag: fc.option(pick(TAGS), { nil: null }) }).map(({ g, tag }) =>
      spec({ type: 'secgroup.GroupUpdated', data: { groupId: g, federationTag: tag }, aggregate: securityGroupAggregate(g), tenant: 'ta' }),
    ),
  },
  { weight: 1, arbitrary: pick(GROUPS).map((g) => spec({ type: 'secgroup.GroupUpdated', data: { groupId: g, name: `${g}-renamed` }, aggregate: securityGroupAggregate(g), tenant: 'ta' })) },
  {
    weight: 2,
    arbitrary: pick(GROUPS).map((g) => spec({ type: 'secgroup.GroupDeleted', data: { groupId: g }, aggregate: securityGroupAggregate(g), tenant: 'ta' })),
  },
  { weight: 14, arbitrary: arbSetGroups },
  {
    weight: 3,
    arbitrary: fc.record({ p: pick(PORTS), on: fc.boolean() }).map(({ p, on }) =>
      spec({ type: 'secgroup.PortSecuritySet', data: { portId: p, enabled: on }, aggregate: portSecurityAggregate(p), tenant: 'ta' }),
    ),
  },
  {
    weight: 3,
    arbitrary: pick(PORTS).map((p) => spec({ type: 'secgroup.PortForgotten', data: { portId: p }, aggregate: portSecurityAggregate(p), tenant: 'ta' })),
  },
);

const arbIpamEvent: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 4, arbitrary: arbRegister },
  {
    weight: 2,
    arbitrary: pick(HOSTS).map((h) =>
      spec({ type: 'ipam.HypervisorDeregistered', data: { hostId: h, publicIp: '203.0.113.1' }, aggregate: CLOUD_AGGREGATE, tenant: '_system' }),
    ),
  },
  { weight: 4, arbitrary: arbNetwork },
  {
    weight: 1,
    arbitrary: fc.record({ n: pick(NETS), t: pick(TENANTS) }).map(({ n, t }) =>
      spec({ type: 'ipam.NetworkDeleted', data: { networkId: n, vni: 100 }, aggregate: CLOUD_AGGREGATE, tenant: t }),
    ),
  },
  {
    weight: 1,
    arbitrary: pick(NETS).map((n) => spec({ type: 'ipam.NetworkClosed', data: { networkId: n }, aggregate: networkAggregate(n), tenant: 'ta' })),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({
        n: pick(NETS),
        s: pick(SUBNETS),
        t: pick(TENANTS),
        x: fc.integer({ min: 0, max: 2 }),
        v6: fc.boolean(),
        gw: fc.boolean(),
        dhcp: fc.boolean(),
        options: some({ dnsNameservers: arbDns, hostRoutes: arbRoutes }),
      })
      .map(({ n, s, t, x, v6, gw, dhcp, options }) =>
        spec({
          type: 'ipam.SubnetCreated',
          data: {
            subnetId: s,
            name: s,
            ipVersion: v6 ? 6 : 4,
            cidr: v6 ? `2001:db8:${x}::/64` : `10.0.${x}.0/24`,
            gatewayIp: gw ? (v6 ? `2001:db8:${x}::1` : `10.0.${x}.1`) : null,
            allocationPools: [],
            enableDhcp: dhcp,
            ...options,
          },
          aggregate: networkAggregate(n),
          tenant: t,
        }),
      ),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({ n: pick(NETS), s: pick(SUBNETS), fields: some({ name: fc.constant('renamed'), enableDhcp: fc.boolean(), dnsNameservers: arbDns, hostRoutes: arbRoutes }) })
      .map(({ n, s, fields }) => spec({ type: 'ipam.SubnetUpdated', data: { subnetId: s, ...fields }, aggregate: networkAggregate(n), tenant: 'ta' })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ n: pick(NETS), fields: some({ name: fc.constant('renamed'), mtu: pick([1450, 9000]) }) })
      .map(({ n, fields }) => spec({ type: 'ipam.NetworkUpdated', data: { networkId: n, ...fields }, aggregate: networkAggregate(n), tenant: 'ta' })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ n: pick(NETS), s: pick(SUBNETS) }).map(({ n, s }) =>
      spec({ type: 'ipam.SubnetDeleted', data: { subnetId: s }, aggregate: networkAggregate(n), tenant: 'ta' }),
    ),
  },
  {
    weight: 20,
    arbitrary: fc
      .record({ n: pick(NETS), p: pick(PORTS), h: hostOrNull, m: fc.integer({ min: 1, max: 3 }), ips: fixedIps, t: pick(TENANTS), pairs: arbPairs, up: fc.boolean() })
      .map(({ n, p, h, m, ips, t, pairs, up }) =>
        spec({
          type: 'ipam.PortCreated',
          data: {
            portId: p,
            name: p,
            mac: `02:00:00:00:00:0${m}`,
            fixedIps: ips,
            hostId: h,
            deviceId: `vm${m}`,
            ...(pairs.length ? { allowedAddressPairs: pairs } : {}),
            ...(up ? {} : { adminStateUp: false }),
          },
          aggregate: networkAggregate(n),
          tenant: t,
        }),
      ),
  },
  {
    // An update: fixed IPs moved, admin state, pairs, device, or only a name (no step for a follower).
    weight: 12,
    arbitrary: fc
      .record({
        n: pick(NETS),
        p: pick(PORTS),
        fields: some({
          name: fc.constant('renamed'),
          adminStateUp: fc.boolean(),
          deviceId: pick(['vm1', 'vm9']),
          fixedIps: fc.record({ before: fixedIps, after: fixedIps }).map(({ before, after }) => ({ before, after, released: before, allocated: after })),
          allowedAddressPairs: arbPairs,
        }),
      })
      .map(({ n, p, fields }) => spec({ type: 'ipam.PortUpdated', data: { portId: p, ...fields }, aggregate: networkAggregate(n), tenant: 'ta' })),
  },
  {
    weight: 16,
    arbitrary: fc.record({ n: pick(NETS), p: pick(PORTS), h: hostOrNull }).map(({ n, p, h }) =>
      spec({ type: 'ipam.PortBound', data: { portId: p, hostId: h, previousHostId: null }, aggregate: networkAggregate(n), tenant: 'ta' }),
    ),
  },
  {
    weight: 5,
    arbitrary: fc.record({ n: pick(NETS), p: pick(PORTS) }).map(({ n, p }) =>
      spec({ type: 'ipam.PortDeleted', data: { portId: p, releasedIps: [] }, aggregate: networkAggregate(n), tenant: 'ta' }),
    ),
  },
  {
    weight: 6,
    arbitrary: fc.record({ n: pick(NETS), p: pick(PORTS), pairs: arbPairs }).map(({ n, p, pairs }) =>
      spec({ type: 'ipam.PortAllowedAddressPairsSet', data: { portId: p, allowedAddressPairs: pairs }, aggregate: networkAggregate(n), tenant: 'ta' }),
    ),
  },
  {
    weight: 8,
    arbitrary: fc.record({ n: pick(NETS), p: pick(PORTS), q: fc.option(pick(PORTS), { nil: null }), ip: pick(PAIR_IPS), m: fc.integer({ min: 1, max: 3 }), h: pick(HOSTS) }).map(({ n, p, q, ip, m, h }) =>
      spec({
        type: 'ipam.AddressPairOwnerChanged',
        data: { networkId: n, ip, portId: p, mac: `02:00:00:00:00:0${m}`, previousPortId: q, observedBy: h },
        aggregate: networkAggregate(n),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record({ r: pick(ROUTERS), t: pick(TENANTS), routes: arbRoutes }).map(({ r, t, routes }) =>
      spec({ type: 'ipam.RouterCreated', data: { routerId: r, name: r, ...(routes.length ? { routes } : {}) }, aggregate: routerAggregate(r), tenant: t }),
    ),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ r: pick(ROUTERS), fields: some({ name: fc.constant('renamed'), routes: arbRoutes }) })
      .map(({ r, fields }) => spec({ type: 'ipam.RouterUpdated', data: { routerId: r, ...fields }, aggregate: routerAggregate(r), tenant: 'ta' })),
  },
  {
    weight: 8,
    arbitrary: fc.record({ r: pick(ROUTERS), s: pick(SUBNETS), n: pick(NETS) }).map(({ r, s, n }) =>
      spec({ type: 'ipam.RouterInterfaceAdded', data: { routerId: r, subnetId: s, networkId: n }, aggregate: routerAggregate(r), tenant: 'ta' }),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record({ r: pick(ROUTERS), s: pick(SUBNETS), n: pick(NETS) }).map(({ r, s, n }) =>
      spec({ type: 'ipam.RouterInterfaceRemoved', data: { routerId: r, subnetId: s, networkId: n }, aggregate: routerAggregate(r), tenant: 'ta' }),
    ),
  },
  {
    weight: 2,
    arbitrary: pick(ROUTERS).map((r) => spec({ type: 'ipam.RouterDeleted', data: { routerId: r }, aggregate: routerAggregate(r), tenant: 'ta' })),
  },
  // Peering segments: both routers attached to and detached from two segments, segments created and deleted
  // under them (the model is total), with overlapping prefixes now and then (left out by the derivation).
  {
    weight: 2,
    arbitrary: fc.record({ seg: pick(SEGMENTS), created: fc.boolean() }).map(({ seg, created }) =>
      created
        ? spec({ type: 'ipam.PeeringSegmentCreated', data: { segmentId: seg, name: seg, cidr: '169.254.0.0/28', vni: seg === 'seg0' ? 200 : 201 }, aggregate: CLOUD_AGGREGATE, tenant: 'ta' })
        : spec({ type: 'ipam.PeeringSegmentDeleted', data: { segmentId: seg, vni: seg === 'seg0' ? 200 : 201 }, aggregate: CLOUD_AGGREGATE, tenant: 'ta' }),
    ),
  },
  {
    weight: 6,
    arbitrary: fc.record({ seg: pick(SEGMENTS), r: pick(ROUTERS), attached: fc.boolean() }).map(({ seg, r, attached }) => {
      const n = ROUTERS.indexOf(r) + 1;
      const data = { attachmentId: `att-${r}-${seg}`, segmentId: seg, vni: seg === 'seg0' ? 200 : 201, routerId: r, ip: `169.254.0.${n}`, mac: `02:53:54:00:00:0${n}` };
      return spec({ type: attached ? 'ipam.PeeringAttached' : 'ipam.PeeringDetached', data, aggregate: CLOUD_AGGREGATE, tenant: 'ta' });
    }),
  },
  // Gateway devices and bindings: host devices on the hypervisors, a switch; bindings created, moved across
  // devices and networks' hosts, deleted, also under a deleted device or network (the model is total).
  {
    weight: 3,
    arbitrary: fc.record({ d: pick(DEVICES), h: pick(HOSTS) }).map(({ d, h }) =>
      spec({
        type: 'ipam.GatewayDeviceCreated',
        data: d === 'sw' ? { deviceId: d, name: d, kind: 'evpn', vtepIp: '198.18.0.40', bgp: { address: '198.18.0.40', remoteAs: 65040 }, ports: [{ name: 'swp1', tenant: null }] } : { deviceId: d, name: d, kind: 'host', vtepIp: '198.18.0.9', hostId: h, ports: [{ name: 'eth1', tenant: null }] },
        aggregate: CLOUD_AGGREGATE,
        tenant: '_system',
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: pick(DEVICES).map((d) => spec({ type: 'ipam.GatewayDeviceDeleted', data: { deviceId: d, kind: 'host', vtepIp: '198.18.0.9' }, aggregate: CLOUD_AGGREGATE, tenant: '_system' })),
  },
  {
    weight: 6,
    arbitrary: fc.record({ b: pick(BINDINGS), d: pick(DEVICES), n: pick(NETS), vlan: fc.integer({ min: 1, max: 3 }), moved: fc.boolean() }).map(({ b, d, n, vlan, moved }) => {
      const place = { bindingId: b, tenant: 'ta', networkId: n, vni: 100, deviceId: d, port: 'eth1', vlan };
      return moved
        ? spec({ type: 'ipam.GatewayBindingMoved', data: { ...place, previous: { deviceId: d, port: 'eth1', vlan: 4 } }, aggregate: CLOUD_AGGREGATE, tenant: 'ta' })
        : spec({ type: 'ipam.GatewayBindingCreated', data: place, aggregate: CLOUD_AGGREGATE, tenant: 'ta' });
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ b: pick(BINDINGS), n: pick(NETS) }).map(({ b, n }) =>
      spec({ type: 'ipam.GatewayBindingDeleted', data: { bindingId: b, tenant: 'ta', networkId: n, vni: 100, deviceId: 'gw0', port: 'eth1', vlan: 1 }, aggregate: CLOUD_AGGREGATE, tenant: 'ta' }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constant(
      spec({ type: 'ipam.PoolCreated', data: { poolId: 'pool', name: 'p', cidr: '203.0.113.0/24', purpose: 'host-ip' }, aggregate: CLOUD_AGGREGATE, tenant: '_system' }),
    ),
  },
);

const FIPS = ['f0', 'f1', 'f2'];

/** Optional fields of host-view values the generated logs must produce too (each from events of its own). */
const FIELDS = ['floatingIps', 'externalGateway', 'announcedRoutes', 'allowedAddressPairs', 'ownedAddresses', 'adminStateUp', 'dnsNameservers', 'hostRoutes', 'routes', 'peerings'];

/** NAT: associations move between ports (and outlive deleted ones), gateways go on and off. */
const arbNatEvent: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ f: pick(FIPS), p: pick(PORTS), n: pick(NETS), ip: pick(['10.0.0.10', '10.0.1.10']) }).map(({ f, p, n, ip }) =>
      spec({
        type: 'nat.FloatingIpAssociated',
        data: { floatingIpId: f, address: `203.0.113.${FIPS.indexOf(f) + 10}`, portId: p, networkId: n, fixedIp: ip },
        aggregate: floatingIpAssociationAggregate(f),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ f: pick(FIPS), p: pick(PORTS) }).map(({ f, p }) =>
      spec({
        type: 'nat.FloatingIpDisassociated',
        data: { floatingIpId: f, address: `203.0.113.${FIPS.indexOf(f) + 10}`, portId: p, reason: 'requested' },
        aggregate: floatingIpAssociationAggregate(f),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ r: pick(ROUTERS), on: fc.boolean() }).map(({ r, on }) =>
      spec({ type: on ? 'nat.ExternalGatewayEnabled' : 'nat.ExternalGatewayDisabled', data: { routerId: r }, aggregate: routerGatewayAggregate(r), tenant: 'ta' }),
    ),
  },
);

/** BGP: appliance routes (device vm1..vm3, announced from an address ports may have) learned, re-learned and withdrawn; border routes too. */
const arbBgpEvent: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ r: pick(['q0', 'q1', 'q2']), dev: fc.option(pick(['vm1', 'vm2', 'vm3']), { nil: null }), hop: pick(['10.0.0.10', '10.0.1.10', '10.0.0.11']), pre: pick(['198.51.100.8/32', '198.51.100.16/30']), tenant: pick(['_system', 'ta', 'tb']) })
      .map(({ r, dev, hop, pre, tenant }) =>
        spec({ type: 'bgp.RouteLearned', data: { peer: hop, prefix: pre, nextHop: hop, asPath: [65100], deviceId: dev }, aggregate: bgpRouteAggregate(r), tenant }),
      ),
  },
  {
    weight: 1,
    arbitrary: pick(['q0', 'q1', 'q2']).map((r) => spec({ type: 'bgp.RouteWithdrawn', data: { peer: '10.0.0.10', prefix: '198.51.100.8/32' }, aggregate: bgpRouteAggregate(r), tenant: '_system' })),
  },
);

/**
 * Physical MACs and flood VTEPs of gateway devices (the BGP gateway's events): on the networks' VNIs
 * (100-103) and one no network has; a MAC with and without IPs, learned and withdrawn, on two devices, with
 * and without group tags (another zone's member).
 */
const arbPhysicalEvent: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        on: fc.boolean(),
        d: pick(['sw1', 'sw2']),
        vni: fc.integer({ min: 100, max: 104 }),
        m: pick(['52:54:00:bb:00:01', '52:54:00:bb:00:02']),
        ip: fc.option(pick(['10.0.0.200', '10.0.0.201']), { nil: undefined }),
        tags: fc.subarray(TAGS),
      })
      .map(({ on, d, vni, m, ip, tags }) =>
        spec({
          type: on ? 'bgp.PhysicalMacLearned' : 'bgp.PhysicalMacWithdrawn',
          data: { deviceId: d, vni, mac: m, ...(ip ? { ip } : {}), vtep: d === 'sw1' ? '198.18.0.50' : '198.18.0.51', ...(tags.length > 0 ? { groupTags: tags } : {}) },
          aggregate: bgpPhysicalAggregate(`${d}-${vni}-${m}-${ip ?? ''}`),
          tenant: 'ta',
        }),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ on: fc.boolean(), d: pick(['sw1', 'sw2']), vni: fc.integer({ min: 100, max: 104 }) }).map(({ on, d, vni }) =>
      spec({
        type: on ? 'bgp.PhysicalVtepLearned' : 'bgp.PhysicalVtepWithdrawn',
        data: { deviceId: d, vni, vtep: d === 'sw1' ? '198.18.0.50' : '198.18.0.51' },
        aggregate: bgpPhysicalAggregate(`${d}-${vni}`),
        tenant: 'ta',
      }),
    ),
  },
);

const FUNCS = ['sf0', 'sf1', 'sf2'];
const FGROUPS = ['fg0', 'fg1'];
const CLASSIFIERS = ['fc0', 'fc1'];
const CHAINS = ['c0', 'c1'];

/**
 * Chaining: functions whose legs are any ports (existing or not), groups of
 * them, classifiers naming security groups (whose membership then reaches
 * the hosts of the chain's router as member keys), chains on either router;
 * health and active-member decisions; updates (a function's health check,
 * a group's members, a chain's hops and classifiers, names); everything
 * deleted and re-created.
 */
const arbEndpoint = fc.oneof(
  pick(GROUPS).map((groupId) => ({ groupId, cidr: null })),
  fc.constant({ groupId: null, cidr: '10.0.1.0/24' }),
  fc.constant({ groupId: null, cidr: null }),
);
const arbChainingEvent: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ f: pick(FUNCS), i: pick(PORTS), e: pick(PORTS), vip: fc.option(fc.constant('10.0.0.100'), { nil: null }) }).map(({ f, i, e, vip }) =>
      spec({
        type: 'chaining.ServiceFunctionCreated',
        data: { functionId: f, name: f, ingressPortId: i, egressPortId: e, mode: 'l3', virtualIp: vip, healthCheck: vip ? { protocol: 'icmp', port: null, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 } : null },
        aggregate: serviceFunctionAggregate(f),
        tenant: 'ta',
      }),
    ),
  },
  { weight: 1, arbitrary: pick(FUNCS).map((f) => spec({ type: 'chaining.ServiceFunctionDeleted', data: { functionId: f }, aggregate: serviceFunctionAggregate(f), tenant: 'ta' })) },
  {
    weight: 2,
    arbitrary: fc.record({ f: pick(FUNCS), up: fc.boolean() }).map(({ f, up }) =>
      spec({
        type: 'chaining.FunctionHealthChanged',
        data: { functionId: f, healthy: up, reason: up ? 'check-recovered' : 'check-failed', observedBy: 'h0', detail: '' },
        aggregate: serviceFunctionAggregate(f),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ g: pick(FGROUPS), fs: fc.subarray(FUNCS, { minLength: 1 }), hash: fc.boolean(), open: fc.boolean() }).map(({ g, fs, hash, open }) =>
      spec({
        type: 'chaining.FunctionGroupCreated',
        data: { groupId: g, name: g, functionIds: fs, selection: hash ? 'flow-hash' : 'active-standby', fallback: open ? 'fail-open' : 'fail-closed' },
        aggregate: functionGroupAggregate(g),
        tenant: 'ta',
      }),
    ),
  },
  { weight: 1, arbitrary: pick(FGROUPS).map((g) => spec({ type: 'chaining.FunctionGroupDeleted', data: { groupId: g }, aggregate: functionGroupAggregate(g), tenant: 'ta' })) },
  {
    weight: 2,
    arbitrary: fc.record({ g: pick(FGROUPS), f: fc.option(pick(FUNCS), { nil: null }) }).map(({ g, f }) =>
      spec({
        type: 'chaining.ActiveFunctionChanged',
        data: { groupId: g, functionId: f, previousFunctionId: null, reason: 'garp', observedBy: 'h1', detail: '' },
        aggregate: functionGroupAggregate(g),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ c: pick(CLASSIFIERS), src: arbEndpoint, dst: arbEndpoint, tcp: fc.boolean() }).map(({ c, src, dst, tcp }) =>
      spec({
        type: 'chaining.FlowClassifierCreated',
        data: {
          name: c,
          classifier: { id: c, ethertype: 'IPv4', protocol: tcp ? 'tcp' : 'any', source: src, destination: dst, sourcePorts: null, destinationPorts: tcp ? { min: 9000, max: 9000 } : null },
        },
        aggregate: flowClassifierAggregate(c),
        tenant: 'ta',
      }),
    ),
  },
  { weight: 1, arbitrary: pick(CLASSIFIERS).map((c) => spec({ type: 'chaining.FlowClassifierDeleted', data: { classifierId: c }, aggregate: flowClassifierAggregate(c), tenant: 'ta' })) },
  {
    weight: 3,
    arbitrary: fc.record({ c: pick(CHAINS), r: pick(ROUTERS), gs: fc.subarray(FGROUPS, { minLength: 1 }), cs: fc.subarray(CLASSIFIERS, { minLength: 1 }), sym: fc.boolean() }).map(({ c, r, gs, cs, sym }) =>
      spec({
        type: 'chaining.ChainCreated',
        data: { chainId: c, name: c, routerId: r, groupIds: gs, classifierIds: cs, symmetric: sym },
        aggregate: chainAggregate(c),
        tenant: 'ta',
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ f: pick(FUNCS), check: fc.option(fc.constantFrom(1000, 2000), { nil: null }), named: fc.boolean() })
      .map(({ f, check, named }) =>
        spec({
          type: 'chaining.ServiceFunctionUpdated',
          data: named ? { functionId: f, name: `${f}-renamed` } : { functionId: f, healthCheck: check === null ? null : { protocol: 'icmp', port: null, intervalMs: check, timeoutMs: 500, rise: 2, fall: 3 } },
          aggregate: serviceFunctionAggregate(f),
          tenant: 'ta',
        }),
      ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ g: pick(FGROUPS), fs: fc.subarray(FUNCS, { minLength: 1 }) }).map(({ g, fs }) =>
      spec({ type: 'chaining.FunctionGroupUpdated', data: { groupId: g, functionIds: [...fs].reverse() }, aggregate: functionGroupAggregate(g), tenant: 'ta' }),
    ),
  },
  { weight: 1, arbitrary: pick(CLASSIFIERS).map((c) => spec({ type: 'chaining.FlowClassifierUpdated', data: { classifierId: c, description: 'd' }, aggregate: flowClassifierAggregate(c), tenant: 'ta' })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ c: pick(CHAINS), gs: fc.option(fc.subarray(FGROUPS, { minLength: 1 }), { nil: undefined }), cs: fc.option(fc.subarray(CLASSIFIERS, { minLength: 1 }), { nil: undefined }) })
      .map(({ c, gs, cs }) =>
        spec({
          type: 'chaining.ChainUpdated',
          data: { chainId: c, ...(gs ? { groupIds: [...gs].reverse() } : {}), ...(cs ? { classifierIds: cs } : {}) },
          aggregate: chainAggregate(c),
          tenant: 'ta',
        }),
      ),
  },
  { weight: 1, arbitrary: pick(CHAINS).map((c) => spec({ type: 'chaining.ChainDeleted', data: { chainId: c }, aggregate: chainAggregate(c), tenant: 'ta' })) },
);

const arbEvent: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 3, arbitrary: arbIpamEvent },
  { weight: 1, arbitrary: arbChainingEvent },
  { weight: 2, arbitrary: arbSecgroupEvent },
  { weight: 1, arbitrary: arbNatEvent },
  { weight: 1, arbitrary: arbBgpEvent },
  { weight: 1, arbitrary: arbPhysicalEvent },
);

/**
 * A log: a few hypervisors, networks and groups first (so that most later
 * events land on something; with `peered` two routers peered too), then
 * anything, deletions included.
 */
const arbLog = (maxLength: number, peered = false): fc.Arbitrary<Spec[]> =>
  fc
    .tuple(
      fc.tuple(...HOSTS.map((h) => arbRegister.map((e) => ({ ...e, data: { ...(e.data as object), hostId: h } }) as Spec))),
      fc.tuple(...NETS.map((n) => arbNetwork.map((e) => ({ ...e, data: { ...(e.data as object), networkId: n, name: n } }) as Spec))),
      fc.tuple(...GROUPS.slice(0, 3).map((g) => arbGroup.map((e) => ({ ...e, data: { ...(e.data as object), groupId: g, name: g }, aggregate: securityGroupAggregate(g) }) as Spec))),
      // A router r0 joined to n0, a port of n0 on h0, a function sf0 on it and a chain on r0: chain keys (classifier
      // members, and a member with legs when the group has sf0) exist from the start, whatever comes after (later
      // events may delete, move or update any of it).
      fc.tuple(
        fc.constant(spec({ type: 'ipam.RouterCreated', data: { routerId: 'r0', name: 'r0' }, aggregate: routerAggregate('r0'), tenant: 'ta' })),
        fc.constant(
          spec({
            type: 'ipam.SubnetCreated',
            data: { subnetId: 's0', name: 's0', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', allocationPools: [], enableDhcp: false },
            aggregate: networkAggregate('n0'),
            tenant: 'ta',
          }),
        ),
        fc.constant(spec({ type: 'ipam.RouterInterfaceAdded', data: { routerId: 'r0', subnetId: 's0', networkId: 'n0' }, aggregate: routerAggregate('r0'), tenant: 'ta' })),
        fc.constant(
          spec({
            type: 'ipam.PortCreated',
            data: { portId: 'p0', name: 'p0', mac: '02:00:00:00:00:01', fixedIps: [{ subnetId: 's0', ip: '10.0.0.10' }], hostId: 'h0', deviceId: 'vm1' },
            aggregate: networkAggregate('n0'),
            tenant: 'ta',
          }),
        ),
        fc.constant(
          spec({
            type: 'chaining.ServiceFunctionCreated',
            data: { functionId: 'sf0', name: 'sf0', ingressPortId: 'p0', egressPortId: 'p0', mode: 'l3', virtualIp: null, healthCheck: null },
            aggregate: serviceFunctionAggregate('sf0'),
            tenant: 'ta',
          }),
        ),
        arbChainingEvent.filter((e) => e.type === 'chaining.FlowClassifierCreated'),
        arbChainingEvent.filter((e) => e.type === 'chaining.FunctionGroupCreated'),
        arbChainingEvent.filter((e) => e.type === 'chaining.ChainCreated').map((e) => ({ ...e, data: { ...(e.data as object), routerId: 'r0' } }) as Spec),
      ),
      // With `peered`: a router r1 with a subnet on n1, and r0 and r1 on peering segment seg0, so that peerings
      // exist from the start too (left to chance, 300 logs went without a "peerings" value about one time in four).
      fc.constant(!peered ? [] : [
        spec({ type: 'ipam.RouterCreated', data: { routerId: 'r1', name: 'r1' }, aggregate: routerAggregate('r1'), tenant: 'ta' }),
        spec({
          type: 'ipam.SubnetCreated',
          data: { subnetId: 's1', name: 's1', ipVersion: 4, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', allocationPools: [], enableDhcp: false },
          aggregate: networkAggregate('n1'),
          tenant: 'ta',
        }),
        spec({ type: 'ipam.RouterInterfaceAdded', data: { routerId: 'r1', subnetId: 's1', networkId: 'n1' }, aggregate: routerAggregate('r1'), tenant: 'ta' }),
        spec({ type: 'ipam.PeeringSegmentCreated', data: { segmentId: 'seg0', name: 'seg0', cidr: '169.254.0.0/28', vni: 200 }, aggregate: CLOUD_AGGREGATE, tenant: 'ta' }),
        ...ROUTERS.map((r, i) =>
          spec({
            type: 'ipam.PeeringAttached',
            data: { attachmentId: `att-${r}-seg0`, segmentId: 'seg0', vni: 200, routerId: r, ip: `169.254.0.${i + 1}`, mac: `02:53:54:00:00:0${i + 1}` },
            aggregate: CLOUD_AGGREGATE,
            tenant: 'ta',
          }),
        ),
      ]),
      fc.array(arbEvent, { minLength: Math.min(20, maxLength), maxLength, size: 'max' }),
    )
    .map(([hosts, networks, groups, chaining, peering, rest]) => [...hosts, ...networks, ...groups, ...chaining, ...peering, ...rest]);

/** Map equality; the slow deep-equality assertion runs only to report a difference. */
function expectSameKv(actual: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>): void {
  const same = actual.size === expected.size && [...expected].every(([k, v]) => actual.get(k) === v);
  if (!same) expect(plain(actual)).toEqual(plain(expected));
}

const emit = (g: Given, s: Spec): ModelEvent => g.emit(s.type, s.data as never, s.aggregate, s.tenant);

describe('incremental host views equal a full recompute (property)', () => {
  it('after every event of any sequence, for one instance and for three partitions', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(arbLog(80, true), (specs) => {
        const g = new Given();
        const model = emptyModel();
        const single = { views: new HostViews(), kv: new Map<string, string>() };
        const parts = [0, 1, 2].map((index) => ({ views: new HostViews(owner({ index, count: 3 })), kv: new Map<string, string>() }));

        for (const s of specs) {
          const change = applyEvent(model, emit(g, s));
          for (const inst of [single, ...parts]) applyOps(inst.kv, inst.views.apply(model, change).ops);
          expectSameKv(single.kv, deriveAll(model));
          for (const [k, v] of single.kv) {
            kinds.add(kindOfKey(k));
            // What the NAT and BGP input nodes add to port and domain values.
            for (const field of FIELDS) if (v.includes(`"${field}"`)) kinds.add(field);
          }
        }
        for (const inst of [single, ...parts]) expectSameKv(inst.views.snapshot(), inst.kv);

        // A fresh model from the whole log derives the same bucket content.
        expectSameKv(single.kv, deriveAll(replay(g.events)));
        const union = new Map<string, string>();
        for (const p of parts) for (const [k, v] of p.kv) union.set(k, v);
        expectSameKv(union, single.kv);
      }),
      { numRuns: 300 },
    );
    // Every family was exercised (and every key was one a family makes), and every input node's contribution.
    expect([...kinds].sort()).toEqual([...Object.keys(FAMILIES), ...FIELDS].sort());
  });

  it('a fresh rebuild (the start-up path) equals the incrementally kept views', () => {
    fc.assert(
      fc.property(arbLog(60), fc.integer({ min: 0, max: 70 }), (specs, cut) => {
        const g = new Given();
        const model = emptyModel();
        const live = new HostViews();
        specs.forEach((s, i) => {
          if (i === cut) live.rebuild(model); // start-up halfway through: rebuild, then go incremental
          const change = applyEvent(model, emit(g, s));
          if (i >= cut) live.apply(model, change);
        });
        const fresh = new HostViews();
        fresh.rebuild(replay(g.events));
        if (cut >= specs.length) live.rebuild(model);
        expectSameKv(live.snapshot(), fresh.snapshot());
      }),
      { numRuns: 300 },
    );
  });
});

describe('affectedHosts is minimal (property)', () => {
  it('a port created on host G never lists a host with no local port or gateway binding in the routing domain of its network or of a router peered with it', () => {
    fc.assert(
      fc.property(
        arbLog(60, true),
        pick(NETS),
        pick(HOSTS),
        (specs, networkId, hostId) => {
          const g = new Given();
          for (const s of specs) emit(g, s);
          const model = replay(g.events);
          const created = g.emit('ipam.PortCreated', { portId: 'fresh', name: 'fresh', mac: '02:00:00:00:00:ff', fixedIps: [], hostId, deviceId: 'vm' }, networkAggregate(networkId), 'ta');
          const affected = affectedHosts(model, applyEvent(model, created));
          const domainHosts = new Set<string>();
          // A host realises its routers' peers one hop away (inputs/peering.ts): their hosts need the port too.
          const domain = model.ipam.networks.has(networkId) ? domainOf(model.ipam, networkId) : undefined;
          for (const d of domain === undefined ? [] : [domain, ...peersOf(model.ipam, domain)]) {
            for (const n of domainNetworks(model.ipam, d)) {
              for (const h of hostsOnNetwork(model.ipam, n)) domainHosts.add(h);
              for (const h of model.ipam.networks.get(n)!.hostPorts.keys()) domainHosts.add(h);
            }
          }
          for (const h of affected) expect(h === hostId || domainHosts.has(h)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the incremental path is used: a port joining a network its host already realises recomputes two hosts key by key', () => {
    const g = new Given();
    g.host('h0', '198.18.0.1');
    g.host('h1', '198.18.0.2');
    g.host('h2', '198.18.0.3');
    g.network('n0', 'ta', 100);
    g.port('n0', 'p0', 'h0', '02:00:00:00:00:01', [], 'ta');
    g.port('n0', 'p1', 'h1', '02:00:00:00:00:02', [], 'ta');
    const model = replay(g.events);
    const views = new HostViews();
    views.rebuild(model);
    const update = views.apply(model, applyEvent(model, g.port('n0', 'p2', 'h1', '02:00:00:00:00:03', [], 'ta')));
    expect(update).toMatchObject({ hostsRecomputed: 2, fullRecomputes: 0 });
    expect(update.ops.map((o) => `${o.op} ${o.key}`).sort()).toEqual(['put h0.ep.p2', 'put h1.port.p2']);
  });
});

/** The hosts realising a chain whose classifiers name the group. */
const hostsClassifyingBy = (model: Model, groupId: string): string[] =>
  [...chainsNamingGroup(model.chaining, groupId)].flatMap((c) => [...hostsOfDomain(model.ipam, model.chaining.chains.get(c)!.routerId)]);

describe('security-group changes touch only what they must (property)', () => {
  /** A model and views after a generated log, ready for one more event. */
  const setup = (specs: Spec[]) => {
    const g = new Given();
    for (const s of specs) emit(g, s);
    const model = replay(g.events);
    const views = new HostViews();
    views.rebuild(model);
    return { g, model, views };
  };

  it("a port's membership change: its own host (port, sg, member keys), and on each host naming a changed group only that one member key", () => {
    fc.assert(
      fc.property(arbLog(60), arbSetGroups, (specs, set) => {
        const { g, model, views } = setup(specs);
        const portId = (set.data as { portId: string }).portId;
        const before = new Set(groupIdsOf(model.secgroup, portId));
        const home = model.ipam.ports.get(portId)?.hostId ?? null;
        const change = applyEvent(model, emit(g, set));
        const after = new Set(groupIdsOf(model.secgroup, portId));
        const changed = [...new Set([...before, ...after])].filter((r) => before.has(r) !== after.has(r));
        // Hosts whose rules name a changed group, or that realise a chain classifying by it.
        const referencing = new Set(changed.flatMap((r) => [...hostsReferencing(model.secgroup, r), ...hostsClassifyingBy(model, r)]));
        for (const h of affectedHosts(model, change)) expect(h === home || referencing.has(h)).toBe(true);

        const ops = views.apply(model, change).ops;
        for (const op of ops) {
          const k = parseKey(op.key)!;
          if (k.hostId === home) {
            expect(['port', 'sg', 'member']).toContain(k.kind);
          } else {
            expect(k.kind).toBe('member');
            expect(k.portId).toBe(portId);
            expect(changed).toContain(k.id);
          }
        }
        // Exactly one write per (remote host, changed group of an existing port and group).
        const expected = new Set<string>();
        if (model.ipam.ports.has(portId)) {
          for (const r of changed) {
            if (!model.secgroup.groups.has(r)) continue;
            for (const h of new Set([...hostsReferencing(model.secgroup, r), ...hostsClassifyingBy(model, r)])) if (h !== home && model.ipam.hypervisors.has(h)) expected.add(`${after.has(r) ? 'put' : 'delete'} ${h}.member.${r}.${portId}`);
          }
        }
        const remote = ops.filter((o) => parseKey(o.key)!.hostId !== home).map((o) => `${o.op} ${o.key}`);
        expect(remote.sort()).toEqual([...expected].sort());
        expect(new Set(remote).size).toBe(remote.length);
      }),
      { numRuns: 300 },
    );
  });

  it("a rule added or removed in group g: only hosts with local members of g, only g's sg key and the member keys of the rule's remote group", () => {
    const arbRuleChange = fc.oneof(
      fc.record({ g: pick(GROUPS), r: arbRule }).map(({ g, r }) =>
        spec({ type: 'secgroup.RuleAdded', data: { groupId: g, rule: r }, aggregate: securityGroupAggregate(g), tenant: 'ta' }),
      ),
      fc.record({ g: pick(GROUPS), r: pick(RULES) }).map(({ g, r }) =>
        spec({ type: 'secgroup.RuleRemoved', data: { groupId: g, ruleId: r }, aggregate: securityGroupAggregate(g), tenant: 'ta' }),
      ),
    );
    fc.assert(
      fc.property(arbLog(60), arbRuleChange, (specs, ruleChange) => {
        const { g, model, views } = setup(specs);
        const { groupId } = ruleChange.data as { groupId: string };
        const ruleId = ruleChange.type === 'secgroup.RuleAdded' ? (ruleChange.data as { rule: { id: string } }).rule.id : (ruleChange.data as { ruleId: string }).ruleId;
        const remotes = new Set<string | null>([model.secgroup.groups.get(groupId)?.rules.get(ruleId)?.remoteGroupId ?? null]);
        const change = applyEvent(model, emit(g, ruleChange));
        remotes.add(model.secgroup.groups.get(groupId)?.rules.get(ruleId)?.remoteGroupId ?? null);
        const members = new Set(hostsWithMembers(model.secgroup, groupId));
        for (const h of affectedHosts(model, change)) expect(members.has(h)).toBe(true);
        for (const op of views.apply(model, change).ops) {
          const k = parseKey(op.key)!;
          expect(members.has(k.hostId)).toBe(true);
          if (k.kind === 'sg') expect(k.id).toBe(groupId);
          else {
            expect(k.kind).toBe('member');
            expect(remotes.has(k.id)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a port deleted: elsewhere than its own host, only that port's member keys change", () => {
    fc.assert(
      fc.property(arbLog(60), pick(NETS), pick(PORTS), (specs, networkId, portId) => {
        const { g, model, views } = setup(specs);
        const home = model.ipam.ports.get(portId)?.hostId ?? null;
        const change = applyEvent(model, g.deletePort(networkId, portId, 'ta'));
        for (const op of views.apply(model, change).ops) {
          const k = parseKey(op.key)!;
          if (k.hostId === home) continue; // it may lose groups, and with them remote groups' members
          if (k.kind === 'member') expect(k.portId).toBe(portId);
          expect(k.kind).not.toBe('sg');
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * The audit path (app/host-at.ts) against the live engine: a host's view
 * rebuilt at S — from the empty model or from an audit snapshot at or
 * before S, replaying the log — equals the view the live incremental engine
 * had after applying the event at S; and with fromSeq F, the view at F plus
 * the recorded changes, applied in order, gives the view at S, each change
 * naming exactly an event at which the live view of that host changed, with
 * exactly the keys that changed. The log interleaves events of other
 * contexts (not the model's), which only move the position.
 */
describe('host at a position equals the live engine at that position (property)', () => {
  it('with and without an audit snapshot in between, for a position and for an interval', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbLog(50),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
        pick(HOSTS),
        fc.integer({ min: 2, max: 5 }),
        async (specs, toPick, fromPick, snapPick, hostId, foreignEvery) => {
          const g = new Given();
          const model = emptyModel();
          const live = new HostViews();
          live.rebuild(model);
          const stored: StoredEvent[] = [];
          const events = new Map<number, ModelEvent>();
          /** The live keys of the host after each position (parsed values). */
          const liveAt: Record<string, unknown>[] = [{}];
          const audit = inMemoryAuditStore();
          const snapshots = new AuditSnapshots(audit, silentLogger);
          const total = specs.length + Math.floor(specs.length / foreignEvery);
          const snapAt = snapPick === undefined ? undefined : (snapPick % total) + 1;
          const keysNow = (): Record<string, unknown> => Object.fromEntries([...live.keysOf(hostId)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, JSON.parse(v) as unknown]));
          const record = (seq: number, type: string): void => {
            stored.push({ seq, id: `e${seq}`, type, storedAt: new Date(seq * 1000).toISOString(), occurredAt: new Date(seq * 1000).toISOString(), actor: 'tester', correlationId: `c${seq}`, causationId: null } as unknown as StoredEvent);
            liveAt[seq] = keysNow();
            if (seq === snapAt) void snapshots.save(model);
          };
          let seq = 0;
          specs.forEach((s, i) => {
            if (i % foreignEvery === foreignEvery - 1) {
              seq += 1;
              model.seq = seq;
              record(seq, 'other.Thing');
            }
            const e = emit(g, s);
            e.seq = ++seq;
            events.set(seq, e);
            live.apply(model, applyEvent(model, e));
            record(seq, e.type);
          });
          const last = seq;
          const store = {
            lastSeq: () => Promise.resolve(last),
            read: async function* ({ fromSeq = 1, toSeq = last }: { fromSeq?: number; toSeq?: number } = {}) {
              for (const e of stored) if (e.seq >= fromSeq && e.seq <= toSeq) yield await Promise.resolve(e);
            },
          };
          const decode = (e: StoredEvent): ModelEvent | undefined => events.get(e.seq);
          const toSeq = (toPick % last) + 1;
          for (const snaps of [undefined, snapshots]) {
            const at = await hostAt({ hostId, toSeq }, { store, decode, snapshots: snaps, maxReplay: 10_000, yieldEvery: 7 });
            expect(at.view).toEqual(liveAt[toSeq]);
            expect(at.snapshotSeq).toBe(snaps && snapAt !== undefined && snapAt <= toSeq ? snapAt : 0);
            expect(at.replayed).toBe(toSeq - at.snapshotSeq);
            if (toSeq < 2) continue;
            const fromSeq = fromPick % toSeq;
            const between = await hostAt({ hostId, toSeq, fromSeq }, { store, decode, snapshots: snaps, maxReplay: 10_000 });
            expect(between.view).toEqual(liveAt[toSeq]);
            expect(between.from!.view).toEqual(liveAt[fromSeq]);
            const view: Record<string, unknown> = { ...between.from!.view };
            const changed = new Map(between.from!.changes.map((c) => [c.event.seq, c]));
            for (let s = fromSeq + 1; s <= toSeq; s++) {
              const c = changed.get(s);
              const before = liveAt[s - 1]!;
              const after = liveAt[s]!;
              const diff = Object.fromEntries(
                [...new Set([...Object.keys(before), ...Object.keys(after)])]
                  .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
                  .sort()
                  .map((k) => [k, after[k] ?? null]),
              );
              expect(c ? Object.fromEntries(Object.entries(c.keys).sort(([a], [b]) => (a < b ? -1 : 1))) : {}).toEqual(diff);
              if (c) expect(c.event).toMatchObject({ seq: s, eventId: `e${s}`, actor: 'tester' });
              for (const [k, v] of Object.entries(c?.keys ?? {})) {
                if (v === null) delete view[k];
                else view[k] = v;
              }
            }
            expect(view).toEqual(between.view);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a model snapshot round-trips: the model from an audit snapshot equals the one saved, Maps, Sets and their order included', async () => {
    await fc.assert(
      fc.asyncProperty(arbLog(60), async (specs) => {
        const g = new Given();
        const model = emptyModel();
        for (const s of specs) applyEvent(model, emit(g, s));
        const snapshots = new AuditSnapshots(inMemoryAuditStore(), silentLogger);
        await snapshots.save(model);
        const back = await snapshots.nearest(model.seq);
        expect(back!.seq).toBe(model.seq);
        expect(back!.model).toEqual(model);
        const order = (m: Model): string[] => [...m.ipam.ports.keys(), ...m.ipam.hostPorts.keys(), ...m.secgroup.groups.keys()];
        expect(order(back!.model)).toEqual(order(model));
      }),
      { numRuns: 100 },
    );
  });
});
