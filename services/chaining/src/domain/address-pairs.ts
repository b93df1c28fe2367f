/**
 * The ports' allowed address pairs, as chaining reads them: the one place
 * where IPAM's pairs plug in (a function's virtual IP must be admitted by a
 * pair of its ingress port).
 *
 * IPAM's pairs are being added in parallel (helper aap: `allowedAddressPairs:
 * [{ ipAddress, macAddress }]` on `ipam.PortCreated`, and
 * `ipam.PortAllowedAddressPairsSet { portId, allowedAddressPairs }`, the
 * port's whole list; a pair's `ipAddress` is an address or a prefix). Until
 * those are in IPAM's registry on main, this file reads them from the stored
 * event by that shape, leniently, so a log without them changes nothing
 * here. Once they land: decode with the registry, follow the type in
 * evolve.ts, and use the contracts' `pairContains`.
 */
import { z } from 'zod';
import type { StoredEvent } from '@strata/eventlog';
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import type { ChainingState } from './state.js';

export const ADDRESS_PAIRS_SET = 'ipam.PortAllowedAddressPairsSet';

const Pairs = z.object({ portId: z.string(), allowedAddressPairs: z.array(z.object({ ipAddress: z.string() })) });

/** The port and its pairs' addresses/prefixes an event sets, or undefined if it sets none. */
export function parseAddressPairs(stored: Pick<StoredEvent, 'type' | 'aggregate' | 'data'>): { portId: string; pairs: string[] } | undefined {
  if (stored.aggregate.context !== 'ipam' || (stored.type !== ADDRESS_PAIRS_SET && stored.type !== 'ipam.PortCreated')) return undefined;
  const parsed = Pairs.safeParse(stored.data);
  if (!parsed.success) return undefined;
  return { portId: parsed.data.portId, pairs: parsed.data.allowedAddressPairs.map((p) => p.ipAddress) };
}

export function applyAddressPairs(state: ChainingState, set: { portId: string; pairs: string[] }): void {
  if (set.pairs.length === 0) delete state.addressPairs[set.portId];
  else state.addressPairs[set.portId] = set.pairs;
}

/** The port's pairs (addresses or prefixes). */
export const addressPairsOf = (state: ChainingState, portId: string): readonly string[] => state.addressPairs[portId] ?? [];

/** Is `ip` (canonical) one the port may use by its pairs: equal to a pair's address or inside a pair's prefix? */
export function pairsAdmit(state: ChainingState, portId: string, ip: string): boolean {
  return addressPairsOf(state, portId).some((pair) => {
    try {
      const a = parseAddress(ip);
      if (pair.includes('/')) return contains(parsePrefix(pair, false), a);
      const p = parseAddress(pair);
      return p.version === a.version && p.value === a.value;
    } catch {
      return false;
    }
  });
}
