/** Field schemas shared by every Strata contract, with error messages that say what is wrong. */
import { z } from 'zod';
import { MAX_NAME_LENGTH, MAX_PAGE_TOKEN_LENGTH } from './bounds.js';
import { AddressError, canonicalAddress, formatPrefix, parsePrefix } from '@strata/netaddr';

/** Resource ids are lowercase UUIDs: unique without coordination and safe as NATS subject tokens. */
export const Id = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
  message: 'must be a lowercase UUID like 3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b',
});

/** Tenants and hypervisors are named by operators: DNS-label-like, safe as subject tokens. */
export const Name63 = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/, { message: 'must be 1-63 of a-z 0-9 _ - (starting and ending alphanumeric)' });

export const TenantId = Name63;
export const HostId = Name63;

/** Free-text display names. */
export const DisplayName = z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` }).default('');

function canonical(kind: 'address' | 'prefix') {
  return (text: string, ctx: z.RefinementCtx): string => {
    try {
      return kind === 'address' ? canonicalAddress(text) : formatPrefix(parsePrefix(text));
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof AddressError ? e.message : String(e) });
      return z.NEVER;
    }
  };
}

/** An IPv4 or IPv6 address, normalised to canonical text. */
export const IpAddress = z.string().transform(canonical('address'));
/** A CIDR prefix with host bits zero, normalised to canonical text. */
export const Cidr = z.string().transform(canonical('prefix'));

/** MAC address, normalised to lowercase colon form; unicast only (a multicast MAC on a port breaks L2). */
export const MacAddress = z
  .string()
  .regex(/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/, { message: 'must be a MAC address like 02:ab:cd:ef:01:23' })
  .transform((m) => m.toLowerCase().replaceAll('-', ':'))
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, { message: 'must be a unicast MAC (first octet even)' });

/** Paging for list queries. */
export const ListOptions = z.object({
  limit: z.number().int().min(1).max(10_000).default(1000),
  /** Opaque: the id of the last item of the previous page. */
  after: z.string().max(MAX_PAGE_TOKEN_LENGTH, { message: `must be at most ${MAX_PAGE_TOKEN_LENGTH} characters` }).default(''),
});
