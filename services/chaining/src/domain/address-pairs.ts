/**
 * The ports' allowed address pairs, as chaining reads them: the one place
 * where IPAM's pairs plug in (a function's virtual IP must be a pair of its
 * ingress port).
 *
 * IPAM's pairs are being added in parallel (`ipam.PortAllowedAddressPairsSet`,
 * helper aap); until that event is in IPAM's registry this file reads it by
 * the shape expected — `{ portId, pairs: [{ ip, mac? }] }`, the port's whole
 * list — leniently and by hand, so a log without it (or with another shape)
 * changes nothing here. Once it lands, replace `parseAddressPairsSet` by the
 * registry's decode and add the type to `chainingFollows` (evolve.ts).
 */
import { z } from 'zod';
import type { StoredEvent } from '@strata/eventlog';
import { canonicalAddress } from '@strata/netaddr';
import type { ChainingState } from './state.js';

export const ADDRESS_PAIRS_SET = 'ipam.PortAllowedAddressPairsSet';

const PairsSet = z.object({
  portId: z.string(),
  pairs: z.array(z.object({ ip: z.string() })),
});

/** The port and the addresses of its pairs (a pair's `ip` may be a prefix: its address part is taken), or undefined if the event is not one. */
export function parseAddressPairsSet(stored: Pick<StoredEvent, 'type' | 'aggregate' | 'data'>): { portId: string; ips: string[] } | undefined {
  if (stored.aggregate.context !== 'ipam' || stored.type !== ADDRESS_PAIRS_SET) return undefined;
  const parsed = PairsSet.safeParse(stored.data);
  if (!parsed.success) return undefined;
  const ips: string[] = [];
  for (const p of parsed.data.pairs) {
    try {
      ips.push(canonicalAddress(p.ip.split('/')[0]!));
    } catch {
      // not an address: nothing a virtual IP could match
    }
  }
  return { portId: parsed.data.portId, ips };
}

export function applyAddressPairs(state: ChainingState, set: { portId: string; ips: string[] }): void {
  if (set.ips.length === 0) delete state.addressPairs[set.portId];
  else state.addressPairs[set.portId] = set.ips;
}

/** The addresses a port may use besides its fixed IPs (its allowed address pairs). */
export const allowedAddresses = (state: ChainingState, portId: string): readonly string[] => state.addressPairs[portId] ?? [];
