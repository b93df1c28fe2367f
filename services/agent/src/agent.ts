/**
 * The agent's loop: scheduling, backoff and its report. Triggers (a host-view
 * change, a port device appearing, the periodic resync, a retry after a
 * failure) are coalesced: at most one pass runs at a time, and everything
 * that arrived meanwhile causes one more. Nothing is written to the kernel
 * before the host view is in sync with the control plane (the view source
 * yields only complete snapshots). What a pass does, and the record of what
 * is applied, is the dataplane's (dataplane/dataplane.ts); the agent says
 * when a pass must be a full one (a resync, a retry, a NIC). A failed pass is
 * logged, reported and retried with backoff as a full resync; it never
 * stops the process.
 *
 * After every pass (applied or failed) it makes its report
 * (libs/contracts/src/status/reports.ts): the position of the view the
 * kernel now reflects, each local port's state, the last error. Publishing
 * it, the heartbeat and answering a resync request are the service's
 * (service.ts).
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { AgentHeartbeat, AgentReport, ReportedPort } from '@strata/contracts';
import { extractTrace, withSpan } from '@strata/runtime';
import type { MemberApplyResult, PassResult, ReconcileResult } from './dataplane/dataplane.js';
import type { AgentLogger } from './logger.js';
import type { CurrentView, ViewSource } from './view/current.js';

export type { AgentLogger } from './logger.js';

/** A whole host-view write's pass waits until the loop has rested this many times the last pass's duration. */
export const REST_FACTOR = 2;

/** ms until the loop has rested REST_FACTOR × the last pass (none yet: 0), at most `maxMs` (the coalescing delay). */
export function restDelay(last: { startedAt: number; endedAt: number } | undefined, now: number, maxMs: number): number {
  if (!last) return 0;
  return Math.min(maxMs, Math.max(0, last.endedAt + REST_FACTOR * (last.endedAt - last.startedAt) - now));
}

/**
 * The pass a `reason` needs: `read` the kernel (the periodic resync and
 * retries, so that drift is repaired), a `full` one (the whole view against
 * the kernel: a NIC came or went, which no journal entry says, and the
 * dataplane is told of every link, so its model of the kernel knows it), or
 * any (`fast` when the journal's changes have fast paths: a view change).
 */
export function passFor(reason: string, followsLinks: boolean): 'fast' | 'full' | 'read' {
  if (reason === 'view' || reason === 'coalesced') return 'fast';
  if (reason === 'port-device-appeared' || reason === 'port-device-gone') return followsLinks ? 'full' : 'read';
  return 'read';
}

export interface ApplyReport {
  ok: boolean;
  seconds: number;
  result?: ReconcileResult;
  /** Set when the pass was a fast path (e.g. membership: set elements only, no read or plan). */
  members?: MemberApplyResult;
  error?: unknown;
}

export interface AgentOptions {
  hostId: string;
  view: ViewSource;
  dataplane: {
    /** One pass: a fast one when the dataplane can and `full` is not asked for; a pass that reads the kernel when `read` is. */
    sync(current: CurrentView, opts: { full: boolean; read: boolean }): Promise<PassResult>;
    readonly generation: number;
    /** Whether it is told of every link (onLink): then a NIC coming or going needs no read of the kernel. */
    readonly followsLinks?: boolean;
    linkChanged?(name: string, gone: boolean): void;
    linksLost?(): void;
  };
  /** Period of the full resync that repairs drift. */
  resyncMs: number;
  /** Coalescing delay after a trigger (default 20 ms; a whole host-view write is paced instead: viewChanged). */
  debounceMs?: number;
  /** First retry delay after a failure (default 250 ms, doubling up to resyncMs). */
  retryMs?: number;
  logger: AgentLogger;
  /** The same in every report of this process. */
  identity: AgentIdentity;
  /** After every pass: the full report. */
  onReport?: (report: AgentReport) => void;
  onApplied?: (report: ApplyReport) => void;
  now?: () => Date;
}

/** What names this agent process in its reports. */
export interface AgentIdentity {
  /** Random per process: a new one tells the status service the agent restarted. */
  bootId: string;
  /** The agent's package version. */
  version: string;
  startedAt: string;
}

/** A report without its send time: what the last passes established. */
type ReportState = Omit<AgentReport, 'hostId' | 'bootId' | 'version' | 'startedAt' | 'sentAt'>;

