/**
 * Service chaining's data plane (core/chaining.ts): the steering table
 * `inet strata`, policy rules and routing tables in the domain namespaces,
 * all in the shared kernel model (read back, diffed, applied with the rest;
 * the nft table is one atomic transaction per namespace).
 *
 * Its fast path: a membership change of a classifier group is set elements
 * only, in every domain namespace whose chains name the group; it takes the
 * same member deltas as the security-group fast path (the dataplane gives a
 * change to every fast path that handles it). One `nft -f -` per touched
 * namespace (the libnftables worker runs in the managed namespace only).
 */
import { chainingMemberIndex, desiredChaining, splitSetKey } from '../../core/chaining.js';
import { patchSorted, renderSetDeltas, type MemberIndex, type SetDelta } from '../../core/members.js';
import type { NftState } from '../../core/nft.js';
import { runOk } from '../../kernel/exec.js';
import { memberChange } from './security-groups.js';
import type { FastPath, Manager } from '../manager.js';

export const chaining: Manager = {
  name: 'chaining',
  desired: (view, ctx) => {
    if (ctx.localVtep === null) return {};
    const c = desiredChaining(view, ctx.nsPrefix, ctx.kernel.namespaces);
    const nsNft: Record<string, NftState> = Object.fromEntries(Object.entries(c.tables).map(([ns, t]) => [ns, { tables: { inet: t } }]));
    return { kernel: { nsNft, routes: c.routes, rules: c.rules } };
  },
  attach(io) {
    const fastPath: FastPath = {
      handles: (c) => c.field === 'members',
      from(view, part) {
        const tables = part.kernel?.nsNft ?? {};
        let index: MemberIndex | null = null;
        return {
          async apply(changes) {
            index ??= chainingMemberIndex(view, tables);
            const deltas = index.apply(changes.map(memberChange));
            const byNs = new Map<string, SetDelta[]>();
            for (const d of deltas) {
              const { ns, set } = splitSetKey(d.set);
              let list = byNs.get(ns);
              if (!list) byNs.set(ns, (list = []));
              list.push({ ...d, set });
            }
            for (const [ns, ds] of byNs) {
              await runOk(io.exec, ['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], renderSetDeltas(ds));
              for (const d of ds) patchSorted(tables[ns]!.tables.inet!.sets[d.set]!.elements, d);
            }
            return { added: deltas.reduce((n, d) => n + d.add.length, 0), deleted: deltas.reduce((n, d) => n + d.del.length, 0) };
          },
        };
      },
    };
    return { fastPath };
  },
};
