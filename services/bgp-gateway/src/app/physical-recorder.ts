/**
 * Writes what `evpn` switches announce to the log (domain/decide/physical.ts
 * decides): MACs and flood VTEPs of VNIs bound on them. Routes refused
 * (a VNI not bound on that device, a VTEP not the device's) are not written:
 * each instance keeps the current ones only (app/rejections.ts, as for
 * appliances), exports the gauge `strata_bgp_evpn_rejected_routes{reason}`
 * and the counter `strata_bgp_evpn_routes_rejected_total{reason}`, and logs
 * a warning per newly refused route, at most 5 per switch per minute (a
 * switch may carry many VNIs Strata has nothing to do with).
 */
import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import { observeSwitch, orphanPhysical, recordPhysical, routeEventId, type PhysicalTargets, type RejectedEvpnRoute } from '../domain/decide/index.js';
import type { Neighbour } from '../domain/neighbours.js';
import { Rejections, type Refusal } from './rejections.js';
import { walkSettledSessions } from './settled-sessions.js';
import { gatewayCaller, type ObservationWriter } from './writer.js';

const REFUSAL_WARNINGS_PER_MINUTE = 5;

export interface PhysicalRecorderOptions extends ObservationWriter {
  /** A session's table counts as complete this long after it came up. */
  settleMs: number;
}

export class PhysicalRecorder {
  private readonly rejections: Rejections<RejectedEvpnRoute>;
  private readonly m;

  constructor(private readonly o: PhysicalRecorderOptions) {
    const rejections = evpnRefusals<RejectedEvpnRoute>(o, {
      warning: 'EVPN route of a switch refused: not recorded',
      more: 'more EVPN routes of a switch refused (warnings rate-limited)',
      fields: (r) => ({ peer: r.peer, deviceId: r.deviceId, route: r.key, vni: r.vni, reason: r.reason }),
    });
    this.rejections = rejections;
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
        for (const [reason, n] of rejections.byReason()) this.set({ reason }, n);
      },
    });
  }

  /** Record the switches' current announcements; returns when the next pass is due (a session settles), or Infinity. */
  async record(neighbours: ReadonlyMap<string, Neighbour>): Promise<number> {
    const state = this.o.projection.state;
    const now = this.o.now();
    const targets: PhysicalTargets = orphanPhysical(state, neighbours);
    const walk = walkSettledSessions(
      { neighbours, kind: 'evpn', observer: this.o.observer, settleMs: this.o.settleMs, now },
      (n, complete) => observeSwitch(state, n, this.o.observer.evpnAnnounced(n.address), complete),
      targets,
    );
    for (const r of this.rejections.update(walk.rejected, walk.peers)) this.m.rejectedTotal.inc({ reason: r.reason });

    await writePhysical(this.o, targets, 'bgp-physical', this.m.recorded);
    return walk.next;
  }
}

/** The bookkeeping of refused EVPN routes (keyed by NLRI), warnings at most 5 per sender per minute. */
export function evpnRefusals<R extends Refusal & { key: string }>(o: Pick<ObservationWriter, 'now' | 'logger'>, what: { warning: string; more: string; fields: (r: R) => Record<string, unknown> }): Rejections<R> {
  return new Rejections<R>({ burst: REFUSAL_WARNINGS_PER_MINUTE, windowMs: 60_000, now: o.now, warn: (f, msg) => o.logger.warn(f, msg), keyOf: (r) => r.key, what });
}

/** Bring each physical record (a switch's or a zone's) to its target, counting what was written by type. */
export async function writePhysical(o: ObservationWriter, targets: PhysicalTargets, correlation: string, recorded: { inc(labels: { type: string }): void }): Promise<void> {
  const now = o.now();
  for (const [id, t] of targets) {
    if (recordPhysical(o.projection.state, id, t).kind === 'done') continue;
    const done = await o.executor.execute((s) => recordPhysical(s, id, t), {
      caller: gatewayCaller(randomUUID(), now),
      correlationId: `${correlation}:${id}`,
      causationId: null,
      eventId: routeEventId,
    });
    if (done.written) recorded.inc({ type: `${t.record.kind}-${t.learned ? 'learned' : 'withdrawn'}` });
  }
}
