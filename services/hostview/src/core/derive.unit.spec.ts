/**
 * Golden derivations. Three hypervisors; tenant-a has two networks joined by
 * a router, tenant-b has a network with the same 10.0.0.0/24 as one of
 * tenant-a's. Given these events, then exactly these keys and values.
 */
import { describe, expect, it } from 'vitest';
import { bgpRouteAggregate, GroupMember, HostInfo, HostNetwork, HostSecurityGroup, LocalPort, networkAggregate, RemoteEndpoint, RoutingDomain, gatewayMac } from '@strata/contracts';
import { parseHostviewKey as parseKey } from '@strata/contracts';
import { affectedHosts, deriveHost } from './derive.js';
import { applyOps, orderForAgents, type KvOp } from './diff.js';
import { canonicalJson } from './json.js';
import { applyEvent } from './model.js';
import { HostViews } from './views.js';
import { deriveAll, Given, plain, replay } from './test/given.js';

const A = 'tenant-a';
const B = 'tenant-b';

/** The scenario every test starts from. */
function world(): Given {
  const g = new Given();
  g.host('hv-1', '198.18.0.1', '203.0.113.11');
  g.host('hv-2', '198.18.0.2', '203.0.113.12');
  g.host('hv-3', '198.18.0.3', '203.0.113.13');
  g.network('net-a1', A, 100);
  g.subnet('net-a1', 'sub-a1', '10.0.0.0/24', '10.0.0.1', A);
  g.network('net-a2', A, 101, 9000);
  g.subnet('net-a2', 'sub-a2', '10.0.1.0/24', '10.0.1.1', A, false);
  g.router('rtr-a', A);
  g.addInterface('rtr-a', 'sub-a1', 'net-a1', A);
  g.addInterface('rtr-a', 'sub-a2', 'net-a2', A);
  g.network('net-b', B, 200);
  g.subnet('net-b', 'sub-b', '10.0.0.0/24', '10.0.0.1', B);
  g.port('net-a1', 'pa1', 'hv-1', '02:00:00:00:0a:01', [{ subnetId: 'sub-a1', ip: '10.0.0.10' }], A);
  g.port('net-a2', 'pa2', 'hv-2', '02:00:00:00:0a:02', [{ subnetId: 'sub-a2', ip: '10.0.1.10' }], A);
  // Same address as pa1, other tenant: both live on hv-1, isolated by their domains.
  g.port('net-b', 'pb1', 'hv-1', '02:00:00:00:0b:01', [{ subnetId: 'sub-b', ip: '10.0.0.10' }], B);
  g.port('net-b', 'pb2', 'hv-3', '02:00:00:00:0b:02', [{ subnetId: 'sub-b', ip: '10.0.0.11' }], B);
  return g;
}

const netA1 = (floodVteps: string[]) => ({
  id: 'net-a1',
  tenant: A,
  vni: 100,
  mtu: 1450,
  subnets: [{ id: 'sub-a1', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true }],
  domainId: 'rtr-a',
  gatewayMac: '02:53:47:00:00:64',
  floodVteps,
});
const netA2 = (floodVteps: string[]) => ({
  id: 'net-a2',
  tenant: A,
  vni: 101,
  mtu: 9000,
  subnets: [{ id: 'sub-a2', ipVersion: 4, cidr: '10.0.1.0/24', gatewayIp: '10.0.1.1', enableDhcp: false }],
  domainId: 'rtr-a',
  gatewayMac: '02:53:47:00:00:65',
  floodVteps,
});
const netB = (floodVteps: string[]) => ({
  id: 'net-b',
  tenant: B,
  vni: 200,
  mtu: 1450,
  subnets: [{ id: 'sub-b', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true }],
  domainId: 'net-b',
  gatewayMac: '02:53:47:00:00:c8',
  floodVteps,
});
const domainA = { id: 'rtr-a', tenant: A, kind: 'router', networkIds: ['net-a1', 'net-a2'] };
const domainB = { id: 'net-b', tenant: B, kind: 'network', networkIds: ['net-b'] };
const ep = (id: string, networkId: string, mac: string, ip: string, vtep: string) => ({ id, networkId, mac, ips: [ip], vtep });
const localPort = (id: string, tenant: string, networkId: string, mac: string, subnetId: string, ip: string) => ({
  id,
  tenant,
  networkId,
  mac,
  fixedIps: [{ subnetId, ip }],
  device: `tap${id}`,
  groupIds: null, // no secgroup events in these views: groups not decided yet
  portSecurity: true,
});

