/**
 * The agent's loop. Triggers (a host-view change, a port device appearing,
 * the periodic resync, a retry after a failure) are coalesced: at most one
 * reconcile runs at a time, and everything that arrived meanwhile causes one
 * more. Nothing is written to the kernel before the host view is in sync
 * with the control plane (`setView` is only called with a complete snapshot).
 * A failed reconcile is logged, reported in the status and retried with
 * backoff as a full resync; it never stops the process.
 */
import type { AgentStatus } from '@strata/contracts';
import type { HostViewSnapshot } from './core/snapshot.js';
import type { MemberChange } from './core/members.js';
import type { MemberApplyResult, ReconcileResult } from './reconcile.js';
import type { ViewChange } from './view/store.js';

export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ApplyReport {
  ok: boolean;
  seconds: number;
  result?: ReconcileResult;
  /** Set when the pass was the membership fast path (set elements only, no read or plan). */
  members?: MemberApplyResult;
  error?: unknown;
}

/**
 * The change journal of a host view (view/store.ts): what changed after a
 * position, so a pass can see that only member keys changed without
 * comparing whole views. `epoch` names the store: a re-watch starts a new one.
 */
export interface ViewJournal {
  epoch: number;
  /** The position after the last change (live: read it together with `view`). */
  readonly position: number;
  changesSince(from: number): ViewChange[] | null;
  trim(upTo: number): void;
}

/** The current host view; null until the initial snapshot is complete. */
export interface CurrentView {
  /** A complete snapshot (may be computed on access: read it only when needed). */
  readonly view: HostViewSnapshot;
  /** The KV revision the view includes. */
  revision: number;
  journal?: ViewJournal;
}

export type ViewSource = () => CurrentView | null;

export interface AgentOptions {
  hostId: string;
  view: ViewSource;
  reconciler: {
    reconcile(view: HostViewSnapshot): Promise<ReconcileResult>;
    /** Optional fast path for member-only changes since the last full reconcile (null: not applicable, do a full reconcile). */
    applyMemberChanges?(changes: MemberChange[]): Promise<MemberApplyResult | null>;
  };
  /** Period of the full resync that repairs drift. */
  resyncMs: number;
  /** Coalescing delay after a trigger (default 20 ms). */
  debounceMs?: number;
  /** First retry delay after a failure (default 250 ms, doubling up to resyncMs). */
  retryMs?: number;
  logger: AgentLogger;
  onStatus?: (status: AgentStatus) => void;
  onApplied?: (report: ApplyReport) => void;
  now?: () => Date;
}

