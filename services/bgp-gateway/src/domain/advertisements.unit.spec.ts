import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffRib, type Advertisement } from './advertisements.js';
import { desiredAdvertisements } from './desired-table.js';
import { unscopedRoutedSubnets } from './routed-scope.js';
import { given } from './test/given.js';

const adverts = (g: ReturnType<typeof given>) => Object.fromEntries([...desiredAdvertisements(g.state)].map(([p, a]) => [p, `${a.kind} via ${a.nextHop}`]));

describe('desired advertisements', () => {
  it('a floating IP goes to the VTEP of the hypervisor hosting its port; unbound or unknown hosts advertise nothing', () => {
    const g = given().host('hv1', '198.18.0.11').network('n', false, ['s', '10.0.0.0/24']).port('p1', 'n', 'hv1', ['10.0.0.5']).port('p2', 'n', null, ['10.0.0.6']).port('p3', 'n', 'gone', ['10.0.0.7']);
    g.fip('f1', '203.0.113.10', 'p1').fip('f2', '203.0.113.11', 'p2').fip('f3', '203.0.113.12', 'p3').fip('f4', '203.0.113.13', 'deleted-port');
    expect(adverts(g)).toEqual({ '203.0.113.10/32': 'floating-ip via 198.18.0.11' });
  });

  it('each hypervisor\'s H-IP goes to its VTEP (replies to PNAT traffic), and goes with the hypervisor', () => {
    const g = given().host('hv1', '198.18.0.11').host('hv2', '198.18.0.12');
    g.state.fabric.hostIps = { hv1: '198.51.100.1', hv2: '198.51.100.2' };
    expect(adverts(g)).toEqual({ '198.51.100.1/32': 'host-ip via 198.18.0.11', '198.51.100.2/32': 'host-ip via 198.18.0.12' });
    delete g.state.fabric.hypervisors['hv2'];
    expect(adverts(g)).toEqual({ '198.51.100.1/32': 'host-ip via 198.18.0.11' });
  });

  it('a move re-advertises with the new next hop', () => {
    const g = given().host('hv1', '198.18.0.11').host('hv2', '198.18.0.12').network('n', false).port('p1', 'n', 'hv1', ['10.0.0.5']).fip('f1', '203.0.113.10', 'p1');
    const before = desiredAdvertisements(g.state);
    g.state.fabric.ports['p1'] = { ...g.state.fabric.ports['p1']!, hostId: 'hv2' };
    const after = desiredAdvertisements(g.state);
    expect(diffRib(after, new Map([...before].map(([p, a]) => [p, a.nextHop])))).toEqual({ add: [after.get('203.0.113.10/32')], withdraw: [] });
    expect(after.get('203.0.113.10/32')?.nextHop).toBe('198.18.0.12');
  });

  it('a routed network: host routes per port address, its IPv4 and IPv6 subnets via the lowest hosting hypervisor; non-routed networks: nothing', () => {
    const g = given()
      .host('hv1', '198.18.0.11')
      .host('hv2', '198.18.0.12')
      .routedPools('198.51.100.0/24', '2001:db8::/48')
      .network('r', true, ['s4', '198.51.100.0/25'], ['s6', '2001:db8::/64'])
      .network('n', false, ['t', '10.0.0.0/24'])
      .port('a', 'r', 'hv2', ['198.51.100.20', '2001:db8::20'])
      .port('b', 'r', 'hv1', ['198.51.100.21'])
      .port('c', 'n', 'hv1', ['10.0.0.5']);
    expect(adverts(g)).toEqual({
      '198.51.100.0/25': 'routed-subnet via 198.18.0.11',
      '198.51.100.20/32': 'host-route via 198.18.0.12',
      '198.51.100.21/32': 'host-route via 198.18.0.11',
      '2001:db8::/64': 'routed-subnet via 198.18.0.11',
      '2001:db8::20/128': 'host-route via 198.18.0.12',
    });
  });

  it('IPv6 routed networks: canonical prefixes; the subnet follows the hosting hypervisors and goes with the last port; non-routed, unbound and unknown hosts: nothing', () => {
    const g = given()
      .host('hv1', '198.18.0.11')
      .host('hv2', '198.18.0.12')
      .routedPools('2001:db8::/48')
      .network('r', true, ['s6', '2001:DB8:0:1:0::/64'])
      .network('n', false, ['t6', '2001:db8:0:2::/64'])
      .port('a', 'r', 'hv2', ['2001:db8:0:1:0:0:0:a'])
      .port('u', 'r', null, ['2001:db8:0:1::b'])
      .port('x', 'r', 'gone', ['2001:db8:0:1::c'])
      .port('c', 'n', 'hv1', ['2001:db8:0:2::5']);
    expect(adverts(g)).toEqual({ '2001:db8:0:1::/64': 'routed-subnet via 198.18.0.12', '2001:db8:0:1::a/128': 'host-route via 198.18.0.12' });
    delete g.state.fabric.ports['a'];
    expect(adverts(g)).toEqual({});
  });

  it('overlapping IPv6 routed subnets of two tenants: an address two ports claim, and the subnet prefix, stay with the earliest claim', () => {
    const g = given().host('hv1', '198.18.0.11').host('hv2', '198.18.0.12').routedPools('2001:db8::/32').network('a', true, ['sa', '2001:db8:5::/64']).network('b', true, ['sb', '2001:db8:5::/64']);
    g.port('first', 'a', 'hv1', ['2001:db8:5::10']).port('late', 'b', 'hv2', ['2001:db8:5::10']);
    g.state.fabric.ports['first'] = { ...g.state.fabric.ports['first']!, createdSeq: 5 };
    g.state.fabric.ports['late'] = { ...g.state.fabric.ports['late']!, createdSeq: 9 };
    expect(adverts(g)['2001:db8:5::10/128']).toBe('host-route via 198.18.0.11');
    // The same prefix claimed twice: the earliest subnet keeps the covering route, whatever the ids.
    g.state.fabric.subnets['sa'] = { ...g.state.fabric.subnets['sa']!, createdSeq: 7 };
    g.state.fabric.subnets['sb'] = { ...g.state.fabric.subnets['sb']!, createdSeq: 3 };
    expect(adverts(g)['2001:db8:5::/64']).toBe('routed-subnet via 198.18.0.12');
    g.state.fabric.subnets['sb'] = { ...g.state.fabric.subnets['sb']!, createdSeq: 8 };
    expect(adverts(g)['2001:db8:5::/64']).toBe('routed-subnet via 198.18.0.11');
  });

  it('an accepted appliance route is advertised via the appliance hypervisor while the appliance is a neighbour and the prefix assigned', () => {
    const g = given()
      .host('hv1', '198.18.0.11')
      .routedPools('198.19.0.0/16')
      .network('apps', true, ['s', '198.19.1.0/24'])
      .group('g', '198.19.0.0/16')
      .port('fw', 'apps', 'hv1', ['198.19.1.10'], 'fw-1')
      .assign('ap', '198.51.100.128/30', 'fw-1')
      .route('198.19.1.10', '198.51.100.129/32', { deviceId: 'fw-1' })
      .route('198.19.1.10', '198.51.100.0/24', { deviceId: 'fw-1', status: 'rejected', reason: 'prefix-length' });
    expect(adverts(g)['198.51.100.129/32']).toBe('application-prefix via 198.18.0.11');
    expect(adverts(g)['198.51.100.0/24']).toBeUndefined();
    delete g.state.config.assignments['ap'];
    expect(adverts(g)['198.51.100.129/32']).toBeUndefined();
  });

  it('one route per prefix: a floating IP wins over a host route of the same address', () => {
    const g = given().host('hv1', '198.18.0.11').host('hv2', '198.18.0.12').network('r', true).port('a', 'r', 'hv1', ['198.51.100.5']).port('b', 'r', 'hv2', ['10.1.1.1']).fip('f', '198.51.100.5', 'b');
    expect(adverts(g)['198.51.100.5/32']).toBe('floating-ip via 198.18.0.12');
  });
});