const pa1 = localPort('pa1', A, 'net-a1', '02:00:00:00:0a:01', 'sub-a1', '10.0.0.10');
const pa2 = localPort('pa2', A, 'net-a2', '02:00:00:00:0a:02', 'sub-a2', '10.0.1.10');
const pb1 = localPort('pb1', B, 'net-b', '02:00:00:00:0b:01', 'sub-b', '10.0.0.10');
const pb2 = localPort('pb2', B, 'net-b', '02:00:00:00:0b:02', 'sub-b', '10.0.0.11');

describe('deriveHost: golden views', () => {
  it('hv-1 realises both tenants: its router domain with both subnets, and the lone network of tenant-b', () => {
    const model = replay(world().events);
    expect(plain(deriveHost(model, 'hv-1'))).toEqual({
      'hv-1.host': { id: 'hv-1', vtepIp: '198.18.0.1', publicIp: '203.0.113.11' },
      'hv-1.port.pa1': pa1,
      'hv-1.port.pb1': pb1,
      'hv-1.net.net-a1': netA1([]),
      'hv-1.net.net-a2': netA2(['198.18.0.2']),
      'hv-1.net.net-b': netB(['198.18.0.3']),
      'hv-1.ep.pa2': ep('pa2', 'net-a2', '02:00:00:00:0a:02', '10.0.1.10', '198.18.0.2'),
      'hv-1.ep.pb2': ep('pb2', 'net-b', '02:00:00:00:0b:02', '10.0.0.11', '198.18.0.3'),
      'hv-1.domain.rtr-a': domainA,
      'hv-1.domain.net-b': domainB,
    });
  });

  it('hv-2 routes into net-a1 (same router) but floods net-a1 only to hosts with ports on it; it knows nothing of tenant-b', () => {
    const model = replay(world().events);
    expect(plain(deriveHost(model, 'hv-2'))).toEqual({
      'hv-2.host': { id: 'hv-2', vtepIp: '198.18.0.2', publicIp: '203.0.113.12' },
      'hv-2.port.pa2': pa2,
      'hv-2.net.net-a1': netA1(['198.18.0.1']),
      'hv-2.net.net-a2': netA2([]),
      'hv-2.ep.pa1': ep('pa1', 'net-a1', '02:00:00:00:0a:01', '10.0.0.10', '198.18.0.1'),
      'hv-2.domain.rtr-a': domainA,
    });
  });

  it('hv-3 holds only tenant-b', () => {
    const model = replay(world().events);
    expect(plain(deriveHost(model, 'hv-3'))).toEqual({
      'hv-3.host': { id: 'hv-3', vtepIp: '198.18.0.3', publicIp: '203.0.113.13' },
      'hv-3.port.pb2': pb2,
      'hv-3.net.net-b': netB(['198.18.0.1']),
      'hv-3.ep.pb1': ep('pb1', 'net-b', '02:00:00:00:0b:01', '10.0.0.10', '198.18.0.1'),
      'hv-3.domain.net-b': domainB,
    });
  });

  it('every value satisfies the published schema and is canonical JSON', () => {
    const all = deriveAll(replay(world().events));
    const schemas = { host: HostInfo, port: LocalPort, net: HostNetwork, ep: RemoteEndpoint, domain: RoutingDomain, sg: HostSecurityGroup, member: GroupMember };
    for (const [key, value] of all) {
      const kind = parseKey(key)!.kind;
      expect(() => schemas[kind].parse(JSON.parse(value))).not.toThrow();
      expect(canonicalJson(JSON.parse(value))).toBe(value);
      expect(Object.keys(JSON.parse(value) as object)).toEqual(Object.keys(JSON.parse(value) as object).sort());
    }
    expect(gatewayMac(100)).toBe('02:53:47:00:00:64');
  });

  it('names the device of a UUID port after its first 11 hex digits', () => {
    const g = world();
    g.port('net-b', '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b', 'hv-3', '02:00:00:00:0b:03', [], B);
    const view = plain(deriveHost(replay(g.events), 'hv-3'));
    expect((view['hv-3.port.3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b'] as { device: string }).device).toBe('tap3f2a9c1e5b7');
  });

  it('an unregistered host, and ports bound to it, produce nothing; an unbound port neither', () => {
    const g = world();
    g.port('net-b', 'ghost', 'hv-9', '02:00:00:00:0b:09', [{ subnetId: 'sub-b', ip: '10.0.0.99' }], B);
    g.port('net-b', 'loose', null, '02:00:00:00:0b:0a', [{ subnetId: 'sub-b', ip: '10.0.0.98' }], B);
    const model = replay(g.events);
    expect(deriveHost(model, 'hv-9').size).toBe(0);
    expect([...deriveAll(model).keys()].filter((k) => k.includes('ghost') || k.includes('loose'))).toEqual([]);
  });
});

