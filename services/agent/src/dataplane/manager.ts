/**
 * A data-plane feature (overlay, DHCP, security groups, NAT, …) as the
 * dataplane sees it: its part of the desired state (pure), the kernel work of
 * its own around the shared read-plan-apply, and its fast path for changes
 * it can apply alone. The pattern of Calico Felix's managers: the dataplane
 * owns the applied record and the shared kernel model (one read, one diff,
 * one ordered apply of every manager's objects), a manager only says what
 * its feature wants. Adding a feature is one file in managers/ and one line
 * in managers.ts.
 *
 * Kernel reads: the shared model (netlink objects, Strata's nft tables, the
 * managed sysctls) is read once per full pass, in one batch of processes
 * (kernel/read.ts), because the plan must see every feature's objects
 * together (deleting a namespace removes NAT's links in it, a bridge takes
 * its FDB with it). A manager's reads of its own (rule counters, dnsmasq PID
 * files) are in its hooks.
 */
import type { DhcpSpec } from '../core/desired.js';
import type { RuleCounterLabel } from '../core/secgroups.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { KernelState } from '../core/types.js';
import type { Exec } from '../kernel/exec.js';
import type { NftRunner } from '../kernel/nft-runner.js';
import type { ViewDelta } from '../view/current.js';

/** What a manager's `desired` may look at besides the view. */
export interface DesiredContext {
  /** Prefix of this agent's routing-domain namespaces. */
  nsPrefix: string;
  /** DHCP lease time in seconds. */
  leaseSeconds: number;
  /**
   * This host's VTEP, canonical; null until the host is registered with a
   * valid one. Until then nothing is programmed: the overlay has no tunnel
   * end, and the features built on it (plugs, filters, DHCP, NAT) wait too.
   */
  localVtep: string | null;
  /** The kernel objects of the managers registered before this one (read only: e.g. the domain namespaces). */
  kernel: Readonly<KernelState>;
}

/** One manager's part of the desired state; parts are merged in registration order (a later key wins, as one function writing them in turn would). */
export interface DesiredPart {
  kernel?: Partial<KernelState>;
  dhcp?: Record<string, DhcpSpec>;
  /** Named nft counters of security-group rules → the group and rule they count. */
  ruleCounters?: Record<string, RuleCounterLabel>;
  /** Objects outside the shared kernel model that the manager reads back and applies itself in its hooks (chaining-wire's netdev table and bridge-port flags). */
  own?: unknown;
}

/** Security-group rule counter values, read from the kernel after a pass (metrics). */
export interface RuleCounter {
  group: string;
  rule: string;
  packets: number;
  bytes: number;
}

/** Readings a manager takes from the kernel after a full pass, reported with it. */
export interface Readings {
  ruleCounters?: RuleCounter[];
}

/** What a fast path did: kernel objects (e.g. set elements) added and deleted. */
export interface FastPathResult {
  added: number;
  deleted: number;
}

/**
 * Changes a manager can apply without a full pass (read, plan, apply of the
 * whole host). The dataplane uses it only when every change since its last
 * pass is handled by some manager's fast path; anything else, and any doubt,
 * is a full pass, which stays the reference (and the periodic resync repairs
 * drift).
 */
export interface FastPath {
  handles(change: ViewDelta): boolean;
  /**
   * An applier starting from an applied state: the view and this manager's
   * part of the desired state that the kernel has. It keeps its own record
   * of what it applied since (the dataplane drops it with the applied record),
   * and patches what it changes in the shared kernel model into `kernel`
   * too (the model of the kernel that a kept pass plans against).
   */
  from(view: HostViewSnapshot, part: DesiredPart, kernel: KernelState): FastApplier;
}

export interface FastApplier {
  /**
   * Apply changes (all handled by this fast path) and patch the part given to
   * `from` to match. Null: not applicable, do a full pass. Throws when the
   * kernel refused: nothing may be assumed applied (the dataplane then runs a
   * full pass).
   */
  apply(changes: ViewDelta[]): Promise<FastPathResult | null>;
}

/** One host's kernel, as managers with kernel work of their own need it. */
export interface HostIo {
  exec: Exec;
  /** Prefix of this agent's routing-domain namespaces. */
  nsPrefix: string;
  /** Where state files (dnsmasq configs, PID and lease files) live. */
  stateDir: string;
  dnsmasqBinary?: string;
  /** Apply fast-path transactions through a long-lived libnftables worker (default true). */
  nftWorker?: boolean;
  /** The host's nft transactions (the full plan's and the fast paths'): one worker for all (hostDataplane makes it). */
  nft?: NftRunner;
}

/**
 * The pass whose apply just succeeded: whether it read the kernel (a kept
 * pass did not: a manager's own reads of the kernel may then be left to the
 * passes that read, when its part did not change), and this manager's part
 * as the pass before applied it (none: nothing applied before).
 */
export interface AppliedPass {
  read: boolean;
  previous: DesiredPart | undefined;
}

/** A manager bound to a host: the hooks around the shared apply, and its fast path. */
export interface ManagerRuntime {
  /** Before the shared apply (e.g. stop DHCP servers whose namespaces are about to go). */
  beforeApply?(part: DesiredPart): Promise<void>;
  /** After the shared apply succeeded (e.g. start DHCP servers, read rule counters). */
  afterApply?(part: DesiredPart, pass: AppliedPass): Promise<Readings | void>;
  fastPath?: FastPath;
  /** The agent is stopping (stop helper processes; the data plane stays as it is). */
  close?(): void;
}

export interface Manager {
  readonly name: string;
  /** This feature's part of the desired state. Pure. */
  desired(view: HostViewSnapshot, ctx: DesiredContext): DesiredPart;
  /** Bind to a host; absent: the shared read-plan-apply does all of this feature's kernel work. */
  attach?(io: HostIo): ManagerRuntime;
}
