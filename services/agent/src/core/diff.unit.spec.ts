import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatewayMac, type HostNetwork, type SecurityGroupRule, type LocalPort, type RemoteEndpoint } from '@strata/contracts';
import { sgRule } from '../testkit/cloud.js';
import { desiredState } from '../dataplane/managers.js';
import { diff } from './diff.js';
import { applyPlanToState } from './model.js';
import type { HostViewSnapshot } from './snapshot.js';
import { PHASES, planSize, type ActualState, type KernelState, type Plan } from './types.js';

const OPTS = { nsPrefix: 'p-' };
const empty = (devices: string[] = []): ActualState => ({ namespaces: {}, links: {}, plugs: {}, addrs: {}, fdb: {}, neighs: {}, routes: {}, rules: {}, nft: { tables: {} }, nsNft: {}, hostSysctls: {}, devices });

/** The kernel after converging to `view` from nothing, with these foreign devices present. */
function converged(view: HostViewSnapshot, devices: string[]): ActualState {
  const start = empty(devices);
  return applyPlanToState(start, diff(desiredState(view, OPTS).kernel, start));
}

const ops = (p: Plan): string[] => p.batches.flatMap((b) => b.ops.map((o) => o.op));

function net(id: string, vni: number, domainId: string, over: Partial<HostNetwork> = {}): HostNetwork {
  return {
    id,
    tenant: 't',
    vni,
    mtu: 1450,
    domainId,
    gatewayMac: gatewayMac(vni),
    floodVteps: ['198.18.0.12'],
    subnets: [{ id: `${id}-s`, ipVersion: 4, cidr: `10.${vni % 256}.0.0/24`, gatewayIp: `10.${vni % 256}.0.1`, enableDhcp: true }],
    ...over,
  };
}

