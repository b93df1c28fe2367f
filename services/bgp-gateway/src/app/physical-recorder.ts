/**
 * Writes what `evpn` switches announce to the log (domain/decide/physical.ts
 * decides): MACs and flood VTEPs of VNIs bound on them. Routes refused
 * (a VNI not bound on that device, a VTEP not the device's) are not written:
 * each instance keeps the current ones only, exports the gauge
 * `strata_bgp_evpn_rejected_routes{reason}` and the counter
 * `strata_bgp_evpn_routes_rejected_total{reason}`, and logs a warning per
 * newly refused route (a switch's table is bounded by what it has: its own
 * VNIs and MACs).
 */
import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import { observeSwitch, orphanPhysical, recordPhysical, routeEventId, type PhysicalTargets, type RejectedEvpnRoute } from '../domain/decide/index.js';
import type { Neighbour } from '../domain/neighbours.js';
import { gatewayCaller, type ObservationWriter } from './writer.js';

export interface PhysicalRecorderOptions extends ObservationWriter {
  /** A session's table counts as complete this long after it came up. */
  settleMs: number;
}

export class PhysicalRecorder {
  /** `${peer} ${key}` → the current refusal. */
  private rejected = new Map<string, RejectedEvpnRoute>();
  private readonly m;

  constructor(private readonly o: PhysicalRecorderOptions) {
    const current = (): Map<string, RejectedEvpnRoute> => this.rejected;
    this.m = {
      recorded: o.metrics.counter('strata_bgp_physical_events_total', 'MACs and flood VTEPs of evpn switches written to the log', ['type']),
      rejectedTotal: o.metrics.counter('strata_bgp_evpn_routes_rejected_total', 'EVPN routes of evpn switches this instance found newly refused', ['reason']),
    };
    new Gauge({
      name: 'strata_bgp_evpn_rejected_routes',
      help: 'EVPN routes evpn switches announce now that this instance refuses (not written to the log)',
      labelNames: ['reason'],
      registers: [o.metrics.registry],
      collect() {
        this.reset();
        const by = new Map<string, number>();
        for (const r of current().values()) by.set(r.reason, (by.get(r.reason) ?? 0) + 1);
        for (const [reason, n] of by) this.set({ reason }, n);
      },
    });
  }

  /** Record the switches' current announcements; returns when the next pass is due (a session settles), or Infinity. */
  async record(neighbours: ReadonlyMap<string, Neighbour>): Promise<number> {
    const state = this.o.projection.state;
    const now = this.o.now();
    const targets: PhysicalTargets = orphanPhysical(state, neighbours);
    const rejected = new Map<string, RejectedEvpnRoute>();
    let next = Infinity;
    for (const n of neighbours.values()) {
      if (n.kind !== 'evpn') continue;
      const s = this.o.observer.session(n.address);
      if (!s?.established) {
        // Its table went with the session; keep its refusals until it returns.
        for (const [k, r] of this.rejected) if (r.peer === n.address) rejected.set(k, r);
        continue;
      }
      const complete = now - s.since >= this.o.settleMs;
      if (!complete) next = Math.min(next, s.since + this.o.settleMs);
      const seen = observeSwitch(state, n, this.o.observer.evpnAnnounced(n.address), complete);
      for (const [id, t] of seen.targets) targets.set(id, t);
      for (const r of seen.rejected) rejected.set(`${r.peer} ${r.key}`, r);
    }
    for (const [k, r] of rejected) {
      if (this.rejected.get(k)?.reason === r.reason) continue;
      this.m.rejectedTotal.inc({ reason: r.reason });
      this.o.logger.warn({ peer: r.peer, deviceId: r.deviceId, route: r.key, vni: r.vni, reason: r.reason }, 'EVPN route of a switch refused: not recorded');
    }
    this.rejected = rejected;

    for (const [id, t] of targets) {
      if (recordPhysical(state, id, t).kind === 'done') continue;
      const done = await this.o.executor.execute((s) => recordPhysical(s, id, t), {
        caller: gatewayCaller(randomUUID(), now),
        correlationId: `bgp-physical:${id}`,
        causationId: null,
        eventId: routeEventId,
      });
      if (done.written) this.m.recorded.inc({ type: `${t.record.kind}-${t.learned ? 'learned' : 'withdrawn'}` });
    }
    return next;
  }
}
