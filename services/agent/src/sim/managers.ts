/**
 * The agent's managers (dataplane/managers.ts) bound to a simulated kernel.
 * Each keeps its real `desired` (the whole host view → kernel state
 * derivation, unchanged); only the kernel work a manager does itself, around
 * the shared read-plan-apply, goes to the in-memory kernel instead of
 * programs:
 *
 * - dhcp: the servers are the kernel model's DHCP specs (stopped before the
 *   apply when their domain goes, configured after it);
 * - security-groups: the same membership fast path (element reference
 *   counts, core/members.ts), its transaction applied to the model's sets;
 *   no rule counters (the model counts no packets);
 * - chaining, chaining-wire: their objects are kept (the wire table as the
 *   manager's own); their fast paths take changes that touch none of their
 *   objects and leave any other to the full pass (the reference), so the
 *   simulation is exact for them, if slower where service chains exist.
 *
 * A manager with kernel work of its own that is not listed here fails the
 * simulation at start: a new feature must say what it does to the model.
 */
import { MANAGERS } from '../dataplane/managers.js';
import type { FastPath, Manager, ManagerRuntime } from '../dataplane/manager.js';
import { memberSetFastPath } from '../dataplane/managers/security-groups.js';
import type { NftCmd } from '../core/nft.js';
import type { SimKernel } from './kernel.js';

type SimRuntime = (kernel: SimKernel) => ManagerRuntime;

/**
 * A fast path for member changes (and the fields in `full`, which always go
 * to the full pass) that applies nothing when the manager has none of the
 * objects a member change could touch, and otherwise asks for the full pass.
 */
const membersWhenAbsent = (full: readonly string[], has: (part: Parameters<FastPath['from']>[1]) => boolean): FastPath => ({
  handles: (c) => c.field === 'members' || full.includes(c.field),
  from: (_view, part) => ({ apply: async (changes) => (has(part) || changes.some((c) => c.field !== 'members') ? null : { added: 0, deleted: 0 }) }),
});

const SIM_RUNTIMES: Record<string, SimRuntime | null> = {
  overlay: null,
  'router-routes': null,
  nat: null,
  dhcp: (kernel) => ({
    beforeApply: async (part) => kernel.stopDhcpExcept(part.dhcp ?? {}),
    afterApply: async (part) => kernel.syncDhcp(part.dhcp ?? {}),
  }),
  'security-groups': (kernel) => ({
    fastPath: memberSetFastPath(async (deltas) => {
      const commands: NftCmd[] = deltas.flatMap((d) => [
        ...(d.del.length ? [{ cmd: 'delete-element' as const, family: 'inet' as const, set: d.set, elements: d.del }] : []),
        ...(d.add.length ? [{ cmd: 'add-element' as const, family: 'inet' as const, set: d.set, elements: d.add }] : []),
      ]);
      kernel.nft(commands);
    }),
  }),
  chaining: () => ({
    fastPath: membersWhenAbsent(['chains'], (part) => Object.keys(part.kernel?.nsNft ?? {}).length > 0),
  }),
  'chaining-wire': (kernel) => ({
    afterApply: async (part) => {
      kernel.own['chaining-wire'] = structuredClone(part.own);
    },
    fastPath: membersWhenAbsent([], (part) => ((part.own as { table?: unknown } | undefined)?.table ?? null) !== null),
  }),
};

/** Every manager of the agent, in its order, with its kernel work done to `kernel`. */
export function simManagers(kernel: SimKernel, managers: readonly Manager[] = MANAGERS): Manager[] {
  return managers.map((m): Manager => {
    if (!(m.name in SIM_RUNTIMES)) throw new Error(`the scale simulation does not know manager ${m.name}: say what its kernel work does to the model (sim/managers.ts)`);
    const runtime = SIM_RUNTIMES[m.name];
    if (!m.attach || !runtime) return { name: m.name, desired: m.desired };
    return { name: m.name, desired: m.desired, attach: () => runtime(kernel) };
  });
}
