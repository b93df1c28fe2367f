/**
 * IPAM's updates in the host views (issue 15): a port's admin state and
 * moved fixed IPs, a subnet's DHCP settings (on/off, DNS servers, host
 * routes), a router's static routes. Given a small cloud, when one update
 * event, then these keys are written (and no other), with these values.
 *
 *   hv-1: pa (net .10, in group web), hv-2: pb (net .11, in group app, whose
 *   rule names web), hv-3: pc (net2 .10); router r joins net and net2.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, type ModelEvent } from './model.js';
import { HostViews } from './views.js';
import { deriveAll, Given, plain, replay, rule } from './test/given.js';

const A = 'tenant-a';

function world(): Given {
  const g = new Given();
  for (const h of [1, 2, 3]) g.host(`hv-${h}`, `198.18.0.${h}`);
  g.router('r', A);
  g.network('net', A, 100);
  g.subnet('net', 'sub', '10.0.0.0/24', '10.0.0.1', A);
  g.addInterface('r', 'sub', 'net', A);
  g.network('net2', A, 101);
  g.subnet('net2', 'sub2', '10.0.1.0/24', '10.0.1.1', A);
  g.addInterface('r', 'sub2', 'net2', A);
  g.group('web', A);
  g.group('app', A, [rule('from-web', 'ingress', 'tcp', 443, 443, { remoteGroupId: 'web' })]);
  g.port('net', 'pa', 'hv-1', '02:00:00:00:00:0a', [{ subnetId: 'sub', ip: '10.0.0.10' }], A);
  g.setGroups('pa', ['web'], A);
  g.port('net', 'pb', 'hv-2', '02:00:00:00:00:0b', [{ subnetId: 'sub', ip: '10.0.0.11' }], A);
  g.setGroups('pb', ['app'], A);
  g.port('net2', 'pc', 'hv-3', '02:00:00:00:00:0c', [{ subnetId: 'sub2', ip: '10.0.1.10' }], A);
  g.setGroups('pc', [], A);
  return g;
}

/** Apply the last event to incrementally kept views of the rest; the keys it wrote (sorted), and the views after it. */
function written(g: Given): { keys: string[]; views: Record<string, unknown> } {
  const model = replay(g.events.slice(0, -1));
  const views = new HostViews();
  views.rebuild(model);
  const { ops } = views.apply(model, applyEvent(model, g.events.at(-1) as ModelEvent));
  const after = plain(views.snapshot());
  // The incremental result is the full recompute's (the property test checks this for any log; here for these).
  expect(after).toEqual(plain(deriveAll(replay(g.events))));
  return { keys: ops.map((o) => `${o.op} ${o.key}`).sort(), views: after };
}

describe('updates in the host views', () => {
  it("a port's fixed IP moves: its port key, its endpoint on every other host and its member key change, nothing else", () => {
    const g = world();
    g.updatePort('net', 'pa', { fixedIps: { before: [{ subnetId: 'sub', ip: '10.0.0.10' }], after: [{ subnetId: 'sub', ip: '10.0.0.20' }] } }, A);
    const { keys, views } = written(g);
    expect(keys).toEqual(['put hv-1.port.pa', 'put hv-2.ep.pa', 'put hv-2.member.web.pa', 'put hv-3.ep.pa']);
    expect(views['hv-1.port.pa']).toMatchObject({ fixedIps: [{ ip: '10.0.0.20', subnetId: 'sub' }] });
    expect(views['hv-3.ep.pa']).toMatchObject({ ips: ['10.0.0.20'] });
    expect(views['hv-2.member.web.pa']).toEqual({ groupId: 'web', ips: ['10.0.0.20'], portId: 'pa' });
  });

  it("a port's admin state: its own port key only (left out when up)", () => {
    const g = world();
    g.updatePort('net', 'pa', { adminStateUp: false }, A);
    let w = written(g);
    expect(w.keys).toEqual(['put hv-1.port.pa']);
    expect(w.views['hv-1.port.pa']).toMatchObject({ adminStateUp: false });
    g.updatePort('net', 'pa', { adminStateUp: true }, A);
    w = written(g);
    expect(w.keys).toEqual(['put hv-1.port.pa']);
    expect(w.views['hv-1.port.pa']).not.toHaveProperty('adminStateUp');
  });

  it('a port created down carries it from the start', () => {
    const g = world();
    g.port('net', 'pd', 'hv-1', '02:00:00:00:00:0d', [{ subnetId: 'sub', ip: '10.0.0.13' }], A, false);
    expect(written(g).views['hv-1.port.pd']).toMatchObject({ adminStateUp: false });
  });

  it("a subnet's DNS servers and host routes: the network's key on every host that needs it; DHCP off likewise", () => {
    const g = world();
    const routes = [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }];
    g.updateSubnet('net', 'sub', { dnsNameservers: ['192.0.2.53'], hostRoutes: routes }, A);
    let w = written(g);
    // hv-3 routes into net through r: it needs the network too.
    expect(w.keys).toEqual(['put hv-1.net.net', 'put hv-2.net.net', 'put hv-3.net.net']);
    expect(w.views['hv-3.net.net']).toMatchObject({ subnets: [{ id: 'sub', dnsNameservers: ['192.0.2.53'], hostRoutes: routes, enableDhcp: true }] });
    g.updateSubnet('net', 'sub', { name: 'renamed' }, A);
    expect(written(g).keys).toEqual([]);
    g.updateSubnet('net', 'sub', { enableDhcp: false, dnsNameservers: [] }, A);
    w = written(g);
    expect(w.keys).toHaveLength(3);
    expect(w.views['hv-1.net.net']).toMatchObject({ subnets: [{ id: 'sub', enableDhcp: false, hostRoutes: routes }] });
    expect((w.views['hv-1.net.net'] as { subnets: object[] }).subnets[0]).not.toHaveProperty('dnsNameservers');
  });

  it("a router's static routes: its domain key on every host realising it, sorted; a subnet created with options has them", () => {
    const g = world();
    g.updateRouter('r', { routes: [{ destination: '192.168.60.0/24', nexthop: '10.0.1.10' }, { destination: '192.168.50.0/24', nexthop: '10.0.0.11' }] }, A);
    const w = written(g);
    expect(w.keys).toEqual(['put hv-1.domain.r', 'put hv-2.domain.r', 'put hv-3.domain.r']);
    expect(w.views['hv-1.domain.r']).toMatchObject({
      routes: [
        { destination: '192.168.50.0/24', nexthop: '10.0.0.11' },
        { destination: '192.168.60.0/24', nexthop: '10.0.1.10' },
      ],
    });
    g.updateRouter('r', { routes: [] }, A);
    expect(written(g).views['hv-1.domain.r']).not.toHaveProperty('routes');
    g.subnet('net', 'sub3', '10.0.3.0/24', '10.0.3.1', A, true, { dnsNameservers: ['192.0.2.54'] });
    expect(written(g).views['hv-1.net.net']).toMatchObject({ subnets: [{ id: 'sub' }, { id: 'sub3', dnsNameservers: ['192.0.2.54'] }] });
  });
});
