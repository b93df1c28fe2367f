/**
 * A hypervisor's kernel in memory, for the scale simulation (issue 18): the
 * objects the agent programs (namespaces and their sysctls, links, plugs,
 * addresses, FDB, neighbours, routes, policy rules, Strata's nftables
 * tables), changed by exactly the plans the real agent applies and with
 * the kernel's side effects, by the same model the diff trusts
 * (core/model.ts `applyOp`: deleting a bridge empties its FDB, deleting a
 * namespace takes its links, …). Like the kernel it refuses what it cannot
 * do (a plan step that adds what exists or removes what is missing, a
 * route through a link that is down): the apply stops there with an
 * ApplyError, the steps before it stay applied, as with `ip -batch`, and an
 * nft transaction is all or nothing.
 *
 * Besides the shared model it keeps what the agent's managers keep outside
 * it on a real host: the DHCP servers (one spec per routing domain, as
 * dnsmasq would be configured) and objects a manager owns end to end
 * (chaining-wire's netdev table). And the hypervisor's side of a VM: its
 * tap device appears and goes (`addDevice`, `removeDevice`), as Nova and
 * libvirt make it; the agent only plugs what exists.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KernelPort } from '../dataplane/dataplane.js';
import type { DhcpSpec } from '../core/desired.js';
import { applyOp, InexactPlanError } from '../core/model.js';
import type { NftCmd } from '../core/nft.js';
import { emptyKernelState, HOST_NS, type ActualState, type Op, type Plan } from '../core/types.js';
import { ApplyError } from '../kernel/apply.js';

export class SimKernel implements KernelPort {
  private state: ActualState = { ...emptyKernelState(), devices: [] };
  /** Running DHCP servers by routing-domain namespace, as configured. */
  dhcp: Record<string, DhcpSpec> = {};
  /** Objects a manager keeps outside the shared model, by manager name. */
  readonly own: Record<string, unknown> = {};
  /** Work done: full-pass reads, plans applied, operations applied, fast-path transactions. */
  readonly counters = { reads: 0, applies: 0, ops: 0, transactions: 0 };

  /** What a `read` would return, without copying it: for assertions and waiting, never to be changed. */
  peek(): Readonly<ActualState> {
    return this.state;
  }

  async read(): Promise<ActualState> {
    this.counters.reads++;
    return structuredClone(this.state);
  }

  async apply(plan: Plan): Promise<void> {
    this.counters.applies++;
    for (const batch of plan.batches) {
      for (const op of batch.ops) {
        try {
          this.applyOne(op);
        } catch (err) {
          if (err instanceof InexactPlanError) throw new ApplyError(batch.phase, err);
          throw err;
        }
        this.counters.ops++;
      }
    }
  }

  /** One nft transaction outside a plan (a fast path's set elements): all or nothing; throws when refused. */
  nft(commands: NftCmd[], ns: string = HOST_NS): void {
    if (commands.length === 0) return;
    this.counters.transactions++;
    this.applyOne({ op: 'nft', commands, ...(ns === HOST_NS ? {} : { ns }) });
  }

  /** A VM's tap appeared in the host namespace (Nova/libvirt made it). */
  addDevice(name: string): void {
    if (this.state.devices.includes(name)) return;
    if (this.state.links[name]) throw new Error(`device ${name} clashes with a Strata link`);
    this.state.devices.push(name);
  }

  /** A VM's tap went: it leaves its bridge, and the bridge forgets the entries pointing at it. */
  removeDevice(name: string): void {
    const at = this.state.devices.indexOf(name);
    if (at < 0) return;
    this.state.devices.splice(at, 1);
    delete this.state.plugs[name];
    for (const [k, f] of Object.entries(this.state.fdb)) if (f.kind === 'bridge' && f.dev === name) delete this.state.fdb[k];
  }

  /** Stop the DHCP servers whose domains are not in `keep` (before their namespaces go). */
  stopDhcpExcept(keep: Record<string, DhcpSpec>): void {
    for (const ns of Object.keys(this.dhcp)) if (!keep[ns]) delete this.dhcp[ns];
  }

  /** Start, reconfigure or stop DHCP servers so exactly `want` run; a server needs its namespace. */
  syncDhcp(want: Record<string, DhcpSpec>): void {
    for (const [ns, spec] of Object.entries(want)) {
      if (!this.state.namespaces[spec.ns]) throw new Error(`DHCP server for ${ns}: no namespace ${spec.ns}`);
      if (!isDeepStrictEqual(this.dhcp[ns], spec)) this.dhcp[ns] = structuredClone(spec);
    }
    this.stopDhcpExcept(want);
  }

  /** Apply one operation as the kernel would: an nft transaction atomically, anything else in place. */
  private applyOne(op: Op): void {
    if (op.op !== 'nft') {
      applyOp(this.state, op);
      return;
    }
    // All or nothing: the transaction runs on a copy of the tables it touches, which replaces them only when it went through.
    const scratch: ActualState = { ...this.state, nft: structuredClone(this.state.nft), nsNft: { ...this.state.nsNft } };
    if (op.ns !== undefined && op.ns !== HOST_NS && scratch.nsNft[op.ns]) scratch.nsNft[op.ns] = structuredClone(scratch.nsNft[op.ns]!);
    applyOp(scratch, op);
    this.state.nft = scratch.nft;
    this.state.nsNft = scratch.nsNft;
  }
}
