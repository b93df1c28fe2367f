/**
 * The dataplane: brings this host's kernel to the host view, and owns the
 * record of what it applied (the view and its journal position and
 * revision, each manager's part of the desired state, the fast paths'
 * indexes) and the generation.
 *
 * A pass is either
 * - full: every manager's part (compose.ts) → read the kernel → plan
 *   (core/diff.ts) → apply, with the managers' own kernel work around it.
 *   Stateless with respect to the kernel: it starts from what the kernel
 *   really has, which is what makes it repair drift and finish an
 *   interrupted apply. The kernel can change under a plan (a VM's tap
 *   vanishes while its namespace is destroyed): a failed apply is read,
 *   planned and applied again, up to `attempts` rounds.
 * - kept: the same, planned against the kernel as the last pass left it
 *   (the diff's own model of it, core/model.ts) instead of a fresh read,
 *   when the agent tells the dataplane of every link that appears or goes
 *   (`followsLinks`: which port devices exist is then known without a
 *   read). A view change that no fast path takes (a new port) then costs
 *   its own kernel objects, not a read of the whole host (~70 % of a
 *   full pass with ~120 ports). A kernel that is not what the model says
 *   refuses the plan (ApplyError): the same call then reads it and runs a
 *   full pass. The full pass stays the reference: the periodic resync, a
 *   retry, a restarted link monitor and the first pass read the kernel.
 * - fast: the typed changes since the last pass, when every one of them is
 *   handled by some manager's fast path (and the caller asked for no full
 *   pass). A change of the view's position alone (hostview's
 *   `<h>.position.view`) changes no kernel object: it is a fast pass with
 *   nothing to apply, that only moves the applied position. A fast path that declines or fails falls back to a full pass in
 *   the same call. When only some changes have a fast path, those go first
 *   and the full pass follows (it recomputes everything: the reference).
 *
 * The generation counts changes of the desired state: a full pass compares
 * each manager's part with the one it applied before, structurally; a fast
 * path changed it when it added or deleted something.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ReportedPort } from '@strata/contracts';
import type { DesiredOptions, DesiredState } from '../core/desired.js';
import { diff, diffTo } from '../core/diff.js';
import { deviceAppeared, deviceGone } from '../core/model.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { ActualState, Plan } from '../core/types.js';
import { ApplyError, applyPlan } from '../kernel/apply.js';
import { readActual } from '../kernel/read.js';
import type { AgentLogger } from '../logger.js';
import { isObjectChange, viewDelta, type CurrentView, type ViewDelta } from '../view/current.js';
import { composeDesired } from './compose.js';
import type { DesiredPart, FastApplier, FastPathResult, HostIo, Manager, ManagerRuntime, RuleCounter } from './manager.js';

/** The kernel as the full pass uses it (the host's, through iproute2 and nft; a fake in the agent's unit tests). */
export interface KernelPort {
  read(): Promise<ActualState>;
  /** Throws ApplyError when a batch fails (the pass then reads and plans again). */
  apply(plan: Plan): Promise<void>;
}

export const hostKernel = (io: Pick<HostIo, 'exec' | 'nsPrefix' | 'nft'>): KernelPort => ({
  read: () => readActual(io.exec, io.nsPrefix),
  apply: (plan) => applyPlan(io.exec, plan, io.nft),
});

export interface DataplaneOptions {
  /** In registration order (managers.ts). */
  managers: readonly Manager[];
  io: HostIo;
  /** Default: the host's kernel through `io.exec`. */
  kernel?: KernelPort;
  leaseSeconds?: number;
  /** Read-plan-apply rounds before a failed apply is reported (default 3). */
  attempts?: number;
  logger?: AgentLogger;
  /** Every link appearing or going in the host namespace is passed to `linkChanged` (the agent's link monitor): passes may be kept ones. */
  followsLinks?: boolean;
}