export class Agent {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private interval: NodeJS.Timeout | undefined;
  private failures = 0;
  /** A trigger other than a host-view change is pending (resync, retry, a NIC): the next pass must be a full one. */
  private fullPending = true;
  /** …and one that reads the kernel (resync, retry, the first pass), not a kept one (passFor). */
  private readPending = true;
  private portDevices = new Map<string, boolean>();
  /** Links that appeared while a pass was running, before its result could say whether they are port devices. */
  private appearedDuringPass = new Set<string>();
  private inPass = false;
  /** The last pass's start and end (performance.now()): the pacing of whole host-view writes. */
  private lastPass: { startedAt: number; endedAt: number } | undefined;
  /** A whole host-view write arrived while a pass ran: the follow-up pass is paced, not delayed. */
  private wholeDuringPass = false;
  private state: ReportState = { generation: 0, appliedPosition: null, viewRevision: 0, appliedAt: null, ports: [], error: null };
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: AgentOptions) {}

  get generation(): number {
    return this.o.dataplane.generation;
  }

  /** The full report as of now (sent after every pass, and when the status service asks). */
  report(): AgentReport {
    return { ...this.identityNow(), ...this.state };
  }

  /** The heartbeat as of now. */
  heartbeat(): AgentHeartbeat {
    const { generation, appliedPosition, error } = this.state;
    return { ...this.identityNow(), generation, appliedPosition, error };
  }

  private identityNow(): Pick<AgentReport, 'hostId' | 'bootId' | 'version' | 'startedAt' | 'sentAt'> {
    const { bootId, version, startedAt } = this.o.identity;
    return { hostId: this.o.hostId, bootId, version, startedAt, sentAt: this.now() };
  }

  private now(): string {
    return (this.o.now ? this.o.now() : new Date()).toISOString();
  }

  /** Whether a complete host view is available (before that, the kernel is left alone). */
  get synced(): boolean {
    return this.o.view() !== null;
  }

  start(): void {
    this.stopped = false;
    this.interval = setInterval(() => this.trigger('resync'), this.o.resyncMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * The host view changed (the source has a complete snapshot). `whole`:
   * hostview's position moved, so one of its writes has arrived whole (a
   * membership change, a port): its pass starts as soon as the loop has
   * rested twice as long as the last pass took (at once after a quiet
   * spell; passes then use at most a third of the agent's time however fast
   * writes come), never later than the coalescing delay. Any other key
   * waits for that delay (the rest of its write is on its way). Before
   * issue 21 every change waited 20 ms: 20 of the ~22 ms from a membership
   * change's ack to the kernel with one agent (docs/performance.md).
   */
  viewChanged(whole = false): void {
    if (whole && this.running) this.wholeDuringPass = true;
    this.trigger('view', whole ? this.restMs() : undefined);
  }

  private restMs(): number {
    return restDelay(this.lastPass, performance.now(), this.o.debounceMs ?? 20);
  }

  /** A link appeared or disappeared: reconcile if it is a port device whose state changes. */
  onLink(name: string, deleted: boolean): void {
    this.o.dataplane.linkChanged?.(name, deleted);
    const up = this.portDevices.get(name);
    if (up === undefined) {
      // A NIC can appear after the running pass read the kernel but before its result names it: look at it then.
      if (!deleted && this.inPass) this.appearedDuringPass.add(name);
      return;
    }
    if (up === deleted) this.trigger(deleted ? 'port-device-gone' : 'port-device-appeared');
  }

  /** The link monitor restarted: links may have come and gone unseen, so the next pass reads the kernel. */
  linksLost(): void {
    this.o.dataplane.linksLost?.();
    this.trigger('link-monitor-restarted');
  }

  trigger(reason: string, delayMs: number = this.o.debounceMs ?? 20): void {
    if (this.stopped) return;
    const needs = passFor(reason, this.o.dataplane.followsLinks === true);
    if (needs !== 'fast') this.fullPending = true;
    if (needs === 'read') this.readPending = true;
    this.o.logger.debug({ reason }, 'reconcile requested');
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      void this.run().then(() => this.settle());
    }, delayMs);
  }

  /** Run one reconcile now (or wait for the running one and run again); resolves when it is done. */
  async reconcileNow(): Promise<void> {
    while (this.running) await this.running;
    await this.run();
  }

  /** Resolves once no reconcile is running or scheduled. */
  whenIdle(): Promise<void> {
    if (!this.running && !this.timer) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const current = this.stopped ? null : this.o.view();
    if (current === null) return Promise.resolve();
    const startedAt = performance.now();
    this.running = this.pass(current).finally(() => {
      this.running = null;
      this.lastPass = { startedAt, endedAt: performance.now() };
      if (this.again) {
        this.again = false;
        const whole = this.wholeDuringPass;
        this.trigger('coalesced', whole ? this.restMs() : undefined);
      }
      this.wholeDuringPass = false;
      this.settle();
    });
    return this.running;
  }

  private settle(): void {
    if (!this.running && !this.timer) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * One pass as a span. A pass that applies a view position this agent has
   * not applied yet continues the trace hostview wrote with it (the command
   * that changed the view); any other (a resync, a retry, a NIC) is a trace
   * of its own.
   */
  private pass(current: CurrentView): Promise<void> {
    // Read with the view (no await before the dataplane reads it): the position and its trace belong together.
    const position = current.viewPosition;
    const applying = position !== null && position !== this.state.appliedPosition;
    const attributes = { 'strata.host': this.o.hostId, 'strata.full': this.fullPending, 'strata.read': this.readPending, ...(position === null ? {} : { 'strata.view.position': position }) };
    return withSpan('agent apply', attributes, extractTrace(applying ? current.viewTrace : undefined), (span) => this.applyPass(current, span));
  }

  private async applyPass(current: CurrentView, span: Span): Promise<void> {
    const started = performance.now();
    const full = this.fullPending;
    const read = this.readPending;
    this.fullPending = false;
    this.readPending = false;
    this.inPass = true;
    try {
      const out = await this.o.dataplane.sync(current, { full, read });
      const seconds = (performance.now() - started) / 1000;
      this.failures = 0;
      const generation = this.o.dataplane.generation;
      const revision = out.revision;
      const applied = { generation, viewRevision: revision, appliedPosition: out.viewPosition, appliedAt: this.now(), error: null };
      if (out.kind === 'fast') {
        const ops = out.fast.added + out.fast.deleted;
        span.setAttributes({ 'strata.ops': ops, 'strata.fast_path': true });
        if (ops > 0) this.o.logger.info({ ops, seconds, generation, revision, fastPath: true }, 'applied');
        // A fast path changes set elements or steering only, never a port's plug, and follows a successful pass
        // (a failure makes the next pass full): the last full pass's port states hold.
        this.publish({ ...applied, ports: this.state.ports });
        this.o.onApplied?.({ ok: true, seconds, members: out.fast });
        return;
      }
      const result = out.result;
      const present = new Set(result.actual.devices);
      this.portDevices = new Map(result.desired.ports.map((p) => [p.device, present.has(p.device)]));
      const missed = [...this.appearedDuringPass].some((d) => this.portDevices.get(d) === false);
      this.appearedDuringPass.clear();
      // Look again: the journal may hold nothing new, so not a fast pass; a kept one when the dataplane has seen the NIC come.
      if (missed) {
        this.again = true;
        this.fullPending = true;
        this.readPending ||= this.o.dataplane.followsLinks !== true;
      }
      const ops = result.plan.batches.reduce((n, b) => n + b.ops.length, 0);
      span.setAttribute('strata.ops', ops);
      if (ops > 0) this.o.logger.info({ ops, seconds, generation, revision, read: result.read, ms: result.ms }, 'applied');
      this.publish({ ...applied, ports: result.ports });
      this.o.onApplied?.({ ok: true, seconds, result });
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      this.fullPending = true;
      this.readPending = true;
      this.failures++;
      const message = error instanceof Error ? error.message : String(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      this.o.logger.error({ err: error, failures: this.failures }, 'reconcile failed; will resync');
      // The kernel is somewhere between the last applied view and this one: every port of the view it tried is in error
      // until a pass succeeds; what was applied before (its position and revision) is still the last applied.
      const ports = Object.keys(current.view.ports)
        .sort()
        .map((portId): ReportedPort => ({ portId, state: 'error', reason: message }));
      this.publish({ ...this.state, generation: this.o.dataplane.generation, ports, error: message });
      this.o.onApplied?.({ ok: false, seconds, error });
      const retry = Math.min((this.o.retryMs ?? 250) * 2 ** (this.failures - 1), this.o.resyncMs);
      this.trigger('retry', retry);
    } finally {
      this.inPass = false;
    }
  }

  private publish(s: ReportState): void {
    this.state = s;
    try {
      this.o.onReport?.(this.report());
    } catch (err) {
      this.o.logger.warn({ err }, 'report publish failed');
    }
  }
}
