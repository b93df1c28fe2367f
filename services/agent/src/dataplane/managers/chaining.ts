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
 *
 * Its second fast path: a change of chain keys (`<h>.chain.<id>`) whose
 * only effect is on the steering chain's rules (an active member swapped, a
 * member's health under flow-hash: the marks, their routing tables and the
 * sets exist already) rewrites the `pre` chain of each touched domain
 * namespace in one `nft -f -` transaction (flush and add together: there is
 * no instant without steering) and patches the applied table as the full
 * pass would have left it (core/chaining.ts `steeringUpdate`). Any other
 * difference declines, and the full pass runs.
 */
import type { HostChain } from '@strata/contracts';
import { chainingMemberIndex, desiredChaining, splitSetKey, steeringUpdate } from '../../core/chaining.js';
import { patchSorted, renderSetDeltas, type MemberIndex, type SetDelta } from '../../core/members.js';
import { domainNamespace } from '../../core/names.js';
import type { NftState } from '../../core/nft.js';
import { renderNftScript } from '../../kernel/nft.js';
import { runOk } from '../../kernel/exec.js';
import type { ViewDelta } from '../../view/current.js';
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
      handles: (c) => c.field === 'members' || c.field === 'chains',
      from(view, part, kernel) {
        const tables = part.kernel?.nsNft ?? {};
        const applied = { tables, routes: part.kernel?.routes ?? {}, rules: part.kernel?.rules ?? {} };
        let index: MemberIndex | null = null;
        /** The applied chain keys (members are the index's business: the steering tables do not depend on them). */
        let chains = view.chains;
        return {
          async apply(changes) {
            const members = changes.filter((c) => c.field === 'members');
            const chainChanges = changes.filter((c): c is Extract<ViewDelta, { field: 'chains' }> => c.field === 'chains');
            let added = 0;
            let deleted = 0;
            if (members.length > 0) {
              index ??= chainingMemberIndex(view, tables);
              const deltas = index.apply(members.map(memberChange));
              const byNs = new Map<string, SetDelta[]>();
              for (const d of deltas) {
                const { ns, set } = splitSetKey(d.set);
                let list = byNs.get(ns);
                if (!list) byNs.set(ns, (list = []));
                list.push({ ...d, set });
              }
              for (const [ns, ds] of byNs) {
                await runOk(io.exec, ['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], renderSetDeltas(ds));
                for (const d of ds) {
                  patchSorted(tables[ns]!.tables.inet!.sets[d.set]!.elements, d);
                  const m = kernel.nsNft[ns]?.tables.inet?.sets[d.set];
                  if (m) patchSorted(m.elements, d);
                }
              }
              added += deltas.reduce((n, d) => n + d.add.length, 0);
              deleted += deltas.reduce((n, d) => n + d.del.length, 0);
            }
            if (chainChanges.length > 0) {
              const next: Record<string, HostChain> = { ...chains };
              const touched = new Set<string>();
              for (const c of chainChanges) {
                for (const ch of [c.before, c.after]) if (ch) touched.add(domainNamespace(io.nsPrefix, ch.domainId));
                if (c.after) next[c.id] = c.after;
                else delete next[c.id];
              }
              const updates = steeringUpdate({ ...view, chains: next }, io.nsPrefix, applied, [...touched].sort());
              if (updates === null) return null;
              for (const u of updates) {
                if (u.commands.length === 0) continue;
                await runOk(io.exec, ['ip', 'netns', 'exec', u.ns, 'nft', '-f', '-'], renderNftScript(u.commands));
                // The applied table object is the desired state's too (compose.ts): patch it in place.
                const pre = tables[u.ns]!.tables.inet!.chains.pre!;
                deleted += pre.rules.length;
                added += u.table.chains.pre!.rules.length;
                pre.rules = u.table.chains.pre!.rules;
                const modelled = kernel.nsNft[u.ns]?.tables.inet?.chains.pre;
                if (modelled) modelled.rules = structuredClone(pre.rules);
              }
              chains = next;
            }
            return { added, deleted };
          },
        };
      },
    };
    return { fastPath };
  },
};
