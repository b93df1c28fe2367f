/**
 * The gateway's control loop: one pass at a time, run when the state
 * changed, when gobgpd reported something, and on a resync timer.
 *
 *   1. engine: gobgpd started with the settings, policy, neighbours
 *      (a gobgpd that lost its config, i.e. restarted, is configured again);
 *   2. RIB: desired advertisements vs what Strata originated in gobgpd;
 *   3. observations: what established peers announce, recorded as events.
 *
 * Any failure (gobgpd down, a NATS hiccup) ends the pass; the next one, after
 * a backoff, starts by checking gobgpd again. Nothing here crashes the process.
 * Stopping the gateway leaves gobgpd running with its routes: a restarted
 * gateway reads the RIB and changes only the difference.
 */
import { randomUUID } from 'node:crypto';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { Gauge } from 'prom-client';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import type { Executor } from '@strata/service-kit';
import { desiredAdvertisements } from '../domain/advertisements.js';
import { differs, observationTargets, orphanTargets, recordRoute, routeEventId, SYSTEM_TENANT, type NewBgpEvent, type Targets } from '../domain/decide/index.js';
import { desiredNeighbours, type Neighbour, type NeighbourConflicts } from '../domain/neighbours.js';
import type { BgpState } from '../domain/state.js';
import type { GobgpClient } from '../gobgp/client.js';
import type { WatchEvent } from '../gobgp/proto.js';
import { EngineSync } from './engine.js';
import { Observer } from './observer.js';
import { RibReconciler } from './rib.js';
import type { Secrets } from './secrets.js';

export interface GatewayOptions {
  client: GobgpClient;
  projection: { readonly state: BgpState };
  executor: Executor<BgpState, NewBgpEvent>;
  secrets: Secrets;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Full RIB read and engine check at least this often. */
  resyncMs: number;
  /** A session counts as having sent its whole table this long after it came up (then missing routes are withdrawals). */
  settleMs: number;
  /** This instance's own BGP identifier, overriding the shared setting. */
  routerId?: string | undefined;
}

const MAX_BACKOFF_MS = 5_000;

export class BgpGateway {
  private readonly engine: EngineSync;
  private readonly rib: RibReconciler;
  private readonly observer = new Observer();
  private watchStream: ClientReadableStream<WatchEvent> | undefined;
  /** gobgpd must be checked and configured from scratch (first pass, or its watch stream ended). */
  private engineLost = true;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private pending = true;
  private loop: Promise<void> | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private lastConflicts = '[]';
  private readonly m;
  /** True once a pass completed: readiness. */
  converged = false;

  constructor(private readonly o: GatewayOptions) {
    this.engine = new EngineSync(o.client, o.secrets, o.logger, o.routerId);
    this.rib = new RibReconciler(o.client);
    const reg = [o.metrics.registry];
    this.m = {
      passes: o.metrics.counter('strata_bgp_passes_total', 'reconcile passes of the BGP gateway', ['outcome']),
      paths: o.metrics.counter('strata_bgp_rib_changes_total', 'paths added to / withdrawn from gobgpd', ['op']),
      engineStarts: o.metrics.counter('strata_bgp_engine_starts_total', 'times gobgpd was found unconfigured (first start or restart) and configured'),
      rejected: o.metrics.counter('strata_bgp_routes_rejected_total', 'appliance routes this instance found refused by the import policy and recorded', ['reason']),
      recorded: o.metrics.counter('strata_bgp_route_events_total', 'route observations written to the log', ['type']),
      advertised: new Gauge({ name: 'strata_bgp_advertised_routes', help: 'paths Strata originates in gobgpd', registers: reg }),
      sessions: new Gauge({ name: 'strata_bgp_established_sessions', help: 'BGP sessions in state Established', registers: reg }),
    };
    new Gauge({
      name: 'strata_bgp_rejected_routes',
      help: 'appliance routes currently refused by the import policy (from the log: the same on every instance)',
      labelNames: ['reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const r of Object.values(o.projection.state.routes)) if (r.status === 'rejected') this.inc({ reason: r.reason ?? 'unknown' });
      },
    });
  }

