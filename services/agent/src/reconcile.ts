/**
 * One full reconcile: desired (from the view) vs actual (read from the
 * kernel) → plan → apply, then DHCP servers. Stateless between calls: every
 * call starts from what the kernel really has, which is what makes it repair
 * drift and finish an interrupted apply. The security-group rule counters are
 * read after every pass (also the periodic one), for metrics.
 */
import { desiredState, type DesiredState } from './core/desired.js';
import { diff } from './core/diff.js';
import type { HostViewSnapshot } from './core/snapshot.js';
import type { ActualState, Plan } from './core/types.js';
import { MemberIndex, patchSorted, renderSetDeltas, type MemberChange } from './core/members.js';
import { ApplyError, applyPlan } from './kernel/apply.js';
import { DnsmasqManager } from './kernel/dnsmasq.js';
import { runOk, type Exec } from './kernel/exec.js';
import { NftWorker, NftWorkerError } from './kernel/nft-worker.js';
import { readRuleCounters } from './kernel/nft.js';
import { readActual } from './kernel/read.js';

export interface ReconcilerOptions {
  exec: Exec;
  /** Prefix of this agent's routing-domain namespaces. */
  nsPrefix: string;
  /** Where dnsmasq configs, PID and lease files live. */
  stateDir: string;
  leaseSeconds?: number;
  dnsmasqBinary?: string;
  /**
   * Read-plan-apply rounds before a failed apply is reported (default 3). The
   * kernel can change under a plan (a VM's tap vanishes while its namespace
   * is being destroyed): a fresh read and plan usually succeeds at once.
   */
  attempts?: number;
  /** Apply the membership fast path's transactions through a long-lived libnftables worker (default true; falls back to `nft -f -`). */
  nftWorker?: boolean;
}

export interface ReconcileResult {
  desired: DesiredState;
  /** The kernel before this apply. */
  actual: ActualState;
  plan: Plan;
  portsUp: string[];
  portsDown: string[];
  /** Security-group rule counters after the apply (named nft counters), with the group and rule they count. */
  ruleCounters: RuleCounter[];
}

/** What the membership fast path did: set elements added and deleted in one nft transaction. */
export interface MemberApplyResult {
  desired: DesiredState;
  added: number;
  deleted: number;
}


export interface RuleCounter {
  group: string;
  rule: string;
  packets: number;
  bytes: number;
}

export class Reconciler {
  readonly dnsmasq: DnsmasqManager;
  /**
   * What the last full reconcile applied (view and desired state) and the
   * fast path's element reference counts since (built on first use); null
   * before a successful reconcile and while a transaction is in flight.
   */
  private applied: { view: HostViewSnapshot; desired: DesiredState; index: MemberIndex | null } | null = null;

  private readonly worker: NftWorker | null;

  constructor(private readonly o: ReconcilerOptions) {
    this.worker = o.nftWorker === false ? null : new NftWorker(o.exec);
    this.dnsmasq = new DnsmasqManager({
      exec: o.exec,
      stateDir: o.stateDir,
      nsPrefix: o.nsPrefix,
      ...(o.dnsmasqBinary ? { binary: o.dnsmasqBinary } : {}),
    });
  }

  desired(view: HostViewSnapshot): DesiredState {
    return desiredState(view, { nsPrefix: this.o.nsPrefix, ...(this.o.leaseSeconds ? { leaseSeconds: this.o.leaseSeconds } : {}) });
  }

  read(): Promise<ActualState> {
    return readActual(this.o.exec, this.o.nsPrefix);
  }

  /** Read and plan without applying. */
  async plan(view: HostViewSnapshot): Promise<{ desired: DesiredState; actual: ActualState; plan: Plan }> {
    const desired = this.desired(view);
    const actual = await this.read();
    return { desired, actual, plan: diff(desired.kernel, actual) };
  }

  /** The security-group rule counters the kernel has now, labelled from `desired`. */
  async ruleCounters(desired: DesiredState): Promise<RuleCounter[]> {
    if (Object.keys(desired.ruleCounters).length === 0) return [];
    // Metrics only: a failed read never fails the reconcile.
    const values = await readRuleCounters(this.o.exec).catch(() => []);
    return values.flatMap((c) => {
      const label = desired.ruleCounters[c.name];
      return label ? [{ ...label, packets: c.packets, bytes: c.bytes }] : [];
    });
  }

  /**
   * The membership fast path (core/members.ts): member changes made since the
   * last reconcile (and fast paths) become set-element additions and
   * deletions in one nft transaction; returns the last desired state patched
   * to match, or null before any successful reconcile. No read, no plan: the
   * periodic full reconcile still repairs any drift. A failed transaction
   * changes nothing (nft is atomic) and throws; the next pass must then be a
   * full reconcile.
   */
  async applyMemberChanges(changes: MemberChange[]): Promise<MemberApplyResult | null> {
    const applied = this.applied;
    if (!applied) return null;
    const sets = applied.desired.kernel.nft.tables.inet?.sets ?? {};
    applied.index ??= new MemberIndex(applied.view, new Set(Object.keys(sets)));
    const deltas = applied.index.apply(changes);
    // The counts now describe the new view; they are valid only once the transaction commits.
    this.applied = null;
    const script = renderSetDeltas(deltas);
    if (script) await this.runNft(script);
    for (const d of deltas) patchSorted(sets[d.set]!.elements, d);
    this.applied = applied;
    return {
      desired: applied.desired,
      added: deltas.reduce((n, d) => n + d.add.length, 0),
      deleted: deltas.reduce((n, d) => n + d.del.length, 0),
    };
  }

  /** One nft transaction: through the worker when it runs, else a `nft -f -` process. */
  private async runNft(script: string): Promise<void> {
    if (this.worker?.usable) {
      try {
        await this.worker.apply(script);
        return;
      } catch (err) {
        // nft refused the script: that is the answer. The worker failing is not: fall back to a process.
        if (!(err instanceof NftWorkerError)) throw err;
      }
    }
    await runOk(this.o.exec, ['nft', '-f', '-'], script);
  }

  /** Stop the nft worker (the agent is stopping). */
  close(): void {
    this.worker?.stop();
  }

  async reconcile(view: HostViewSnapshot): Promise<ReconcileResult> {
    this.applied = null;
    const desired = this.desired(view);
    // A server keeps its namespace alive: stop the stale ones before the namespaces go.
    await this.dnsmasq.stopStale(desired.dhcp);
    const attempts = Math.max(1, this.o.attempts ?? 3);
    let actual: ActualState;
    let plan: Plan;
    for (let attempt = 1; ; attempt++) {
      actual = await this.read();
      plan = diff(desired.kernel, actual);
      try {
        await applyPlan(this.o.exec, plan);
        break;
      } catch (err) {
        if (!(err instanceof ApplyError) || attempt >= attempts) throw err;
      }
    }
    await this.dnsmasq.sync(desired.dhcp);
    this.applied = { view, desired, index: null };
    const present = new Set(actual.devices);
    return {
      desired,
      actual,
      plan,
      ruleCounters: await this.ruleCounters(desired),
      portsUp: desired.ports.filter((p) => present.has(p.device)).map((p) => p.id),
      portsDown: desired.ports.filter((p) => !present.has(p.device)).map((p) => p.id),
    };
  }
}
