import { describe, expect, it } from 'vitest';
import { BGP_CONTEXT, bgpEvents, bgpRouteAggregate, routeAggregateId } from '@strata/contracts';
import { aggregateSubject, InMemoryEventStore } from '@strata/eventlog';
import { createLogger, createMetrics } from '@strata/runtime';
import { Executor } from '@strata/service-kit';
import { originatedPath } from '../gobgp/paths.js';
import type { ApiPath } from '../gobgp/proto.js';
import type { NewBgpEvent } from '../domain/decide/index.js';
import { desiredNeighbours } from '../domain/neighbours.js';
import type { BgpState } from '../domain/state.js';
import { given, T0 } from '../domain/test/given.js';
import { Observer } from './observer.js';
import { foldBgp } from './projection.js';
import { RouteRecorder } from './recorder.js';

const APP = '198.19.1.10';
const PREFIX = '198.51.100.129/32';
const NOW = Date.parse(T0) + 60_000;

/**
 * One gateway instance over a shared store. Its projection applies the
 * store's events only when something waits for them (as a lagging instance
 * does: the other gateway's write is in the store, not yet in this state).
 */
function instance(store: InMemoryEventStore, name: string) {
  const state: BgpState = given()
    .host('hv1', '198.18.0.11')
    .network('apps', true, ['s', '198.19.1.0/24'])
    .group('g', '198.19.0.0/16', 2)
    .port('fw', 'apps', 'hv1', [APP], 'fw-1')
    .assign('ap', '198.51.100.128/30', 'fw-1').state;
  const projection = {
    state,
    applied: 0,
    async waitFor(seq: number): Promise<void> {
      for await (const e of store.read({ fromSeq: projection.applied + 1, toSeq: seq })) {
        foldBgp(state, e as never);
        projection.applied = e.seq;
      }
    },
  };
  const executor = new Executor<BgpState, NewBgpEvent>({ store, projection, context: BGP_CONTEXT, encode: (type, data) => bgpEvents.encode(type, data) });
  const observer = new Observer(() => NOW);
  observer.handle({ event: 'peer', peer: { type: 'STATE', peer: { conf: { neighbor_address: APP, peer_asn: 65100 }, state: { session_state: 'ESTABLISHED', neighbor_address: APP, admin_state: 'UP' }, timers: { state: { uptime: { seconds: Date.parse(T0) / 1000 } } } } } });
  const path: ApiPath = { ...originatedPath(PREFIX, APP, false), neighbor_ip: APP };
  observer.handle({ event: 'table', table: { paths: [path] } });
  const recorder = new RouteRecorder({
    projection,
    executor,
    observer,
    logger: createLogger(name, 'silent'),
    metrics: createMetrics(name),
    now: () => NOW,
    settleMs: 1000,
    routeVersion: (id) => store.lastSeq(aggregateSubject(bgpRouteAggregate(id))),
  });
  return { recorder, neighbours: desiredNeighbours(state), projection };
}

describe('RouteRecorder: two gateways hearing the same appliance', () => {
  it('records a learned route once when the second instance has not yet applied the first one\'s event', async () => {
    const store = new InMemoryEventStore();
    const gw1 = instance(store, 'gw1');
    const gw2 = instance(store, 'gw2');
    await gw1.recorder.record(gw1.neighbours);
    // gw2's state has no record of the route; the store has gw1's.
    expect(gw2.projection.state.routes[routeAggregateId(APP, PREFIX)]).toBeUndefined();
    await gw2.recorder.record(gw2.neighbours);
    const { events } = await store.readAggregate(bgpRouteAggregate(routeAggregateId(APP, PREFIX)));
    expect(events.map((e) => [e.type, (e.data as { deviceId: string }).deviceId])).toEqual([['bgp.RouteLearned', 'fw-1']]);
    expect(gw2.projection.state.routes[routeAggregateId(APP, PREFIX)]?.status).toBe('learned');
  });
});