  /** Something the passes depend on changed (the projection applied a relevant event). */
  notify(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settleTimer);
    this.watchStream?.cancel();
    this.wakeUp?.();
    await this.loop;
    this.o.client.close();
  }

  private async run(): Promise<void> {
    let backoff = 200;
    while (!this.stopped) {
      if (!this.pending) {
        const timedOut = await this.sleep(this.o.resyncMs);
        if (this.stopped) break;
        if (timedOut) this.rib.invalidate(); // periodic: trust the RIB, not our memory
      }
      this.pending = false;
      try {
        await this.pass();
        this.m.passes.inc({ outcome: 'ok' });
        this.converged = true;
        backoff = 200;
      } catch (err) {
        if (this.stopped) break;
        this.m.passes.inc({ outcome: 'failed' });
        this.o.logger.warn({ err }, 'BGP gateway pass failed; retrying');
        this.engineLost = true;
        this.pending = true;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Resolves true after `ms`, false when woken first. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(true);
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(false);
      };
    });
  }

  private async pass(): Promise<void> {
    const state = this.o.projection.state;
    if (!state.config.settings) return;
    const conflicts: NeighbourConflicts = new Map();
    const neighbours = desiredNeighbours(state, conflicts);
    this.reportConflicts(conflicts, neighbours);
    if (this.engineLost) {
      this.rib.invalidate();
      this.engine.forget();
    }
    const sync = await this.engine.sync(state, neighbours);
    if (sync.started) {
      this.m.engineStarts.inc();
      this.o.logger.info({ localAs: state.config.settings.localAs }, 'gobgpd configured from Strata state');
      this.rib.invalidate();
    }
    if (this.engineLost || sync.started) {
      this.restartWatch();
      this.engineLost = false;
    }
    const r = await this.rib.reconcile(desiredAdvertisements(state));
    if (r.added) this.m.paths.inc({ op: 'add' }, r.added);
    if (r.withdrawn) this.m.paths.inc({ op: 'withdraw' }, r.withdrawn);
    this.m.advertised.set(this.rib.size);
    if (r.added || r.withdrawn) this.o.logger.info({ added: r.added, withdrawn: r.withdrawn, ribRead: r.read, total: this.rib.size }, 'advertisements reconciled');
    await this.recordObservations(neighbours);
  }

  /** A port refused an appliance address another port holds (domain/neighbours.ts): logged once per change. */
  private reportConflicts(conflicts: NeighbourConflicts, neighbours: ReadonlyMap<string, Neighbour>): void {
    const key = JSON.stringify([...conflicts].sort());
    if (key === this.lastConflicts) return;
    this.lastConflicts = key;
    for (const [address, losers] of conflicts) {
      const holder = neighbours.get(address);
      this.o.logger.warn({ address, holder: holder?.kind === 'appliance' ? { portId: holder.portId, tenant: holder.tenant } : holder?.kind, refusedPorts: losers }, 'appliance address claimed by several ports: the holder keeps the session');
    }
  }

  private restartWatch(): void {
    this.watchStream?.cancel();
    this.observer.reset();
    const stream = this.o.client.watch();
    this.watchStream = stream;
    stream.on('data', (ev: WatchEvent) => {
      if (this.observer.handle(ev)) this.notify();
      this.m.sessions.set(this.observer.established());
    });
    const lost = (why: string) => (err?: Error) => {
      if (this.watchStream !== stream || this.stopped) return;
      this.o.logger.warn({ err, why }, 'gobgpd watch ended: gobgpd restarted or unreachable');
      this.engineLost = true;
      this.notify();
    };
    stream.on('error', lost('error'));
    stream.on('end', lost('end'));
  }

  /** Record what established peers announce (and withdraw what vanished or lost its neighbour). */
  private async recordObservations(neighbours: ReadonlyMap<string, Neighbour>): Promise<void> {
    const state = this.o.projection.state;
    const now = Date.now();
    const targets: Targets = orphanTargets(state, neighbours);
    let nextSettle = Infinity;
    for (const n of neighbours.values()) {
      const s = this.observer.session(n.address);
      if (!s?.established) continue;
      const complete = now - s.since >= this.o.settleMs;
      if (!complete) nextSettle = Math.min(nextSettle, s.since + this.o.settleMs);
      for (const [id, t] of observationTargets(state, n, this.observer.announced(n.address), complete)) targets.set(id, t);
    }
    if (nextSettle !== Infinity) {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => this.notify(), Math.max(0, nextSettle - now) + 10);
    }
    for (const [id, t] of targets) {
      if (!differs(this.o.projection.state.routes[id], t.target)) continue;
      if (t.target?.status === 'rejected') {
        this.o.logger.warn({ peer: t.peer, prefix: t.prefix, reason: t.target.reason, deviceId: t.target.deviceId }, 'appliance route rejected by the import policy');
      }
      const meta = {
        caller: { actor: 'bgp-gateway', tenant: SYSTEM_TENANT, admin: true, requestId: randomUUID(), at: new Date().toISOString() },
        correlationId: `bgp-observation:${id}`,
        causationId: null,
        eventId: routeEventId,
      };
      const done = await this.o.executor.execute((s) => recordRoute(s, t.peer, t.prefix, t.target), meta);
      if (done.written) {
        const type = t.target === null ? 'withdrawn' : t.target.status;
        this.m.recorded.inc({ type });
        if (t.target?.status === 'rejected') this.m.rejected.inc({ reason: t.target.reason ?? 'unknown' });
      }
    }
  }
}
