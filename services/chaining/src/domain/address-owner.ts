/**
 * IPAM's record that an allowed address pair's owner changed (a gratuitous
 * ARP seen by the port's own host): `ipam.AddressPairOwnerChanged`, being
 * added by helper aap in parallel. Until it is in IPAM's registry, it is
 * read here by the shape expected, leniently and by hand; this file is the
 * one place to switch to the registry's decode once it lands.
 */
import { z } from 'zod';
import type { StoredEvent } from '@strata/eventlog';
import { canonicalAddress } from '@strata/netaddr';
import type { AddressOwner } from './decide/observations.js';

export const ADDRESS_OWNER_CHANGED = 'ipam.AddressPairOwnerChanged';

const OwnerChanged = z.object({ portId: z.string(), ip: z.string(), mac: z.string(), observedBy: z.string() });

/** The new owner an `ipam.AddressPairOwnerChanged` records, or undefined for any other event (or one of another shape). */
export function parseAddressOwner(stored: Pick<StoredEvent, 'type' | 'aggregate' | 'data'>): AddressOwner | undefined {
  if (stored.aggregate.context !== 'ipam' || stored.type !== ADDRESS_OWNER_CHANGED) return undefined;
  const parsed = OwnerChanged.safeParse(stored.data);
  if (!parsed.success) return undefined;
  try {
    return { ...parsed.data, ip: canonicalAddress(parsed.data.ip) };
  } catch {
    return undefined;
  }
}
