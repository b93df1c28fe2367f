/** Gauges read at scrape time from what the gateway holds: rejections, route records, observed tables (the bounds the hostile tests check). */
import { Gauge, type Registry } from 'prom-client';
import type { RouteEntry } from '../domain/state.js';
import type { Observer } from './observer.js';
import type { Rejections } from './rejections.js';

export function registerStateGauges(registry: Registry, from: { routes: () => Record<string, RouteEntry>; observer: Observer; rejections: Rejections }): void {
  const registers = [registry];
  new Gauge({
    name: 'strata_bgp_rejected_routes',
    help: "appliance routes announced now and refused by the import policy (this instance's sessions)",
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of from.rejections.byReason()) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: 'strata_bgp_route_records',
    help: 'route records in the state (learned, and withdrawn ones whose damping history is not yet erased)',
    labelNames: ['status'],
    registers,
    collect() {
      this.reset();
      for (const r of Object.values(from.routes())) this.inc({ status: r.status ?? 'withdrawn' });
    },
  });
  new Gauge({
    name: 'strata_bgp_observed_routes',
    help: "routes held in memory: announced by appliance sessions (bounded by the engine's prefix limit) and currently rejected",
    labelNames: ['kind'],
    registers,
    collect() {
      this.set({ kind: 'announced' }, from.observer.size());
      this.set({ kind: 'rejected' }, from.rejections.size);
    },
  });
}