export interface ReconcileResult {
  desired: DesiredState;
  /** The kernel before this apply: as read, or (a kept pass) as the model says it is. */
  actual: ActualState;
  /** Whether this pass read the kernel (a full pass) or planned against the model of it (a kept pass). */
  read: boolean;
  /** Where the pass's time went, ms: composing the desired state (with the managers' hooks before the apply), reading the kernel, planning, applying, the hooks after it. */
  ms: PassTimes;
  plan: Plan;
  /** Each port the view binds to this host: up (device present and plugged) or down, with why. */
  ports: ReportedPort[];
  /**
   * Security-group rule counters after the apply (named nft counters), with
   * the group and rule they count; absent when this pass did not read them
   * (a kept pass with the same rules: the last reading stands).
   */
  ruleCounters?: RuleCounter[];
}

export interface PassTimes {
  compose: number;
  read: number;
  plan: number;
  apply: number;
  after: number;
}

/** A stopwatch of a pass's phases: `lap(phase)` adds the time since the last lap to that phase. */
function passClock(): { times: PassTimes; lap(phase: keyof PassTimes): void } {
  const times: PassTimes = { compose: 0, read: 0, plan: 0, apply: 0, after: 0 };
  let last = performance.now();
  return {
    times,
    lap(phase) {
      const now = performance.now();
      times[phase] += Math.round((now - last) * 10) / 10;
      last = now;
    },
  };
}

/** What a fast pass did: objects (set elements) added and deleted, and the applied desired state patched to match. */
export interface MemberApplyResult extends FastPathResult {
  desired: DesiredState;
}

/** `viewPosition`: the position of the view the kernel now reflects (the view's `viewPosition` when this pass read it). */
export type PassResult =
  | { kind: 'full'; result: ReconcileResult; revision: number; viewPosition: number | null; changed: boolean }
  | { kind: 'fast'; fast: MemberApplyResult; revision: number; viewPosition: number | null; changed: boolean };

/** What the kernel has, as far as this dataplane knows. */
type Applied =
  /** Nothing applied yet (the agent just started): whatever the first pass applies is a new generation. */
  | { state: 'nothing' }
  /**
   * A pass failed (or is under way): the kernel is somewhere between `parts`
   * (the last applied, kept for the generation) and what that pass wanted.
   * Only a full pass may follow.
   */
  | { state: 'unsure'; parts: DesiredPart[] }
  /** The kernel has `desired` for `view`, including the journal up to `at` (null: a view without a journal, no fast path). */
  | {
      state: 'applied';
      view: HostViewSnapshot;
      desired: DesiredState;
      parts: DesiredPart[];
      /** The kernel as the model says the pass left it, with the links that came and went since (a kept pass plans against it). */
      kernel: ActualState;
      revision: number;
      at: { epoch: number; position: number } | null;
      /** The fast paths' appliers (with their indexes) since the full pass, by manager; made on first use. */
      appliers: Map<number, FastApplier>;
    };

export class Dataplane {
  private readonly managers: readonly Manager[];
  private readonly runtimes: ManagerRuntime[];
  private readonly kernel: KernelPort;
  private record: Applied = { state: 'nothing' };
  private _generation = 0;
  /** Links that came (false) or went (true) while no record was applied (a pass under way): folded into the next record. */
  private linkEvents = new Map<string, boolean>();
  /** Link events may have been missed (the link monitor restarted): the next pass reads the kernel. */
  private mustRead = false;

  constructor(private readonly o: DataplaneOptions) {
    this.managers = o.managers;
    this.runtimes = o.managers.map((m) => m.attach?.(o.io) ?? {});
    this.kernel = o.kernel ?? hostKernel(o.io);
  }

  /** Changes of the applied desired state so far. */
  get generation(): number {
    return this._generation;
  }

  /** Whether the agent tells this dataplane of every link (its passes for view changes need not read the kernel). */
  get followsLinks(): boolean {
    return this.o.followsLinks === true;
  }

  /** A link appeared (gone: false) or went in the host namespace (`ip monitor link`). */
  linkChanged(name: string, gone: boolean): void {
    if (this.record.state === 'applied') (gone ? deviceGone : deviceAppeared)(this.record.kernel, name);
    else this.linkEvents.set(name, gone);
  }

  /** Link events may have been lost (the monitor restarted): the next pass reads the kernel. */
  linksLost(): void {
    this.mustRead = true;
  }