const baseView = (): HostViewSnapshot => ({
  host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.1' },
  networks: { n1: net('n1', 100, 'r1') },
  // No security groups, no anti-spoofing: these tests are about links, FDB and neighbours (nft: secgroups.unit.spec.ts).
  ports: { p1: { id: 'p1', tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:01', device: 'tap1', fixedIps: [{ subnetId: 'n1-s', ip: '10.100.0.5' }], groupIds: [], portSecurity: false } },
  endpoints: { e1: { id: 'e1', networkId: 'n1', mac: '02:00:00:00:00:02', ips: ['10.100.0.6'], vtep: '198.18.0.12' } },
  domains: { r1: { id: 'r1', tenant: 't', kind: 'router', networkIds: ['n1'] } },
  groups: {},
  members: {},
  chains: {},
  l2gateways: {},
});

describe('diff', () => {
  it('given the kernel already in the desired state, then the plan is empty', () => {
    const v = baseView();
    expect(diff(desiredState(v, OPTS).kernel, converged(v, ['tap1']))).toEqual({ batches: [] });
  });

  it('given an empty kernel, then it adds everything in dependency order and removes nothing', () => {
    const plan = diff(desiredState(baseView(), OPTS).kernel, empty(['tap1']));
    expect(plan.batches.map((b) => b.phase)).toEqual(['namespaces', 'sysctls', 'links', 'plugs', 'addrs', 'fdb', 'neighs']);
    const links = plan.batches.find((b) => b.phase === 'links')!.ops;
    expect(links.map((o) => (o.op === 'link-add' ? o.link.name : ''))).toEqual(['sbr100', 'svx100', 'sgw100']);
    expect(ops(plan).filter((o) => o.endsWith('-del'))).toEqual([]);
  });

  it('given an absent port device, then the port is not plugged (and nothing else fails)', () => {
    const plan = diff(desiredState(baseView(), OPTS).kernel, empty([]));
    expect(ops(plan)).not.toContain('plug');
    expect(() => applyPlanToState(empty([]), plan)).not.toThrow();
  });

  it('given an empty view, then removals come in reverse order and cascades are not removed twice', () => {
    const plan = diff(desiredState({ networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {}, l2gateways: {} }, OPTS).kernel, converged(baseView(), ['tap1']));
    // Everything lives on links that are deleted: only links and the namespace are removed explicitly.
    expect(plan.batches.map((b) => b.phase)).toEqual(['link-removals', 'namespace-removals']);
    expect(plan.batches[0]!.ops).toEqual([
      { op: 'link-del', ns: '', name: 'sgw100' },
      { op: 'link-del', ns: '', name: 'svx100' },
      { op: 'link-del', ns: '', name: 'sbr100' },
    ]);
    expect(plan.batches[1]!.ops).toEqual([{ op: 'ns-del', ns: expect.stringMatching(/^p-d[0-9a-f]{12}$/) }]);
  });

  it('given one endpoint gone, then exactly its entries are removed, neighbours before FDB', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    delete v.endpoints.e1;
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches.map((b) => b.phase)).toEqual(['neigh-removals', 'fdb-removals']);
    expect(ops(plan)).toEqual(['neigh-del', 'neigh-del', 'fdb-del', 'fdb-del']);
  });

  it('given a new local VTEP address, then the vxlan is replaced and its FDB entries are added again', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    v.host!.vtepIp = '198.18.0.21';
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches[0]).toEqual({ phase: 'replace', ops: [{ op: 'link-del', ns: '', name: 'svx100' }] });
    expect(ops(plan).filter((o) => o === 'fdb-add')).toHaveLength(3);
    expect(diff(desiredState(v, OPTS).kernel, applyPlanToState(before, plan))).toEqual({ batches: [] });
  });

  it('given a network moving to another routing domain, then its gateway veth is recreated in the new namespace', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    v.networks.n1!.domainId = 'r2';
    v.domains = { r2: { id: 'r2', tenant: 't', kind: 'router', networkIds: ['n1'] } };
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches.map((b) => b.phase)).toEqual(['namespaces', 'sysctls', 'replace', 'links', 'addrs', 'fdb', 'neighs', 'namespace-removals']);
    expect(diff(desiredState(v, OPTS).kernel, applyPlanToState(before, plan))).toEqual({ batches: [] });
  });

  it('given a changed MTU, then links and plugs are set in place', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    v.networks.n1!.mtu = 1400;
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches.map((b) => b.phase)).toEqual(['link-attrs', 'plugs']);
    expect(planSize(plan)).toBe(5);
  });

  it('given a tap plugged into a Strata bridge but no longer wanted, then it is unplugged, never deleted', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    delete v.ports.p1;
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(ops(plan)).toContain('unplug');
    expect(ops(plan).filter((o) => o === 'link-del')).toEqual([]);
  });

  it('given a link drifted off its bridge, then it is re-enslaved with its flags, brought up again, and its bridge entries restored', () => {
    const v = baseView();
    const before = converged(v, ['tap1']);
    // What `ip link set svx100 nomaster` does: the bridge forgets the port and its entries.
    before.links.svx100!.master = null;
    before.links.svx100!.brport = null;
    delete before.fdb['bridge|sbr100|02:00:00:00:00:02'];
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches).toEqual([
      { phase: 'link-attrs', ops: [{ op: 'link-set', ns: '', name: 'svx100', set: { master: 'sbr100', brport: { learning: false, neighSuppress: true }, up: true } }] },
      { phase: 'fdb', ops: [{ op: 'fdb-add', entry: { kind: 'bridge', master: 'sbr100', mac: '02:00:00:00:00:02', dev: 'svx100' } }] },
    ]);
  });
});

// ---- property: for random views A and B, the plan from A to B turns A into B, exactly ----

const MACS = ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', '02:00:00:00:00:04'];
const GROUPS = ['g1', 'g2', 'g3'];
const RULES: (SecurityGroupRule & { group: string })[] = [
  { ...sgRule('r1', 'ingress', { protocol: 'tcp', portMin: 443, portMax: 443 }), group: 'g1' },
  { ...sgRule('r2', 'ingress', { protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: 'g2' }), group: 'g1' },
  { ...sgRule('r3', 'egress', { remoteGroupId: 'g3' }), group: 'g1' },
  { ...sgRule('r4', 'ingress', { protocol: 'icmp', icmpType: 8, remoteCidr: '10.0.0.0/24' }), group: 'g2' },
  { ...sgRule('r5', 'egress', { ethertype: 'IPv6', remoteGroupId: 'g1' }), group: 'g2' },
  { ...sgRule('r6', 'ingress', { protocol: 'udp', portMin: 1000, portMax: 2000, remoteGroupId: 'g3' }), group: 'g3' },
  { ...sgRule('r7', 'egress', {}), group: 'g3' },
];
const VTEPS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];

