/**
 * The managers' parts → one desired state. Pure. Parts are merged in
 * registration order into one KernelState (the shared kernel model: one
 * read, one diff, one ordered apply); each manager sees the objects of the
 * managers before it (DHCP and NAT need the overlay's domain namespaces).
 * The ports are known before anything is programmed (so their status can
 * say they are down).
 */
import { hostVtep, portDevices, type DesiredOptions, type DesiredState } from '../core/desired.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import { emptyKernelState, type KernelState } from '../core/types.js';
import type { DesiredPart, Manager } from './manager.js';

export interface ComposedDesired {
  desired: DesiredState;
  /** Each manager's part, in registration order (the desired state shares their objects). */
  parts: DesiredPart[];
}

export function composeDesired(managers: readonly Manager[], view: HostViewSnapshot, opts: DesiredOptions): ComposedDesired {
  const desired: DesiredState = { kernel: emptyKernelState(), dhcp: {}, ports: portDevices(view), ruleCounters: {} };
  const ctx = { nsPrefix: opts.nsPrefix, leaseSeconds: opts.leaseSeconds ?? 86_400, localVtep: hostVtep(view), kernel: desired.kernel };
  const parts = managers.map((m) => {
    const part = m.desired(view, ctx);
    if (part.kernel) mergeKernel(desired.kernel, part.kernel);
    Object.assign(desired.dhcp, part.dhcp);
    Object.assign(desired.ruleCounters, part.ruleCounters);
    return part;
  });
  return { desired, parts };
}

/** Add a part's objects (by reference: a fast path patching its part patches the desired state). */
function mergeKernel(into: KernelState, part: Partial<KernelState>): void {
  for (const key of Object.keys(part) as (keyof KernelState)[]) {
    if (key === 'nft') Object.assign(into.nft.tables, part.nft!.tables);
    else if (key === 'nsNft') {
      // Several features have tables in one domain namespace (NAT `ip`, chaining `inet`): merged per namespace, in a new record.
      for (const [ns, state] of Object.entries(part.nsNft!)) into.nsNft[ns] = { tables: { ...into.nsNft[ns]?.tables, ...state.tables } };
    } else Object.assign(into[key], part[key]);
  }
}
