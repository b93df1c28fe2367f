import { describe, expect, it } from 'vitest';
import { routeAggregateId } from '@strata/contracts';
import { charge, DEFAULT_DAMPING, UNDAMPED } from '../damping.js';
import { desiredNeighbours, type ApplianceNeighbour } from '../neighbours.js';
import { given, T0 } from '../test/given.js';
import { observeAppliance, orphanTargets, recordRoute, routeEventId } from './routes.js';

const NOW = Date.parse(T0) + 1000;
const APP = '198.19.1.10';
const fw = () =>
  given()
    .peer('tor', '198.18.0.1')
    .host('hv1', '198.18.0.11')
    .network('apps', true, ['s', '198.19.1.0/24'])
    .group('g', '198.19.0.0/16', 2)
    .port('fw', 'apps', 'hv1', [APP], 'fw-1')
    .assign('ap', '198.51.100.128/30', 'fw-1');
const appliance = (g: ReturnType<typeof fw>) => desiredNeighbours(g.state).get(APP) as ApplianceNeighbour;
const ann = (prefix: string) => ({ prefix, nextHop: '192.0.2.99', asPath: [65100] });
const decide = (g: ReturnType<typeof fw>, announced: string[], complete = true, now = NOW) =>
  [...observeAppliance(g.state, appliance(g), announced.map(ann), complete).targets.values()].map((t) => recordRoute(g.state, t.peer, t.prefix, t.target, now));

describe('recording appliance observations', () => {
  it('given nothing recorded, when the appliance announces an assigned /32, then RouteLearned with the appliance as next hop', () => {
    expect(decide(fw(), ['198.51.100.129/32'])).toMatchObject([
      {
        kind: 'append',
        expectedVersion: 0,
        aggregate: { context: 'bgp', type: 'route', id: routeAggregateId(APP, '198.51.100.129/32') },
        event: { type: 'bgp.RouteLearned', data: { peer: APP, prefix: '198.51.100.129/32', nextHop: APP, asPath: [65100], deviceId: 'fw-1' } },
      },
    ]);
  });

  it('rejected routes are not recorded: they come back as rejections for the instance to count and log', () => {
    const g = fw();
    const seen = observeAppliance(g.state, appliance(g), ['198.51.100.0/24', '203.0.113.7/32'].map(ann), true);
    expect(seen.targets.size).toBe(0);
    expect(seen.rejected.map((r) => [r.prefix, r.reason])).toEqual([
      ['198.51.100.0/24', 'prefix-length'],
      ['203.0.113.7/32', 'outside-assigned-range'],
    ]);
  });

  it('given the route recorded the same, then nothing (a second gateway seeing it too writes nothing)', () => {
    const g = fw().route(APP, '198.51.100.129/32', { nextHop: APP, deviceId: 'fw-1' });
    expect(decide(g, ['198.51.100.129/32'])).toEqual([{ kind: 'done', resourceId: routeAggregateId(APP, '198.51.100.129/32') }]);
  });

  it('a missing route is a withdrawal only once the session has settled (its table is complete)', () => {
    const g = fw().route(APP, '198.51.100.129/32', { nextHop: APP, deviceId: 'fw-1' });
    expect(decide(g, [], false)).toEqual([]);
    expect(decide(g, [], true)).toMatchObject([{ event: { type: 'bgp.RouteWithdrawn' }, expectedVersion: 10 }]);
  });

  it('a recorded route the policy now refuses is withdrawn at once', () => {
    const g = fw().route(APP, '198.51.100.129/32', { nextHop: APP, deviceId: 'fw-1' });
    delete g.state.config.assignments['ap'];
    expect(decide(g, ['198.51.100.129/32'], false)).toMatchObject([{ event: { type: 'bgp.RouteWithdrawn' } }]);
  });

  it('a route suppressed by damping keeps its record until it is reusable', () => {
    let damping = UNDAMPED;
    for (let i = 0; i < 3; i++) damping = charge(damping, DEFAULT_DAMPING.withdrawal, NOW);
    const g = fw().route(APP, '198.51.100.129/32', { status: null, damping });
    expect(decide(g, ['198.51.100.129/32'])).toEqual([{ kind: 'done', resourceId: routeAggregateId(APP, '198.51.100.129/32') }]);
    expect(decide(g, ['198.51.100.129/32'], true, damping.suppressedUntil)).toMatchObject([{ event: { type: 'bgp.RouteLearned' } }]);
  });

  it('routes of peers that are not appliance neighbours are withdrawn: gone appliances, and border routes of old logs', () => {
    const g = fw().route('198.19.1.99', '198.51.100.129/32', { deviceId: 'fw-9' }).route('198.18.0.1', '0.0.0.0/0').route('198.19.1.11', '198.51.100.1/32', { status: null });
    expect([...orphanTargets(g.state, desiredNeighbours(g.state)).values()].map((t) => [t.peer, t.target]).sort()).toEqual([
      ['198.18.0.1', null],
      ['198.19.1.99', null],
    ]);
  });

  it('the same decision has the same event id on every instance', () => {
    const g = fw();
    const t = { nextHop: APP, asPath: [], deviceId: 'fw-1' };
    const a = recordRoute(g.state, APP, '198.51.100.129/32', t, NOW);
    const b = recordRoute(structuredClone(g.state), APP, '198.51.100.129/32', { ...t }, NOW + 5);
    if (a.kind !== 'append' || b.kind !== 'append') throw new Error('expected appends');
    expect(routeEventId(a)).toBe(routeEventId(b));
    expect(routeEventId(a)).toBe(`bgp.RouteLearned:route.${routeAggregateId(APP, '198.51.100.129/32')}@0`);
  });
});

describe('appliance route events carry the tenant owning the appliance port', () => {
  it("an appliance's route is recorded for its port's tenant (hostview gives it to that tenant's port only)", () => {
    const g = given()
      .host('hv1', '198.18.0.11')
      .tenantNetwork('tenant-a', 'apps', true, ['s', '198.19.1.0/24'])
      .group('g', '198.19.0.0/16')
      .port('fw', 'apps', 'hv1', ['198.19.1.10'], 'fw-1')
      .assign('ap', '198.51.100.128/29', 'fw-1', 'tenant-a');
    const n = desiredNeighbours(g.state).get('198.19.1.10') as ApplianceNeighbour;
    const { targets } = observeAppliance(g.state, n, [{ prefix: '198.51.100.129/32', nextHop: '198.19.1.10', asPath: [65100] }], true);
    const [t] = [...targets.values()];
    expect(recordRoute(g.state, t!.peer, t!.prefix, t!.target, NOW)).toMatchObject({ tenant: 'tenant-a', event: { type: 'bgp.RouteLearned', data: { deviceId: 'fw-1' } } });
  });
});