describe('diffRib', () => {
  const advert = (prefix: string, nextHop: string): Advertisement => ({ prefix, nextHop, kind: 'floating-ip', sourceId: prefix });
  const table = fc.dictionary(
    fc.ipV4().map((a) => `${a}/32`),
    fc.constantFrom('198.18.0.11', '198.18.0.12', '198.18.0.13'),
    { maxKeys: 40 },
  );

  it('applying the diff to the actual table gives the desired one, and a second diff is empty', () => {
    fc.assert(
      fc.property(table, table, (want, have) => {
        const desired = new Map(Object.entries(want).map(([p, nh]) => [p, advert(p, nh)]));
        const actual = new Map<string, string>(Object.entries(have));
        const d = diffRib(desired, actual);
        for (const w of d.withdraw) actual.delete(w);
        for (const a of d.add) actual.set(a.prefix, a.nextHop);
        expect(Object.fromEntries(actual)).toEqual(want);
        expect(diffRib(desired, actual)).toEqual({ add: [], withdraw: [] });
        // Nothing unchanged is touched: every add is new or changed.
        for (const a of d.add) expect(have[a.prefix]).not.toBe(a.nextHop);
      }),
    );
  });
});

describe('routed subnets only inside the routed address space (IPAM routed pools)', () => {
  const fabric = () =>
    given()
      .host('hv1', '198.18.0.11')
      .routedPools('198.51.100.0/24', '2001:db8:100::/48')
      .network('in', true, ['s4', '198.51.100.0/25'], ['s6', '2001:db8:100:1::/64'])
      .network('default', true, ['d4', '0.0.0.0/0'], ['d6', '::/0'])
      .network('other', true, ['x4', '192.0.2.0/24'])
      .network('straddling', true, ['edge', '198.51.100.0/23'])
      .port('a', 'in', 'hv1', ['198.51.100.20', '2001:db8:100:1::20'])
      .port('d', 'default', 'hv1', ['10.1.2.3'])
      .port('b', 'other', 'hv1', ['192.0.2.7'])
      .port('c', 'straddling', 'hv1', ['198.51.101.9']);

  it('originates subnets and host routes inside a routed pool; nothing of a subnet outside, straddling or in none (an old log)', () => {
    expect(adverts(fabric())).toEqual({
      '198.51.100.0/25': 'routed-subnet via 198.18.0.11',
      '198.51.100.20/32': 'host-route via 198.18.0.11',
      '2001:db8:100:1::/64': 'routed-subnet via 198.18.0.11',
      '2001:db8:100:1::20/128': 'host-route via 198.18.0.11',
    });
    expect(unscopedRoutedSubnets(fabric().state).map((s) => `${s.subnetId} ${s.cidr}`)).toEqual(['d4 0.0.0.0/0', 'd6 ::/0', 'edge 198.51.100.0/23', 'x4 192.0.2.0/24']);
  });

  it('follows the pools: a subnet whose routed pool is gone is withdrawn, and comes back with a pool containing it', () => {
    const g = fabric();
    delete g.state.fabric.routedPools['pool-198.51.100.0/24'];
    expect(Object.keys(adverts(g)).sort()).toEqual(['2001:db8:100:1::/64', '2001:db8:100:1::20/128']);
    g.routedPools('198.51.100.0/25', '192.0.2.0/24');
    expect(Object.keys(adverts(g)).sort()).toEqual(['192.0.2.0/24', '192.0.2.7/32', '198.51.100.0/25', '198.51.100.20/32', '2001:db8:100:1::/64', '2001:db8:100:1::20/128']);
  });
});