const arbView: fc.Arbitrary<HostViewSnapshot> = fc
  .record({
    hasHost: fc.boolean(),
    local: fc.constantFrom('198.18.0.11', '198.18.0.21'),
    nets: fc.uniqueArray(
      fc.record({
        vni: fc.constantFrom(100, 101, 102),
        mtu: fc.constantFrom(1450, 1400),
        domain: fc.constantFrom('r1', 'r2', 'lone'),
        gateway: fc.boolean(),
        v6: fc.boolean(),
        routed: fc.boolean(),
        flood: fc.subarray(VTEPS),
      }),
      { selector: (n) => n.vni, maxLength: 3 },
    ),
    ports: fc.array(
      fc.record({
        net: fc.nat(2),
        mac: fc.constantFrom(...MACS),
        host: fc.integer({ min: 11, max: 13 }),
        ip: fc.integer({ min: 2, max: 6 }),
        groups: fc.subarray(GROUPS),
        portSecurity: fc.boolean(),
        // NAT: a floating IP from a small pool (shared between A and B), or none.
        fip: fc.option(fc.constantFrom('203.0.113.10', '203.0.113.11', '203.0.113.12'), { nil: undefined }),
        // BGP: an appliance's accepted prefix, from a small pool.
        announce: fc.option(fc.constantFrom('198.51.100.8/32', '198.51.100.16/30'), { nil: undefined }),
      }),
      { maxLength: 6 },
    ),
    gateways: fc.subarray(['r1', 'r2', 'lone']),
    publicIp: fc.constantFrom('203.0.113.1', '203.0.113.2'),
    kinds: fc.record({ r1: fc.constantFrom('router' as const, 'network' as const), r2: fc.constantFrom('router' as const, 'network' as const) }),
    // Which groups the view has rules for, and which rules (from a small pool, so A and B share some).
    groups: fc.subarray(GROUPS),
    rules: fc.subarray(RULES),
    // Service chains on the routers, their members among the ports (steering tables, policy rules and routing tables).
    chains: fc.array(
      fc.record({
        domain: fc.constantFrom('r1', 'r2'),
        selection: fc.constantFrom('flow-hash' as const, 'active-standby' as const),
        fallback: fc.constantFrom('fail-closed' as const, 'fail-open' as const),
        members: fc.subarray([0, 1, 2, 3, 4, 5], { minLength: 1, maxLength: 3 }),
        unhealthy: fc.subarray([0, 1, 2, 3, 4, 5]),
        source: fc.constantFrom('g1', 'g2', null),
        symmetric: fc.boolean(),
        // IPv4, IPv6 or both: an IPv6 classifier's rules and tables (`ip -6`), sharing marks with the IPv4 ones.
        families: fc.constantFrom(['IPv4' as const], ['IPv6' as const], ['IPv4' as const, 'IPv6' as const]),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ hasHost, local, nets, ports, kinds, groups, rules, gateways, publicIp, chains }) => {
    const view: HostViewSnapshot = { networks: {}, ports: {}, endpoints: {}, domains: {}, groups: {}, members: {}, chains: {}, l2gateways: {} };
    for (const g of groups) view.groups[g] = { id: g, tenant: 't', rules: rules.filter((r) => r.group === g).map(({ group: _g, ...r }) => r) };
    if (hasHost) view.host = { id: 'hv', vtepIp: local, publicIp };
    for (const n of nets) {
      const id = `n${n.vni}`;
      const domainId = n.domain === 'lone' ? id : n.domain;
      view.networks[id] = net(id, n.vni, domainId, {
        ...(n.routed ? { routed: true } : {}),
        mtu: n.mtu,
        floodVteps: n.flood,
        subnets: [
          { id: `${id}-4`, ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: n.gateway ? '10.0.0.1' : null, enableDhcp: true },
          ...(n.v6 ? [{ id: `${id}-6`, ipVersion: 6 as const, cidr: `fd00:${n.vni}::/64`, gatewayIp: `fd00:${n.vni}::1`, enableDhcp: false }] : []),
        ],
      });
      const kind = n.domain === 'lone' ? 'network' : kinds[n.domain as 'r1' | 'r2'];
      view.domains[domainId] ??= { id: domainId, tenant: 't', kind, networkIds: [], ...(gateways.includes(n.domain) ? { externalGateway: true } : {}) };
      view.domains[domainId].networkIds.push(id);
    }
    const netIds = Object.keys(view.networks);
    ports.forEach((p, i) => {
      const networkId = netIds[p.net % Math.max(1, netIds.length)];
      if (networkId === undefined) return;
      const id = `port${i}`;
      const ip = `10.0.0.${p.ip}`;
      // Every port (local or not) is a member of its groups: member keys for the referenced ones.
      for (const g of p.groups) view.members[`${g}.${id}`] = { groupId: g, portId: id, ips: [ip, `fd00::${p.ip}`] };
      if (p.host === 11) {
        const lp: LocalPort = {
          id,
          tenant: 't',
          networkId,
          mac: p.mac,
          device: `tap${i}`,
          fixedIps: [{ subnetId: `${networkId}-4`, ip }],
          groupIds: p.groups,
          portSecurity: p.portSecurity,
          ...(p.fip ? { floatingIps: [{ address: p.fip, fixedIp: ip }] } : {}),
          ...(p.announce ? { announcedRoutes: [{ prefix: p.announce, nextHop: ip }] } : {}),
        };
        view.ports[id] = lp;
      } else {
        const ep: RemoteEndpoint = { id, networkId, mac: p.mac, ips: [ip, `fd00:${networkId.slice(1)}::${p.ip}`], vtep: `198.18.0.${p.host}` };
        view.endpoints[id] = ep;
      }
    });
    chains.forEach((c, i) => {
      const members = c.members.flatMap((k) => {
        const p = ports[k];
        const networkId = netIds[(p?.net ?? 0) % Math.max(1, netIds.length)];
        if (!p || networkId === undefined) return [];
        const leg = { portId: `port${k}`, networkId, mac: p.mac, ips: [`10.0.0.${p.ip}`, `fd00:${networkId.slice(1)}::${p.ip}`] };
        return [{ functionId: `f${k}`, ingress: leg, egress: leg, healthy: !c.unhealthy.includes(k), healthCheck: null, virtualIp: null }];
      });
      const classifiers = c.families.map((ethertype) => ({
        id: `cl${i}${ethertype}`,
        ethertype,
        protocol: 'tcp' as const,
        source: { groupId: c.source, cidr: null },
        destination: { groupId: null, cidr: ethertype === 'IPv4' ? '10.0.0.0/24' : 'fd00::/16' },
        sourcePorts: null,
        destinationPorts: { min: 9000, max: 9000 },
      }));
      const hop = { groupId: `fg${i}`, mode: 'l3' as const, selection: c.selection, fallback: c.fallback, members, activeFunctionId: c.selection === 'active-standby' ? (members[0]?.functionId ?? null) : null };
      // On the router of the first member's network when there is one (else the members are never usable).
      const domainId = members[0] ? view.networks[members[0].ingress.networkId]!.domainId : c.domain;
      view.chains[`c${i}`] = { id: `c${i}`, tenant: 't', domainId, symmetric: c.symmetric, classifiers, hops: [hop] };
    });
    return view;
  });

const arbDevices = fc.subarray(['tap0', 'tap1', 'tap2', 'tap3', 'tap4', 'tap5', 'eth0']);

/** What B looks like on a kernel where only `devices` exist: ports whose device is missing stay unplugged. */
function expected(b: KernelState, devices: string[]): KernelState {
  return { ...b, plugs: Object.fromEntries(Object.entries(b.plugs).filter(([d]) => devices.includes(d))) };
}

describe('diff (property)', () => {
  it('applying diff(desired(B), A) to A yields B, exactly (no add of what exists, no removal of what is gone)', () => {
    fc.assert(
      fc.property(arbView, arbView, arbDevices, (a, b, devices) => {
        const actualA = converged(a, devices);
        expect(diff(desiredState(a, OPTS).kernel, actualA)).toEqual({ batches: [] });
        const want = desiredState(b, OPTS).kernel;
        const plan = diff(want, actualA);
        // applyPlanToState throws InexactPlanError on any inexact operation.
        const after = applyPlanToState(actualA, plan);
        expect(diff(want, after)).toEqual({ batches: [] });
        const exp = expected(want, devices);
        for (const field of ['namespaces', 'plugs', 'addrs', 'fdb', 'neighs', 'routes', 'rules', 'nft', 'nsNft'] as const) expect(after[field]).toEqual(exp[field]);
        for (const [k, v] of Object.entries(want.hostSysctls)) expect(after.hostSysctls[k]).toBe(v);
        // nftables of the managed namespace: at most one operation (one atomic transaction), in the first batch.
        const nftOps = plan.batches.flatMap((x, i) => x.ops.filter((o) => o.op === 'nft' && o.ns === undefined).map(() => i));
        expect(nftOps.length <= 1 && nftOps.every((i) => i === 0)).toBe(true);
        expect(Object.keys(after.links).sort()).toEqual(Object.keys(exp.links).sort());
        // Phases appear in the declared order.
        const order = plan.batches.map((x) => PHASES.indexOf(x.phase));
        expect(order).toEqual([...order].sort((x, y) => x - y));
      }),
      { numRuns: 400 },
    );
  });

  it('(the generators reach every kind of nft command except map deletion: Strata\'s maps live as long as their table; and the steering objects)', () => {
    const nftSeen = new Set<string>();
    for (const [a, b, devices] of fc.sample(fc.tuple(arbView, arbView, arbDevices), { numRuns: 1000, seed: 7 })) {
      const plan = diff(desiredState(b, OPTS).kernel, converged(a, devices));
      for (const o of plan.batches.flatMap((x) => x.ops)) {
        if (o.op === 'nft') for (const c of o.commands) nftSeen.add(c.cmd);
        // Service chaining's objects are reached too: policy rules and routes in their tables, both ways.
        if (o.op === 'rule-add' || o.op === 'rule-del') nftSeen.add(o.op);
        if ((o.op === 'route-replace' || o.op === 'route-del') && o.entry.table !== undefined) nftSeen.add(`${o.op}-table`);
        if (o.op === 'nft' && o.ns !== undefined && o.commands.some((c) => c.family === 'inet')) nftSeen.add('domain-inet');
      }
    }
    expect([...nftSeen].sort()).toEqual(
      ['add-chain', 'add-counter', 'add-element', 'add-map', 'add-map-element', 'add-rule', 'add-set', 'add-table', 'delete-chain', 'delete-counter', 'delete-element', 'delete-map-element', 'delete-set', 'delete-table', 'flush-chain', 'rule-add', 'rule-del', 'route-replace-table', 'route-del-table', 'domain-inet'].sort(),
    );
  });

  it('a plan cut anywhere (a crash mid-apply) is finished exactly by the next diff', () => {
    fc.assert(
      fc.property(arbView, arbView, arbDevices, fc.double({ min: 0, max: 1, noNaN: true }), (a, b, devices, cutAt) => {
        const actualA = converged(a, devices);
        const want = desiredState(b, OPTS).kernel;
        const plan = diff(want, actualA);
        const flat = plan.batches.flatMap((x) => x.ops.map((op) => ({ phase: x.phase, op })));
        const cut = flat.slice(0, Math.floor(flat.length * cutAt));
        const half = applyPlanToState(actualA, { batches: cut.map(({ phase, op }) => ({ phase, ops: [op] })) });
        const rest = diff(want, half);
        const done = applyPlanToState(half, rest);
        expect(diff(want, done)).toEqual({ batches: [] });
      }),
      { numRuns: 300 },
    );
  });
});
