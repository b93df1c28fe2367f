/**
 * The session-down policy for appliances the engine stopped at its hard
 * prefix limit (gobgpd: Idle(PfxCt), which it never leaves by itself). The
 * routes are off the fabric already (this instance advertises an
 * appliance's routes only while its session is up); here the gateway
 * records the trip (bgp.ApplianceSessionLimited, domain/decide/sessions.ts),
 * logs it, and re-enables the neighbour after the backoff the event states.
 * A session that trips again soon waits twice as long.
 */
import { randomUUID } from 'node:crypto';
import { recordSessionLimit, routeEventId } from '../domain/decide/index.js';
import type { Neighbour } from '../domain/neighbours.js';
import type { GobgpClient } from '../gobgp/client.js';
import { hardPrefixCap } from '../gobgp/engine-config.js';
import { gatewayCaller, type ObservationWriter } from './writer.js';

export interface SessionLimitOptions extends ObservationWriter {
  client: Pick<GobgpClient, 'enablePeer'>;
  /** Wait before the first re-enable; doubled per recent trip. */
  retryBaseMs: number;
  /** Called when a re-enable is due (the gateway runs a pass). */
  wake: () => void;
}

type Pending = { stage: 'waiting'; timer: NodeJS.Timeout } | { stage: 'due' } | { stage: 'enabled'; at: number };

/** A session still reported limited this long after it was re-enabled has tripped again (its UP state went by between passes). */
const ENABLE_SETTLE_MS = 10_000;

export class SessionLimits {
  private readonly pending = new Map<string, Pending>();
  private readonly trips;

  constructor(private readonly o: SessionLimitOptions) {
    this.trips = o.metrics.counter('strata_bgp_session_limit_trips_total', 'appliance sessions this instance\'s engine stopped at the hard prefix limit');
  }

  async check(neighbours: ReadonlyMap<string, Neighbour>, gateway: string): Promise<void> {
    const now = this.o.now();
    for (const [address, p] of this.pending) {
      // Forget a session that is no longer limited (re-enabled, or gobgpd restarted) or no longer an appliance,
      // and one re-enabled a while ago that is limited again: that is a new trip.
      const limited = this.o.observer.session(address)?.limited === true;
      const trippedAgain = p.stage === 'enabled' && now - p.at > ENABLE_SETTLE_MS;
      if (neighbours.get(address)?.kind === 'appliance' && limited && !trippedAgain) continue;
      if (p.stage === 'waiting') clearTimeout(p.timer);
      this.pending.delete(address);
    }
    for (const n of neighbours.values()) {
      if (n.kind !== 'appliance' || this.o.observer.session(n.address)?.limited !== true) continue;
      const p = this.pending.get(n.address);
      if (!p) await this.tripped(n, gateway);
      else if (p.stage === 'due') {
        await this.o.client.enablePeer(n.address);
        this.pending.set(n.address, { stage: 'enabled', at: this.o.now() });
        this.o.logger.info({ peer: n.address, deviceId: n.deviceId }, 'appliance session re-enabled after its prefix limit');
      }
    }
  }

  stop(): void {
    for (const p of this.pending.values()) if (p.stage === 'waiting') clearTimeout(p.timer);
    this.pending.clear();
  }

  private async tripped(n: Extract<Neighbour, { kind: 'appliance' }>, gateway: string): Promise<void> {
    const now = this.o.now();
    const limit = hardPrefixCap(n.maxPrefixes);
    let retryInSeconds = 0;
    await this.o.executor.execute(
      (s) => {
        const d = recordSessionLimit(s, gateway, n, limit, this.o.retryBaseMs, now);
        if (d.kind === 'append' && d.event.type === 'bgp.ApplianceSessionLimited') retryInSeconds = d.event.data.retryInSeconds;
        return d;
      },
      {
        caller: gatewayCaller(randomUUID(), now),
        correlationId: `bgp-session-limit:${gateway}:${n.address}`,
        causationId: null,
        eventId: routeEventId,
      },
    );
    this.trips.inc();
    this.o.logger.warn({ peer: n.address, deviceId: n.deviceId, limit, retryInSeconds }, 'appliance session stopped by the engine at its prefix limit; its routes are off the fabric until it is re-enabled');
    const timer = setTimeout(() => {
      this.pending.set(n.address, { stage: 'due' });
      this.o.wake();
    }, retryInSeconds * 1000);
    this.pending.set(n.address, { stage: 'waiting', timer });
  }
}