export class Agent {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private interval: NodeJS.Timeout | undefined;
  private failures = 0;
  /** JSON of the last applied desired state, for the generation; null after a fast path patched it (computed again when needed). */
  private lastDesired: string | null = '';
  /** The journal position the kernel reflects after the last successful pass (the fast path's starting point); null after a failure. */
  private applied: { epoch: number; position: number } | null = null;
  /** The desired state of the last successful pass (patched by the fast path). */
  private lastDesiredState: ReconcileResult['desired'] | null = null;
  /** A trigger other than a host-view change is pending (resync, retry, a NIC): the next pass must be a full one. */
  private fullPending = true;
  private portDevices = new Map<string, boolean>();
  /** Links that appeared while a pass was running, before its result could say whether they are port devices. */
  private appearedDuringPass = new Set<string>();
  private inPass = false;
  private _generation = 0;
  private _status: AgentStatus | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: AgentOptions) {}

  get generation(): number {
    return this._generation;
  }

  get status(): AgentStatus | null {
    return this._status;
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

  /** The host view changed (the source has a complete snapshot). */
  viewChanged(): void {
    this.trigger('view');
  }

  /** A link appeared or disappeared: reconcile if it is a port device whose state changes. */
  onLink(name: string, deleted: boolean): void {
    const up = this.portDevices.get(name);
    if (up === undefined) {
      // A NIC can appear after the running pass read the kernel but before its result names it: look at it then.
      if (!deleted && this.inPass) this.appearedDuringPass.add(name);
      return;
    }
    if (up === deleted) this.trigger(deleted ? 'port-device-gone' : 'port-device-appeared');
  }

  trigger(reason: string, delayMs = this.o.debounceMs ?? 20): void {
    if (this.stopped) return;
    if (reason !== 'view' && reason !== 'coalesced') this.fullPending = true;
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
    this.running = this.pass(current).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.trigger('coalesced');
      }
      this.settle();
    });
    return this.running;
  }

  private settle(): void {
    if (!this.running && !this.timer) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async pass(current: CurrentView): Promise<void> {
    const started = performance.now();
    const now = (): string => (this.o.now ? this.o.now() : new Date()).toISOString();
    const revision = current.revision;
    this.inPass = true;
    try {
      // Decided synchronously, so the changes and the position belong together.
      const changes = this.memberOnlyChanges(current);
      if (changes && (await this.memberPass(changes.list, changes.position, current.journal!.epoch, revision, started, now))) {
        current.journal!.trim(changes.position);
        return;
      }
      this.fullPending = false;
      // The snapshot and its journal position, read together (no await in between).
      const view = current.view;
      const position = current.journal ? { epoch: current.journal.epoch, position: current.journal.position } : null;
      const previousDesired = this.lastDesiredState;
      const result = await this.o.reconciler.reconcile(view);
      const seconds = (performance.now() - started) / 1000;
      this.failures = 0;
      if (this.lastDesired === null) this.lastDesired = previousDesired ? JSON.stringify([previousDesired.kernel, previousDesired.dhcp]) : '';
      this.applied = position;
      this.lastDesiredState = result.desired;
      if (position) current.journal!.trim(position.position);
      const desired = JSON.stringify([result.desired.kernel, result.desired.dhcp]);
      if (desired !== this.lastDesired) {
        this.lastDesired = desired;
        this._generation++;
      }
      this.portDevices = new Map(result.desired.ports.map((p) => [p.device, result.portsUp.includes(p.id)]));
      const missed = [...this.appearedDuringPass].some((d) => this.portDevices.get(d) === false);
      this.appearedDuringPass.clear();
      if (missed) this.again = true;
      const ops = result.plan.batches.reduce((n, b) => n + b.ops.length, 0);
      if (ops > 0) this.o.logger.info({ ops, seconds, generation: this._generation, revision }, 'applied');
      this.publish({ generation: this._generation, viewRevision: revision, appliedAt: now(), portsUp: result.portsUp, portsDown: result.portsDown, error: null });
      this.o.onApplied?.({ ok: true, seconds, result });
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      this.applied = null;
      this.fullPending = true;
      this.failures++;
      const message = error instanceof Error ? error.message : String(error);
      this.o.logger.error({ err: error, failures: this.failures }, 'reconcile failed; will resync');
      const prev = this._status;
      this.publish({
        generation: this._generation,
        viewRevision: prev?.viewRevision ?? 0,
        appliedAt: prev?.appliedAt ?? now(),
        portsUp: prev?.portsUp ?? [],
        portsDown: prev?.portsDown ?? [],
        error: message,
      });
      this.o.onApplied?.({ ok: false, seconds, error });
      const retry = Math.min((this.o.retryMs ?? 250) * 2 ** (this.failures - 1), this.o.resyncMs);
      this.trigger('retry', retry);
    } finally {
      this.inPass = false;
    }
  }

  /** The member changes since the last pass, when they are all there is to do (else null: a full reconcile). */
  private memberOnlyChanges(current: CurrentView): { list: MemberChange[]; position: number } | null {
    const j = current.journal;
    if (this.fullPending || !this.applied || !j || j.epoch !== this.applied.epoch || !this.o.reconciler.applyMemberChanges) return null;
    const changes = j.changesSince(this.applied.position);
    if (changes === null || changes.some((c) => c.field !== 'members')) return null;
    return { list: changes.map((c) => ({ ...(c.before ? { before: c.before } : {}), ...(c.after ? { after: c.after } : {}) }) as MemberChange), position: j.position };
  }

  /**
   * The membership fast path: the member changes as one set-element
   * transaction. True when it handled them; a failure falls back to the full
   * reconcile in the same pass.
   */
  private async memberPass(changes: MemberChange[], position: number, epoch: number, revision: number, started: number, now: () => string): Promise<boolean> {
    let r: MemberApplyResult | null;
    try {
      r = await this.o.reconciler.applyMemberChanges!(changes);
    } catch (err) {
      this.o.logger.warn({ err }, 'membership fast path failed; running a full reconcile');
      this.applied = null;
      return false;
    }
    if (r === null) return false;
    const seconds = (performance.now() - started) / 1000;
    this.failures = 0;
    this.applied = { epoch, position };
    this.lastDesiredState = r.desired;
    const ops = r.added + r.deleted;
    if (ops > 0) {
      this.lastDesired = null;
      this._generation++;
      this.o.logger.info({ ops, seconds, generation: this._generation, revision, fastPath: true }, 'applied');
    }
    const prev = this._status;
    this.publish({ generation: this._generation, viewRevision: revision, appliedAt: now(), portsUp: prev?.portsUp ?? [], portsDown: prev?.portsDown ?? [], error: null });
    this.o.onApplied?.({ ok: true, seconds, members: r });
    return true;
  }

  private publish(s: Omit<AgentStatus, 'hostId'>): void {
    this._status = { hostId: this.o.hostId, ...s };
    try {
      this.o.onStatus?.(this._status);
    } catch (err) {
      this.o.logger.warn({ err }, 'status publish failed');
    }
  }
}