  /**
   * Bring the kernel to the current view: a fast pass when every change
   * since the last pass has a fast path and neither `full` nor `read` is
   * asked for, else a full pass: a kept one (no read) when the dataplane
   * follows links and `read` is not asked for. Throws when the full pass
   * fails (the next pass is full).
   */
  async sync(current: CurrentView, opts: { full?: boolean; read?: boolean } = {}): Promise<PassResult> {
    const generation = this._generation;
    // Decided synchronously, so the changes and the position belong together.
    const pending = opts.full || opts.read ? null : this.fastChanges(current);
    if (pending && !pending.complete) {
      // Some changes have no fast path, so a full pass follows and does them all. The ones that have one go
      // first: a failover's steering rules (~0.1 s) need not wait behind a full pass for the owner change
      // that came with them. Meanwhile the kernel has the applied view with just those changes, which the
      // full pass then completes; a fast path that declines or fails leaves it to the full pass.
      const first = pending.byManager.size > 0 ? await this.fastPass(pending.byManager) : null;
      if (first && first.added + first.deleted > 0) this._generation++;
    } else if (pending) {
      const fast = await this.fastPass(pending.byManager);
      if (fast && this.record.state === 'applied') {
        this.record.at = { epoch: pending.epoch, position: pending.position };
        this.record.revision = current.revision;
        current.journal!.trim(pending.position);
        const changed = fast.added + fast.deleted > 0;
        if (changed) this._generation++;
        return { kind: 'fast', fast, revision: current.revision, viewPosition: pending.viewPosition, changed };
      }
    }
    // The snapshot and its journal position, read together (no await in between).
    const view = current.view;
    const viewPosition = current.viewPosition;
    const j = current.journal;
    const at = j ? { epoch: j.epoch, position: j.position } : null;
    const kept = this.o.followsLinks && !opts.read && !this.mustRead ? await this.keptPass(view, current.revision, at) : null;
    const result = kept ?? (await this.fullPass(view, current.revision, at));
    if (j && at) j.trim(at.position);
    return { kind: 'full', result, revision: current.revision, viewPosition, changed: this._generation !== generation };
  }

  /** One full pass for `view` (without a journal: the next pass is full too). */
  reconcile(view: HostViewSnapshot): Promise<ReconcileResult> {
    return this.fullPass(view, 0, null);
  }

  /**
   * Typed changes since the last pass through the managers' fast paths
   * (null: some change has none, or nothing was applied; then run a full
   * pass). Throws when a fast path failed; the next pass must be full.
   */
  async applyChanges(changes: ViewDelta[]): Promise<MemberApplyResult | null> {
    const byManager = this.route(changes);
    return byManager ? this.applyRouted(byManager) : null;
  }

  desired(view: HostViewSnapshot): DesiredState {
    return this.compose(view).desired;
  }

  read(): Promise<ActualState> {
    return this.kernel.read();
  }

  /** Read and plan without applying. */
  async plan(view: HostViewSnapshot): Promise<{ desired: DesiredState; actual: ActualState; plan: Plan }> {
    const desired = this.desired(view);
    const actual = await this.read();
    return { desired, actual, plan: diff(desired.kernel, actual) };
  }

  /** The agent is stopping: stop the managers' helper processes (the data plane stays as it is). */
  close(): void {
    for (const r of this.runtimes) r.close?.();
    this.o.io.nft?.stop();
  }

  private compose(view: HostViewSnapshot): ReturnType<typeof composeDesired> {
    const opts: DesiredOptions = { nsPrefix: this.o.io.nsPrefix, ...(this.o.leaseSeconds ? { leaseSeconds: this.o.leaseSeconds } : {}) };
    return composeDesired(this.managers, view, opts);
  }