/** Apply events one by one to incrementally kept views; return the KV writes of the last one. */
function run(g: Given, upTo: number): { views: HostViews; kv: Map<string, string>; model: ReturnType<typeof replay> } {
  const model = replay(g.events.slice(0, upTo));
  const views = new HostViews();
  views.rebuild(model);
  return { views, kv: views.snapshot(), model };
}

function step(ctx: ReturnType<typeof run>, event: Parameters<typeof applyEvent>[1]): KvOp[] {
  const change = applyEvent(ctx.model, event);
  const { ops } = ctx.views.apply(ctx.model, change);
  applyOps(ctx.kv, ops);
  return orderForAgents(ops);
}

const summary = (ops: KvOp[]): string[] => ops.map((o) => `${o.op} ${o.key}`);

describe('incremental updates: golden deltas', () => {
  it('a port moving hv-2 → hv-3: hv-2 drops the tenant-a domain, hv-3 gains it, hv-1 repoints the endpoint', () => {
    const g = world();
    const base = g.events.length;
    const move = g.bind('net-a2', 'pa2', 'hv-3', 'hv-2', A);
    const ctx = run(g, base);
    const ops = step(ctx, move);
    expect(summary(ops).sort()).toEqual(
      [
        'put hv-3.domain.rtr-a',
        'put hv-3.net.net-a1',
        'put hv-3.net.net-a2',
        'put hv-3.port.pa2',
        'put hv-3.ep.pa1',
        'put hv-1.net.net-a2',
        'put hv-1.ep.pa2',
        'delete hv-2.domain.rtr-a',
        'delete hv-2.net.net-a1',
        'delete hv-2.net.net-a2',
        'delete hv-2.port.pa2',
        'delete hv-2.ep.pa1',
      ].sort(),
    );
    // Containers before contents on the way in, after them on the way out.
    const order = summary(ops);
    expect(order.indexOf('put hv-3.net.net-a2')).toBeLessThan(order.indexOf('put hv-3.port.pa2'));
    expect(order.indexOf('delete hv-2.ep.pa1')).toBeLessThan(order.indexOf('delete hv-2.net.net-a1'));
    expect(JSON.parse(ctx.kv.get('hv-1.ep.pa2')!)).toMatchObject({ vtep: '198.18.0.3' });
    expect(JSON.parse(ctx.kv.get('hv-1.net.net-a2')!)).toMatchObject({ floodVteps: ['198.18.0.3'] });
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('a port deletion: its host loses the network and its endpoints, the peer loses the endpoint and its flood entry', () => {
    const g = world();
    const base = g.events.length;
    const del = g.deletePort('net-b', 'pb2', B);
    const ctx = run(g, base);
    expect(summary(step(ctx, del)).sort()).toEqual(
      ['put hv-1.net.net-b', 'delete hv-1.ep.pb2', 'delete hv-3.port.pb2', 'delete hv-3.net.net-b', 'delete hv-3.ep.pb1', 'delete hv-3.domain.net-b'].sort(),
    );
    expect(JSON.parse(ctx.kv.get('hv-1.net.net-b')!)).toMatchObject({ floodVteps: [] });
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('removing a router interface splits the domain: hosts stop routing into the other network', () => {
    const g = world();
    const base = g.events.length;
    const remove = g.removeInterface('rtr-a', 'sub-a2', 'net-a2', A);
    const ctx = run(g, base);
    step(ctx, remove);
    expect(plain(ctx.kv)['hv-1.domain.net-a1']).toBeUndefined();
    expect(plain(ctx.kv)['hv-1.domain.rtr-a']).toEqual({ ...domainA, networkIds: ['net-a1'] });
    expect(plain(ctx.kv)['hv-2.domain.net-a2']).toEqual({ id: 'net-a2', tenant: A, kind: 'network', networkIds: ['net-a2'] });
    expect([...ctx.kv.keys()].filter((k) => k.startsWith('hv-1.') && k.includes('a2'))).toEqual([]);
    expect(ctx.kv).toEqual(deriveAll(replay(g.events)));
  });

  it('writes nothing when a change leaves every value as it was', () => {
    const g = world();
    const base = g.events.length;
    const again = g.network('net-b', B, 200);
    const ctx = run(g, base);
    expect(step(ctx, again)).toEqual([]);
  });
});

describe('affectedHosts', () => {
  it('a port created on hv-3 in tenant-b lists hv-3 and hv-1 (which needs net-b), never hv-2', () => {
    const g = world();
    const base = g.events.length;
    const created = g.port('net-b', 'pb3', 'hv-3', '02:00:00:00:0b:03', [{ subnetId: 'sub-b', ip: '10.0.0.12' }], B);
    const model = replay(g.events.slice(0, base));
    expect([...affectedHosts(model, applyEvent(model, created))].sort()).toEqual(['hv-1', 'hv-3']);
  });

  it('a port created on a host that holds nothing else lists that host and the hosts of its domain only', () => {
    const g = world();
    g.host('hv-4', '198.18.0.4');
    const base = g.events.length;
    const created = g.port('net-a2', 'pa4', 'hv-4', '02:00:00:00:0a:04', [{ subnetId: 'sub-a2', ip: '10.0.1.14' }], A);
    const model = replay(g.events.slice(0, base));
    expect([...affectedHosts(model, applyEvent(model, created))].sort()).toEqual(['hv-1', 'hv-2', 'hv-4']);
  });

  it('hypervisor events and router changes list only the hosts that realise what changed', () => {
    const g = world();
    const base = g.events.length;
    const newHost = g.host('hv-5', '198.18.0.5');
    const router = g.router('rtr-b', B);
    const join = g.addInterface('rtr-b', 'sub-b', 'net-b', B);
    const model = replay(g.events.slice(0, base));
    expect([...affectedHosts(model, applyEvent(model, newHost))]).toEqual(['hv-5']);
    expect([...affectedHosts(model, applyEvent(model, router))]).toEqual([]);
    expect([...affectedHosts(model, applyEvent(model, join))].sort()).toEqual(['hv-1', 'hv-3']);
  });
});

describe('appliance routes go to the port of the tenant the gateway learned them from (issue 12, defect 2)', () => {
  it("a tenant-b port with the appliance's device id and exact address gets none of tenant-a's announced routes", () => {
    const g = world();
    // Same device id and same address in both tenants' overlapping subnets, both on hv-1.
    g.emit('ipam.PortCreated', { portId: 'fw-a', name: 'fw', mac: '02:00:00:00:0a:09', fixedIps: [{ subnetId: 'sub-a1', ip: '10.0.0.20' }], hostId: 'hv-1', deviceId: 'fw-2' }, networkAggregate('net-a1'), A);
    g.emit('ipam.PortCreated', { portId: 'fw-b', name: 'fw', mac: '02:00:00:00:0b:09', fixedIps: [{ subnetId: 'sub-b', ip: '10.0.0.20' }], hostId: 'hv-1', deviceId: 'fw-2' }, networkAggregate('net-b'), B);
    const learned = { peer: '10.0.0.20', prefix: '198.51.100.137/32', nextHop: '10.0.0.20', asPath: [65100], deviceId: 'fw-2' };
    g.emit('bgp.RouteLearned', learned, bgpRouteAggregate('r1'), A);
    const view = plain(deriveHost(replay(g.events), 'hv-1')) as Record<string, { announcedRoutes?: unknown }>;
    expect(view['hv-1.port.fw-a']?.announcedRoutes).toEqual([{ nextHop: '10.0.0.20', prefix: '198.51.100.137/32' }]);
    expect(view['hv-1.port.fw-b']?.announcedRoutes).toBeUndefined();
  });
});
