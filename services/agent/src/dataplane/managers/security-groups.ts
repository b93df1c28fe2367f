/**
 * Security groups and anti-spoofing (core/secgroups.ts): Strata's `inet` and
 * `bridge` nftables tables and the br_netfilter sysctls, in the shared kernel
 * model. Its own kernel work: the rule counters, read after every full pass
 * (metrics), and the membership fast path.
 *
 * The fast path (core/members.ts): a membership change is the busiest
 * security-group event and touches set elements only ("membership is a
 * tag"). When member keys are all that changed since the last pass, their
 * deltas become set-element additions and deletions in one nft transaction,
 * through a long-lived libnftables worker when it runs. No read, no plan:
 * the periodic full pass still repairs any drift. A failed transaction
 * changes nothing (nft is atomic) and throws.
 */
import type { GroupMember } from '@strata/contracts';
import { MemberIndex, patchSorted, renderSetDeltas, type MemberChange, type SetDelta } from '../../core/members.js';
import { desiredSecurityGroups, type RuleCounterLabel } from '../../core/secgroups.js';
import type { Exec } from '../../kernel/exec.js';
import { nftRunner } from '../../kernel/nft-runner.js';
import { readRuleCounters } from '../../kernel/nft.js';
import type { ViewDelta } from '../../view/current.js';
import type { FastPath, Manager, RuleCounter } from '../manager.js';

export const securityGroups: Manager = {
  name: 'security-groups',
  desired: (view, ctx) => {
    // Before the host has a VTEP no port is plugged: no filters either.
    if (ctx.localVtep === null) return {};
    const sg = desiredSecurityGroups(view);
    return { kernel: { nft: sg.nft, hostSysctls: sg.hostSysctls }, ruleCounters: sg.counters };
  },
  attach(io) {
    // The host's shared runner (managers.ts); a runner of its own when the dataplane has none (tests).
    const own = io.nft ? null : nftRunner(io.exec, io.nftWorker !== false);
    const runNft = (script: string): Promise<void> => (io.nft ?? own!).run(script);
    const fastPath = memberSetFastPath(async (deltas) => {
      const script = renderSetDeltas(deltas);
      if (script) await runNft(script);
    });
    return {
      // Metrics: read by every pass that reads the kernel (the periodic resync) and whenever the rules change;
      // a kept pass with the same rules leaves the last reading (a read is ~15 ms of a pass of ~35).
      afterApply: async (part, pass) => {
        if (!pass.read && pass.previous && sameKeys(part.ruleCounters ?? {}, pass.previous.ruleCounters ?? {})) return {};
        return { ruleCounters: await ruleCounters(io.exec, part.ruleCounters ?? {}) };
      },
      fastPath,
      close: () => own?.stop(),
    };
  },
};

/**
 * The membership fast path over the member sets of `inet strata`: member
 * deltas → element reference counts (core/members.ts) → set-element
 * additions and deletions, carried out by `applyDeltas` (one transaction;
 * it throws when the kernel refused) and patched into the applied part.
 * The agent applies them with nft; the scale simulation (sim/) to its
 * in-memory kernel.
 */
export function memberSetFastPath(applyDeltas: (deltas: SetDelta[]) => Promise<void>): FastPath {
  return {
    handles: (c) => c.field === 'members',
    from(view, part, kernel) {
      const sets = part.kernel?.nft?.tables.inet?.sets ?? {};
      const modelled = kernel.nft.tables.inet?.sets ?? {};
      // The element reference counts of the applied view, built on first use.
      let index: MemberIndex | null = null;
      return {
        async apply(changes) {
          index ??= new MemberIndex(view, new Set(Object.keys(sets)));
          // The counts now describe the new view: if the transaction fails, the dataplane drops this applier.
          const deltas = index.apply(changes.map(memberChange));
          if (deltas.length > 0) await applyDeltas(deltas);
          for (const d of deltas) {
            patchSorted(sets[d.set]!.elements, d);
            const m = modelled[d.set];
            if (m) patchSorted(m.elements, d);
          }
          return { added: deltas.reduce((n, d) => n + d.add.length, 0), deleted: deltas.reduce((n, d) => n + d.del.length, 0) };
        },
      };
    },
  };
}

/** A member key's delta as the membership index takes it (also the chaining fast path's). */
export function memberChange(c: ViewDelta): MemberChange {
  if (c.field !== 'members') throw new Error(`the membership fast path was given a ${c.field} change`);
  const m = c as { before?: GroupMember; after?: GroupMember };
  return { ...(m.before ? { before: m.before } : {}), ...(m.after ? { after: m.after } : {}) };
}

const sameKeys = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b);
};

/** The security-group rule counters the kernel has now, labelled from the desired state's counter names. */
async function ruleCounters(exec: Exec, labels: Record<string, RuleCounterLabel>): Promise<RuleCounter[]> {
  if (Object.keys(labels).length === 0) return [];
  // Metrics only: a failed read never fails the pass.
  const values = await readRuleCounters(exec).catch(() => []);
  return values.flatMap((c) => {
    const label = labels[c.name];
    return label ? [{ ...label, packets: c.packets, bytes: c.bytes }] : [];
  });
}