  private async fullPass(view: HostViewSnapshot, revision: number, at: { epoch: number; position: number } | null): Promise<ReconcileResult> {
    const before = this.record;
    const previous = before.state === 'nothing' ? null : before.parts;
    this.record = previous ? { state: 'unsure', parts: previous } : { state: 'nothing' };
    const clock = passClock();
    const { desired, parts } = this.compose(view);
    for (const [i, r] of this.runtimes.entries()) await r.beforeApply?.(parts[i]!);
    clock.lap('compose');
    const attempts = Math.max(1, this.o.attempts ?? 3);
    let actual: ActualState;
    let planned: { plan: Plan; after: ActualState };
    for (let attempt = 1; ; attempt++) {
      // The read sees every link that came or went so far; those from now on are folded in after the pass.
      this.linkEvents.clear();
      this.mustRead = false;
      actual = await this.kernel.read();
      clock.lap('read');
      planned = diffTo(desired.kernel, actual);
      clock.lap('plan');
      try {
        await this.kernel.apply(planned.plan);
        clock.lap('apply');
        break;
      } catch (err) {
        clock.lap('apply');
        if (!(err instanceof ApplyError) || attempt >= attempts) throw err;
      }
    }
    const ruleCounters = await this.afterApply(parts, { read: true, previous });
    clock.lap('after');
    this.applied({ view, desired, parts, revision, at, kernel: planned.after }, previous);
    return { desired, actual, read: true, ms: clock.times, plan: planned.plan, ...(ruleCounters ? { ruleCounters } : {}), ports: portStates(view, desired, actual) };
  }

  /**
   * A full pass without the read: planned against the model of the kernel
   * the last pass left. Null when the kernel refused the plan (it is not
   * what the model says): the caller then runs a full pass.
   */
  private async keptPass(view: HostViewSnapshot, revision: number, at: { epoch: number; position: number } | null): Promise<ReconcileResult | null> {
    const before = this.record;
    if (before.state !== 'applied') return null;
    this.record = { state: 'unsure', parts: before.parts };
    const clock = passClock();
    const { desired, parts } = this.compose(view);
    for (const [i, r] of this.runtimes.entries()) await r.beforeApply?.(parts[i]!);
    clock.lap('compose');
    const actual = before.kernel;
    const { plan, after } = diffTo(desired.kernel, actual);
    clock.lap('plan');
    try {
      await this.kernel.apply(plan);
      clock.lap('apply');
    } catch (err) {
      if (!(err instanceof ApplyError)) throw err;
      this.o.logger?.warn({ err }, 'the kernel was not as the last pass left it; reading it');
      return null;
    }
    const ruleCounters = await this.afterApply(parts, { read: false, previous: before.parts });
    clock.lap('after');
    this.applied({ view, desired, parts, revision, at, kernel: after }, before.parts);
    return { desired, actual, read: false, ms: clock.times, plan, ...(ruleCounters ? { ruleCounters } : {}), ports: portStates(view, desired, actual) };
  }

  /** The managers' hooks after a successful apply; the rule counters, when some manager read them. */
  private async afterApply(parts: DesiredPart[], pass: { read: boolean; previous: DesiredPart[] | null }): Promise<RuleCounter[] | undefined> {
    let ruleCounters: RuleCounter[] | undefined;
    for (const [i, r] of this.runtimes.entries()) {
      const readings = await r.afterApply?.(parts[i]!, { read: pass.read, previous: pass.previous?.[i] });
      if (readings?.ruleCounters) (ruleCounters ??= []).push(...readings.ruleCounters);
    }
    return ruleCounters;
  }

  /** A pass succeeded: its record, with the links that came and went meanwhile; a new generation if any part changed. */
  private applied(r: Omit<Extract<Applied, { state: 'applied' }>, 'state' | 'appliers'>, previous: DesiredPart[] | null): void {
    if (previous === null || r.parts.some((p, i) => !samePart(p, previous[i]))) this._generation++;
    this.record = { state: 'applied', ...r, appliers: new Map() };
    this.foldLinkEvents();
  }

  private foldLinkEvents(): void {
    if (this.record.state !== 'applied') return;
    for (const [name, gone] of this.linkEvents) (gone ? deviceGone : deviceAppeared)(this.record.kernel, name);
    this.linkEvents.clear();
  }

