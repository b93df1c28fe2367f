/**
 * The gateway's control loop: one pass at a time, run when the state
 * changed, when gobgpd reported something, and on a resync timer.
 *
 *   1. engine: gobgpd started with the settings, policy, neighbours
 *      (a gobgpd that lost its config, i.e. restarted, is configured again);
 *   2. RIB: desired advertisements vs what Strata originated in gobgpd;
 *   3. observations: what established appliance sessions announce, recorded
 *      as events (app/recorder.ts); what switches and other zones announce
 *      (app/physical-recorder.ts, app/zone-recorder.ts); sessions the engine
 *      stopped at their prefix limit, recorded and re-enabled
 *      (app/session-limits.ts).
 *
 * Any failure (gobgpd down, a NATS hiccup) ends the pass; the next one, after
 * a backoff that nothing but stopping interrupts (app/backoff.ts), starts by
 * checking gobgpd again: one warning per outage, one line when it is over.
 * Nothing here crashes the process.
 * Stopping the gateway leaves gobgpd running with its routes: a restarted
 * gateway reads the RIB and changes only the difference.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { StoredEvent } from '@strata/eventlog';
import { Gauge } from 'prom-client';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import type { Executor } from '@strata/service-kit';
import { DesiredChanges, DesiredTable } from '../domain/desired-table.js';
import { desiredEvpn } from '../domain/evpn.js';
import { desiredFederation, mergeEvpn } from '../domain/federation.js';
import { unscopedRoutedSubnets } from '../domain/routed-scope.js';
import type { NewBgpEvent } from '../domain/decide/index.js';
import { desiredNeighbours, type Neighbour, type NeighbourConflicts } from '../domain/neighbours.js';
import type { BgpState } from '../domain/state.js';
import type { GobgpClient } from '../gobgp/client.js';
import type { WatchEvent } from '../gobgp/proto.js';
import { Backoff } from './backoff.js';
import { EngineSync, engineInputs } from './engine.js';
import { registerStateGauges } from './gauges.js';
import { Observer } from './observer.js';
import { nextPassStart, type PassSpan } from './pacing.js';
import { PhysicalRecorder } from './physical-recorder.js';
import { RouteRecorder } from './recorder.js';
import { RibReconciler } from './rib.js';
import type { Secrets } from './secrets.js';
import { SessionLimits } from './session-limits.js';
import { ZoneRecorder } from './zone-recorder.js';

export interface GatewayOptions {
  client: GobgpClient;
  projection: { readonly state: BgpState; waitFor(seq: number): Promise<void> };
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
  /** Wait before re-enabling an appliance session the engine stopped at its prefix limit (doubles per recent trip). */
  limitRetryMs: number;
  /** The version of a route aggregate in the store (a route the state has forgotten). */
  routeVersion: (id: string) => Promise<number>;
  /** Injected for tests; default Date.now. */
  now?: () => number;
}

const INITIAL_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/** Why the loop woke: a state change, something from gobgpd or a timer (paced differently: app/pacing.ts), or stop. */
type Wake = 'state' | 'engine' | 'stop';

