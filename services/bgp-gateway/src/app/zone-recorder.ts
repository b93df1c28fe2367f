/**
 * Writes what the other zones of the federation announce on this zone's
 * stretched networks to the log (domain/decide/federation.ts decides): the
 * route reflectors' tables, filtered, as `bgp.Physical*` records of
 * `zone-<name>`. Refused routes are not written: each instance keeps the
 * current ones only (app/rejections.ts, per sending zone), exports the gauge
 * `strata_bgp_federation_rejected_routes{zone,reason}` and the counter
 * `strata_bgp_federation_routes_rejected_total{zone,reason}`, and logs a
 * warning per newly refused route, at most 5 per zone per minute.
 *
 * Fail static: while no reflector session is up, nothing is withdrawn (a
 * zone's records stay what they were); once one has settled, its table is
 * complete and what it lacks is withdrawn. A zone whose BGP speaker is lost
 * is still in that table: the reflector keeps its routes, marked
 * LLGR_STALE (domain/llgr.ts), taken as any other and counted in the gauge
 * `strata_bgp_federation_stale_routes{zone}`.
 */
import { Gauge } from 'prom-client';
import { observeZones, orphanZones, type PhysicalTargets, type RejectedZoneRoute, type ZoneRoute } from '../domain/decide/index.js';
import { staleRoutesByZone } from '../domain/llgr.js';
import type { Neighbour } from '../domain/neighbours.js';
import { evpnRefusals, writePhysical } from './physical-recorder.js';
import type { Rejections } from './rejections.js';
import type { ObservationWriter } from './writer.js';
/** The sender of a route whose VTEP lies in no known zone, as rejections and metrics name it. */
const UNKNOWN_ZONE = 'unknown';

type ZoneRefusal = RejectedZoneRoute & { peer: string };

export interface ZoneRecorderOptions extends ObservationWriter {
  /** A session's table counts as complete this long after it came up. */
  settleMs: number;
}

export class ZoneRecorder {
  private readonly rejections: Rejections<ZoneRefusal>;
  private readonly m;
  /** Per remote zone, its LLGR_STALE routes as of the last pass with a reflector session up. */
  private stale = new Map<string, number>();

  constructor(private readonly o: ZoneRecorderOptions) {
    const rejections = evpnRefusals<ZoneRefusal>(o, {
      warning: 'EVPN route of another zone refused: not recorded',
      more: 'more EVPN routes of another zone refused (warnings rate-limited)',
      fields: (r) => ({ zone: r.peer, route: r.key, vni: r.vni, reason: r.reason }),
    });
    this.rejections = rejections;
    this.m = {
      recorded: o.metrics.counter('strata_bgp_federation_events_total', "other zones' MACs and flood VTEPs written to the log", ['type']),
      rejectedTotal: o.metrics.counter('strata_bgp_federation_routes_rejected_total', "other zones' EVPN routes this instance found newly refused", ['zone', 'reason']),
    };
    new Gauge({
      name: 'strata_bgp_federation_rejected_routes',
      help: "EVPN routes other zones announce now that this instance refuses (not written to the log)",
      labelNames: ['zone', 'reason'],
      registers: [o.metrics.registry],
      collect() {
        this.reset();
        for (const [label, n] of rejections.countBy((r) => `${r.peer} ${r.reason}`)) {
          const [zone, reason] = label.split(' ');
          this.set({ zone: zone!, reason: reason! }, n);
        }
      },
    });
    const stale = (): Map<string, number> => this.stale;
    new Gauge({
      name: 'strata_bgp_federation_stale_routes',
      help: "other zones' EVPN routes the route reflectors keep as LLGR_STALE (that zone's BGP speaker is lost; still recorded: fail static)",
      labelNames: ['zone'],
      registers: [o.metrics.registry],
      collect() {
        this.reset();
        for (const [zone, n] of stale()) this.set({ zone }, n);
      },
    });
  }

  /** Record the other zones' current announcements; returns when the next pass is due (a session settles), or Infinity. */
  async record(neighbours: ReadonlyMap<string, Neighbour>): Promise<number> {
    const state = this.o.projection.state;
    const now = this.o.now();
    const routes: ZoneRoute[] = [];
    let complete = false;
    let next = Infinity;
    for (const n of neighbours.values()) {
      if (n.kind !== 'reflector') continue;
      const s = this.o.observer.session(n.address);
      if (!s?.established) continue;
      routes.push(...this.o.observer.zoneAnnounced(n.address));
      if (now - s.since >= this.o.settleMs) complete = true;
      else next = Math.min(next, s.since + this.o.settleMs);
    }
    const seen = observeZones(state, routes, complete);
    // Counted while a reflector session is up (none up: no word on staleness, the last count stays).
    if (routes.length > 0 || complete) this.stale = staleRoutesByZone(state.config.federation, routes);
    const targets: PhysicalTargets = new Map([...orphanZones(state), ...seen.targets]);
    const byZone = new Map<string, ZoneRefusal[]>();
    for (const r of seen.rejected) {
      const peer = r.zone || UNKNOWN_ZONE;
      byZone.set(peer, [...(byZone.get(peer) ?? []), { ...r, peer }]);
    }
    const zones = new Set([UNKNOWN_ZONE, ...(state.config.federation?.zones ?? []).map((z) => z.name)]);
    // Zones not heard from this pass (no session up) keep their refusals, as a switch whose session settles.
    const observed = routes.length > 0 || complete ? new Map([...zones].map((z) => [z, byZone.get(z) ?? []])) : byZone;
    for (const r of this.rejections.update(observed, zones)) this.m.rejectedTotal.inc({ zone: r.peer, reason: r.reason });

    await writePhysical(this.o, targets, 'bgp-zone', this.m.recorded);
    return next;
  }
}
