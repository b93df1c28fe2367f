/**
 * Service chaining, WIRE mode (core/chaining-wire.ts): the netdev table
 * `strata_wire` and the legs' bridge-port flags on the appliance's host.
 *
 * These objects are outside the shared kernel model: the manager owns them
 * end to end. After every full pass (the shared apply has plugged the taps)
 * it reads them back (`nft -j list table netdev strata_wire`, `bridge -j -d
 * link show`), plans the difference and applies it: one nft transaction
 * (the table rebuilt, or set elements only) and one `bridge -batch`. With no
 * WIRE leg left the table is deleted and every port it isolated gets its
 * flooding and learning back, so nothing stays behind; the periodic full
 * pass repairs drift.
 *
 * Its fast path: a classifier group's member change is set elements in the
 * table (one nft transaction), with the reference counts of core/members.ts
 * as for the L3 steering sets.
 */
import { isDeepStrictEqual } from 'node:util';
import { chainSetName } from '../../core/chaining.js';
import { desiredWire, parsePortFlags, parseWireTable, planWire, WIRE_TABLE, type WireState } from '../../core/chaining-wire.js';
import { MemberIndex, patchSorted, renderSetDeltas } from '../../core/members.js';
import { runOk, type Exec } from '../../kernel/exec.js';
import { memberChange } from './security-groups.js';
import type { FastPath, Manager } from '../manager.js';

const EMPTY: WireState = { table: null, ports: {} };

/** This host's WIRE objects as the kernel has them. */
export async function readWire(exec: Exec): Promise<WireState> {
  const t = await exec.run(['nft', '-j', 'list', 'table', 'netdev', WIRE_TABLE]);
  if (t.code !== 0 && !/No such file or directory/.test(t.stderr)) throw new Error(`nft list table netdev ${WIRE_TABLE}: ${t.stderr.trim()}`);
  const ports = parsePortFlags(await runOk(exec, ['bridge', '-j', '-d', 'link', 'show']));
  return { table: t.code === 0 ? parseWireTable(t.stdout) : null, ports };
}

/** Bring the kernel to `want`; returns whether anything was changed. */
export async function syncWire(exec: Exec, want: WireState): Promise<boolean> {
  const plan = planWire(want, await readWire(exec));
  if (plan.nft) await runOk(exec, ['nft', '-f', '-'], plan.nft);
  if (plan.bridge.length) await runOk(exec, ['bridge', '-batch', '-'], `${plan.bridge.join('\n')}\n`);
  return plan.nft !== '' || plan.bridge.length > 0;
}

export const chainingWire: Manager = {
  name: 'chaining-wire',
  desired: (view, ctx) => {
    if (ctx.localVtep === null) return { own: EMPTY };
    // The security-group port ids (bridge `port_ids`, composed before): W must differ from them, and a filtered leg is known by its own.
    return { own: desiredWire(view, ctx.kernel.nft.tables.bridge?.maps.port_ids?.elements ?? {}) };
  },
  attach(io) {
    const fastPath: FastPath = {
      handles: (c) => c.field === 'members',
      from(view, part) {
        const table = (part.own as WireState | undefined)?.table ?? null;
        // Reference counts as the security-group and L3 chaining fast paths keep them (core/members.ts); built on first use.
        let index: MemberIndex | null = null;
        return {
          async apply(changes) {
            if (!table) return { added: 0, deleted: 0 };
            index ??= new MemberIndex(view, new Set(Object.keys(table.sets)), (g, v) => [chainSetName(g, v)]);
            const deltas = index.apply(changes.map(memberChange));
            const script = renderSetDeltas(deltas, `netdev ${WIRE_TABLE}`);
            if (script) await runOk(io.exec, ['nft', '-f', '-'], script);
            for (const d of deltas) patchSorted(table.sets[d.set]!.elements, d);
            return { added: deltas.reduce((n, d) => n + d.add.length, 0), deleted: deltas.reduce((n, d) => n + d.del.length, 0) };
          },
        };
      },
    };
    return {
      // Read back and made equal by every pass that reads the kernel; a kept pass leaves it when its part is the same
      // (reading it back is ~16 ms of a pass of ~35; a fast path's set elements are patched into the part as applied).
      afterApply: async (part, pass) => {
        if (!pass.read && pass.previous && isDeepStrictEqual(part.own, pass.previous.own)) return;
        await syncWire(io.exec, (part.own as WireState | undefined) ?? EMPTY);
      },
      fastPath,
    };
  },
};