export class BgpGateway {
  private readonly engine: EngineSync;
  private readonly rib: RibReconciler;
  /** The desired unicast advertisements, kept change by change, and the changes since the last pass. */
  private readonly desired = new DesiredTable();
  private readonly changes = new DesiredChanges();
  private readonly observer: Observer;
  private readonly recorder: RouteRecorder;
  private readonly physical: PhysicalRecorder;
  private readonly zones: ZoneRecorder;
  private readonly limits: SessionLimits;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  /** Addresses of the current appliance neighbours (whose tables the observer keeps). */
  private appliances = new Set<string>();
  /** Addresses of the current `evpn` switches (whose EVPN tables the observer keeps). */
  private switches = new Set<string>();
  /** Addresses of the federation's route reflectors (whose EVPN tables the observer keeps with communities). */
  private reflectors = new Set<string>();
  private watchStream: ClientReadableStream<WatchEvent> | undefined;
  /** gobgpd must be checked and configured from scratch (first pass, or its watch stream ended). */
  private engineLost = true;
  private stopped = false;
  /** Ends the current sleep if it waits for this kind of wake-up (stop ends any). */
  private wakeUp: ((cause: Wake) => void) | undefined;
  private pending = true;
  /** A state change is among the pending wake-ups (its pass is paced by the last pass's duration, not the interval). */
  private stateChanged = true;
  /** When the first wake-up since the last pass start arrived (performance.now()): how long a change waited for its pass. */
  private pendingSince: number | undefined = performance.now();
  /**
   * engineInputs() of the last successful engine sync without unresolved secrets; the engine is
   * synced again when they change, gobgpd was lost, or on the periodic resync.
   */
  private syncedInputs: string | undefined;
  private lastPass: PassSpan | undefined;
  private loop: Promise<void> | undefined;
  private wakeTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  private lastConflicts = '[]';
  /** Routed subnets already reported as outside the routed address space (reportUnscoped). */
  private readonly warnedUnscoped = new Set<string>();
  private readonly m;
  /** True once a pass completed: readiness. */
  converged = false;

  constructor(private readonly o: GatewayOptions) {
    this.now = o.now ?? Date.now;
    this.engine = new EngineSync(o.client, o.secrets, o.logger, o.routerId);
    this.rib = new RibReconciler(o.client);
    this.observer = new Observer(
      this.now,
      (peer) => this.appliances.has(peer),
      (peer) => this.switches.has(peer),
      (peer) => this.reflectors.has(peer),
    );
    this.recorder = new RouteRecorder({ ...o, observer: this.observer, now: this.now });
    this.physical = new PhysicalRecorder({ ...o, observer: this.observer, now: this.now });
    this.zones = new ZoneRecorder({ ...o, observer: this.observer, now: this.now });
    this.limits = new SessionLimits({ ...o, observer: this.observer, retryBaseMs: o.limitRetryMs, now: this.now, wake: () => this.wake('engine') });
    this.backoff = new Backoff({ initialMs: INITIAL_BACKOFF_MS, maxMs: MAX_BACKOFF_MS, now: this.now });
    const reg = [o.metrics.registry];
    this.m = {
      passes: o.metrics.counter('strata_bgp_passes_total', 'reconcile passes of the BGP gateway', ['outcome']),
      paths: o.metrics.counter('strata_bgp_rib_changes_total', 'paths added to / withdrawn from gobgpd', ['op']),
      engineStarts: o.metrics.counter('strata_bgp_engine_starts_total', 'times gobgpd was found unconfigured (first start or restart) and configured'),
      engineFailures: o.metrics.counter('strata_bgp_engine_failures_total', 'outages: runs of failed passes (gobgpd or NATS unreachable), counted once each'),
      engineUp: new Gauge({ name: 'strata_bgp_engine_up', help: '1 while passes succeed, 0 during an outage', registers: reg }),
      advertised: new Gauge({ name: 'strata_bgp_advertised_routes', help: 'paths Strata originates in gobgpd', registers: reg }),
      sessions: new Gauge({ name: 'strata_bgp_established_sessions', help: 'BGP sessions in state Established', registers: reg }),
    };
    registerStateGauges(o.metrics.registry, { routes: () => o.projection.state.routes, observer: this.observer, rejections: this.recorder.rejections });
  }

  /** The projection applied `event`, one the gateway follows (service.ts): note what it touched, and pass. */
  notify(event: StoredEvent): void {
    this.changes.note(event);
    this.wake('state');
  }