  /**
   * The journal's changes since the applied position, by the manager whose fast path takes each (`complete`:
   * every change has one; else a full pass is needed, and these go first); null when the journal cannot say.
   */
  private fastChanges(
    current: CurrentView,
  ): { byManager: Map<number, ViewDelta[]>; complete: boolean; epoch: number; position: number; viewPosition: number | null } | null {
    const r = this.record;
    const j = current.journal;
    if (r.state !== 'applied' || !r.at || !j || j.epoch !== r.at.epoch) return null;
    const changes = j.changesSince(r.at.position);
    if (!changes) return null;
    // The view's position is no kernel object: only the objects' changes are routed (none: a pass with nothing to apply).
    const deltas = changes.filter(isObjectChange).map(viewDelta);
    const at = { epoch: j.epoch, position: j.position, viewPosition: current.viewPosition };
    const byManager = this.route(deltas);
    if (byManager) return { byManager, complete: true, ...at };
    const taken = this.route(deltas.filter((c) => this.runtimes.some((rt) => rt.fastPath?.handles(c))))!;
    return { byManager: taken, complete: false, ...at };
  }

  /**
   * Each change to every manager whose fast path handles it (a member key is
   * a security group's set element and a chain classifier's); null when one
   * has none.
   */
  private route(changes: ViewDelta[]): Map<number, ViewDelta[]> | null {
    const byManager = new Map<number, ViewDelta[]>();
    for (const c of changes) {
      const takers = this.runtimes.flatMap((r, i) => (r.fastPath?.handles(c) ? [i] : []));
      if (takers.length === 0) return null;
      for (const i of takers) {
        let list = byManager.get(i);
        if (!list) byManager.set(i, (list = []));
        list.push(c);
      }
    }
    return byManager;
  }

  /** The fast pass of the agent's loop: a fast path that fails is logged, and the full pass follows. */
  private async fastPass(byManager: Map<number, ViewDelta[]>): Promise<MemberApplyResult | null> {
    try {
      return await this.applyRouted(byManager);
    } catch (err) {
      this.o.logger?.warn({ err }, 'fast path failed; running a full reconcile');
      return null;
    }
  }

  private async applyRouted(byManager: Map<number, ViewDelta[]>): Promise<MemberApplyResult | null> {
    const record = this.record;
    if (record.state !== 'applied') return null;
    // Until every fast path is through, the kernel is between two states.
    this.record = { state: 'unsure', parts: record.parts };
    const r = await this.applyFast(record, byManager);
    if (r) this.record = record;
    this.foldLinkEvents();
    return r;
  }

  private async applyFast(record: Extract<Applied, { state: 'applied' }>, byManager: Map<number, ViewDelta[]>): Promise<MemberApplyResult | null> {
    let added = 0;
    let deleted = 0;
    for (const [i, changes] of byManager) {
      let applier = record.appliers.get(i);
      if (!applier) record.appliers.set(i, (applier = this.runtimes[i]!.fastPath!.from(record.view, record.parts[i]!, record.kernel)));
      const r = await applier.apply(changes);
      if (r === null) return null;
      added += r.added;
      deleted += r.deleted;
    }
    return { desired: record.desired, added, deleted };
  }
}

/**
 * After a successful full pass, each local port: up when its device exists
 * and the applied state plugs it (its network's forwarding and, its groups
 * being known, its filter are then in the kernel); else down, saying why.
 */
export function portStates(view: HostViewSnapshot, desired: DesiredState, actual: ActualState): ReportedPort[] {
  const present = new Set(actual.devices);
  return desired.ports.map(({ id, device, adminStateUp }): ReportedPort => {
    if (!present.has(device)) return { portId: id, state: 'down', reason: `device ${device} not present (not plugged)` };
    // Plugged, but its link is held down: it forwards nothing (Neutron's admin_state_up false).
    if (!adminStateUp) return { portId: id, state: 'down', reason: 'administratively down' };
    if (desired.kernel.plugs[device]) return { portId: id, state: 'up', reason: '' };
    const reason = view.ports[id]?.groupIds === null ? 'security groups not decided yet' : 'its network is not realised on this host';
    return { portId: id, state: 'down', reason: `device ${device} not plugged: ${reason}` };
  });
}

/** Whether a manager's part is the one it applied before (what the kernel gets from it: its objects and DHCP servers). */
const samePart = (a: DesiredPart, b: DesiredPart | undefined): boolean =>
  b !== undefined && isDeepStrictEqual(a.kernel ?? {}, b.kernel ?? {}) && isDeepStrictEqual(a.dhcp ?? {}, b.dhcp ?? {}) && isDeepStrictEqual(a.own, b.own);
