import { describe, expect, it } from 'vitest';
import { routeAggregateId } from '@strata/contracts';
import { desiredNeighbours } from '../neighbours.js';
import { given } from '../test/given.js';
import { observationTargets, orphanTargets, recordRoute, routeEventId } from './routes.js';

const border = () => given().peer('tor', '198.18.0.1');
const tor = (g: ReturnType<typeof border>) => desiredNeighbours(g.state).get('198.18.0.1')!;

describe('recording observations', () => {
  it('given nothing recorded, when the border announces the default route, then RouteLearned with its next hop and AS path', () => {
    const g = border();
    const [t] = [...observationTargets(g.state, tor(g), [{ prefix: '0.0.0.0/0', nextHop: '198.18.0.1', asPath: [65001] }], true).values()];
    const d = recordRoute(g.state, t!.peer, t!.prefix, t!.target);
    expect(d).toMatchObject({
      kind: 'append',
      expectedVersion: 0,
      aggregate: { context: 'bgp', type: 'route', id: routeAggregateId('198.18.0.1', '0.0.0.0/0') },
      event: { type: 'bgp.RouteLearned', data: { peer: '198.18.0.1', prefix: '0.0.0.0/0', nextHop: '198.18.0.1', asPath: [65001], deviceId: null } },
    });
  });

  it('given the route recorded the same, then nothing (a second gateway seeing it too writes nothing)', () => {
    const g = border().route('198.18.0.1', '0.0.0.0/0', { asPath: [65001], nextHop: '198.18.0.1' });
    const [t] = [...observationTargets(g.state, tor(g), [{ prefix: '0.0.0.0/0', nextHop: '198.18.0.1', asPath: [65001] }], true).values()];
    expect(recordRoute(g.state, t!.peer, t!.prefix, t!.target)).toEqual({ kind: 'done', resourceId: routeAggregateId('198.18.0.1', '0.0.0.0/0') });
  });

  it('a missing route is a withdrawal only once the session has settled (its table is complete)', () => {
    const g = border().route('198.18.0.1', '0.0.0.0/0');
    expect(observationTargets(g.state, tor(g), [], false).size).toBe(0);
    const [t] = [...observationTargets(g.state, tor(g), [], true).values()];
    expect(recordRoute(g.state, t!.peer, t!.prefix, t!.target)).toMatchObject({ event: { type: 'bgp.RouteWithdrawn' }, expectedVersion: 10 });
  });

  it('routes of a peer that is no longer a neighbour are withdrawn', () => {
    const g = border().route('198.19.1.10', '198.51.100.129/32', { deviceId: 'fw-1' }).route('198.19.1.11', '198.51.100.1/32', { status: null });
    expect([...orphanTargets(g.state, desiredNeighbours(g.state)).values()].map((t) => [t.peer, t.target])).toEqual([['198.19.1.10', null]]);
  });

  it('the same decision has the same event id on every instance', () => {
    const g = border();
    const t = { peer: '198.18.0.1', prefix: '0.0.0.0/0', status: 'learned', nextHop: '198.18.0.1', asPath: [], reason: null, deviceId: null } as const;
    const a = recordRoute(g.state, t.peer, t.prefix, { ...t, asPath: [] });
    const b = recordRoute(structuredClone(g.state), t.peer, t.prefix, { ...t, asPath: [] });
    if (a.kind !== 'append' || b.kind !== 'append') throw new Error('expected appends');
    expect(routeEventId(a)).toBe(routeEventId(b));
    expect(routeEventId(a)).toBe(`bgp.RouteLearned:route.${routeAggregateId('198.18.0.1', '0.0.0.0/0')}@0`);
  });
});

describe('appliance route events carry the tenant owning the appliance port', () => {
  it("an appliance's route is recorded for its port's tenant (hostview gives it to that tenant's port only); a border route for the system", () => {
    const g = given()
      .host('hv1', '198.18.0.11')
      .tenantNetwork('tenant-a', 'apps', true, ['s', '198.19.1.0/24'])
      .group('g', '198.19.0.0/16')
      .port('fw', 'apps', 'hv1', ['198.19.1.10'], 'fw-1')
      .assign('ap', '198.51.100.128/29', 'fw-1', 'tenant-a')
      .peer('tor', '198.18.0.1');
    const n = desiredNeighbours(g.state);
    const [t] = [...observationTargets(g.state, n.get('198.19.1.10')!, [{ prefix: '198.51.100.129/32', nextHop: '198.19.1.10', asPath: [65100] }], true).values()];
    expect(recordRoute(g.state, t!.peer, t!.prefix, t!.target)).toMatchObject({ tenant: 'tenant-a', event: { type: 'bgp.RouteLearned', data: { deviceId: 'fw-1' } } });
    const [b] = [...observationTargets(g.state, n.get('198.18.0.1')!, [{ prefix: '0.0.0.0/0', nextHop: '198.18.0.1', asPath: [65001] }], true).values()];
    expect(recordRoute(g.state, b!.peer, b!.prefix, b!.target)).toMatchObject({ tenant: '_system' });
  });
});