  private wake(cause: 'state' | 'engine'): void {
    this.pending = true;
    if (cause === 'state') this.stateChanged = true;
    this.pendingSince ??= performance.now();
    this.wakeUp?.(cause);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer?.timer);
    this.limits.stop();
    this.watchStream?.cancel();
    this.wakeUp?.('stop');
    await this.loop;
    this.o.client.close();
  }

  private async run(): Promise<void> {
    this.m.engineUp.set(1);
    while (!this.stopped) {
      if (!this.pending) {
        const timedOut = await this.sleep(this.o.resyncMs, ['state', 'engine']);
        if (this.stopped) break;
        if (timedOut) {
          this.rib.invalidate(); // periodic: trust the RIB, not our memory
          this.syncedInputs = undefined; // and check gobgpd's configuration
          this.changes.everything(); // and rebuild the desired table (repairs any drift of the incremental path)
        }
      }
      // Paced (app/pacing.ts); a state change arriving meanwhile may shorten the wait.
      for (let wait = nextPassStart(this.lastPass, this.stateChanged) - this.now(); wait > 0 && !this.stopped; wait = nextPassStart(this.lastPass, this.stateChanged) - this.now()) {
        await this.sleep(wait, ['state']);
      }
      if (this.stopped) break;
      const startedAt = this.now();
      this.pending = false;
      this.stateChanged = false;
      const waitedMs = this.pendingSince === undefined ? 0 : performance.now() - this.pendingSince;
      this.pendingSince = undefined;
      try {
        await this.pass(waitedMs);
        this.lastPass = { startedAt, endedAt: this.now() };
        this.m.passes.inc({ outcome: 'ok' });
        this.converged = true;
        const recovered = this.backoff.succeeded();
        if (recovered) {
          this.m.engineUp.set(1);
          this.o.logger.info(recovered, 'BGP gateway passes succeed again');
        }
      } catch (err) {
        if (this.stopped) break;
        this.m.passes.inc({ outcome: 'failed' });
        const f = this.backoff.failed();
        if (f.outageStarted) {
          this.m.engineFailures.inc();
          this.m.engineUp.set(0);
          this.o.logger.warn({ err }, 'BGP gateway pass failed (gobgpd or NATS unreachable?); retrying with backoff, quietly until a pass succeeds');
        } else this.o.logger.debug({ err, failures: f.failures, delayMs: f.delayMs }, 'BGP gateway pass failed again');
        this.lastPass = { startedAt, endedAt: this.now() };
        this.engineLost = true;
        this.syncedInputs = undefined;
        this.changes.everything(); // the pass may have stopped half-way through the table's update
        this.pending = true;
        // Events that arrive meanwhile are picked up by the next pass; they do not cut the backoff short.
        await this.sleep(f.delayMs, []);
      }
    }
  }

  /** Resolves true after `ms`, false when woken first (by the wake-ups in `wakeOn`, always by stop). */
  private sleep(ms: number, wakeOn: readonly Wake[]): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(true);
      }, ms);
      this.wakeUp = (cause) => {
        if (cause !== 'stop' && !wakeOn.includes(cause)) return;
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(false);
      };
    });
  }

  /** Run a pass at `at` (ms since epoch) at the latest: a session settles, a damped route becomes reusable. */
  private wakeAt(at: number): void {
    if (at === Infinity || (this.wakeTimer && this.wakeTimer.at <= at && this.wakeTimer.at > this.now())) return;
    clearTimeout(this.wakeTimer?.timer);
    const timer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wake('engine');
    }, Math.max(0, at - this.now()) + 10);
    this.wakeTimer = { at, timer };
  }

  /** `waitedMs`: from the first change it handles to its start (logged with the pass's own timings). */
  private async pass(waitedMs: number): Promise<void> {
    const t0 = performance.now();
    const state = this.o.projection.state;
    if (!state.config.settings) return;
    const conflicts: NeighbourConflicts = new Map();
    const neighbours = desiredNeighbours(state, conflicts);
    this.reportConflicts(conflicts, neighbours);
    this.reportUnscoped(state);
    this.appliances = new Set([...neighbours.values()].filter((n) => n.kind === 'appliance').map((n) => n.address));
    this.switches = new Set([...neighbours.values()].filter((n) => n.kind === 'evpn').map((n) => n.address));
    this.reflectors = new Set([...neighbours.values()].filter((n) => n.kind === 'reflector').map((n) => n.address));
    this.observer.retain(new Set(neighbours.keys()));
    if (this.engineLost) {
      this.rib.invalidate();
      this.engine.forget();
    }
    // Configuration follows the state: with no change to what the sync reads since the last one (a pass
    // woken by an appliance's updates, or by a floating IP's event), gobgpd needs no check; a lost gobgpd
    // shows as a broken watch. A neighbour left out for a missing secret is retried on every pass.
    const inputs = engineInputs(state, neighbours);
    let started = false;
    if (this.engineLost || inputs !== this.syncedInputs) {
      const sync = await this.engine.sync(state, neighbours);
      this.syncedInputs = sync.unresolved.length === 0 ? inputs : undefined;
      started = sync.started;
    }
    if (started) {
      this.m.engineStarts.inc();
      this.o.logger.info({ localAs: state.config.settings.localAs }, 'gobgpd configured from Strata state');
      this.rib.invalidate();
    }
    if (this.engineLost || started) {
      this.restartWatch();
      this.engineLost = false;
    }
    // Appliance routes are advertised only while this instance's session is up: until the engine has
    // reported every session, leave the RIB alone (a restarted gateway must not withdraw and re-send them).
    if (!this.observer.complete) return;
    const now = this.now();
    const live = { now, sessionUp: (address: string) => this.observer.usable(address) };
    const routerId = this.o.routerId ?? state.config.settings.routerId;
    const t1 = performance.now();
    const changed = this.desired.update(state, this.changes, neighbours, live);
    const desiredEvpnRoutes = mergeEvpn(desiredEvpn(state, routerId), desiredFederation(state));
    const t2 = performance.now();
    const r = await this.rib.reconcile(this.desired.desired, desiredEvpnRoutes, changed === 'all' ? undefined : changed);
    // The RIB now holds this zone's routes: a new reflector session carries them all before its End-of-RIB.
    await this.engine.openReflectors();
    const t3 = performance.now();
    const [added, withdrawn] = [r.added + r.evpnAdded, r.withdrawn + r.evpnWithdrawn];
    if (added) this.m.paths.inc({ op: 'add' }, added);
    if (withdrawn) this.m.paths.inc({ op: 'withdraw' }, withdrawn);
    this.m.advertised.set(this.rib.size);
    if (added || withdrawn) {
      const timing = { waitedMs: ms(waitedMs), syncMs: ms(t1 - t0), desiredMs: ms(t2 - t1), applyMs: ms(t3 - t2), passMs: ms(t3 - t0) };
      this.o.logger.info({ added: r.added, withdrawn: r.withdrawn, evpnAdded: r.evpnAdded, evpnWithdrawn: r.evpnWithdrawn, ribRead: r.read, total: this.rib.size, timing }, 'advertisements reconciled');
    }
    const due = Math.min(await this.recorder.record(neighbours), await this.physical.record(neighbours), await this.zones.record(neighbours));
    this.wakeAt(Math.min(due, this.observer.nextReuse()));
    await this.limits.check(neighbours, this.o.routerId ?? state.config.settings.routerId);
  }

  /** A routed subnet outside every routed pool (an old log, a bug): not advertised (domain/routed-scope.ts), logged once per subnet. */
  private reportUnscoped(state: BgpState): void {
    for (const s of unscopedRoutedSubnets(state)) {
      if (this.warnedUnscoped.has(s.subnetId)) continue;
      this.warnedUnscoped.add(s.subnetId);
      this.o.logger.warn(s, 'routed subnet outside every routed pool: not advertised (an operator must create a routed pool containing it)');
    }
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
      const wasComplete = this.observer.complete;
      // The end of the initial report is what the RIB pass waits for after a start: a change, not a paced report.
      if (this.observer.handle(ev)) this.wake(!wasComplete && this.observer.complete ? 'state' : 'engine');
      this.m.sessions.set(this.observer.established());
    });
    const lost = (why: string) => (err?: Error) => {
      if (this.watchStream !== stream || this.stopped) return;
      // Info, not a warning: if gobgpd is really gone, the failing pass warns (once per outage).
      this.o.logger.info({ err: err?.message, why }, 'gobgpd watch ended: gobgpd restarted or unreachable');
      this.engineLost = true;
      this.wake('engine');
    };
    stream.on('error', lost('error'));
    stream.on('end', lost('end'));
  }
}

/** A duration for the log: ms with one decimal. */
const ms = (x: number): number => Math.round(x * 10) / 10;
