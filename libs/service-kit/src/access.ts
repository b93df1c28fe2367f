/** Tenant scoping rules, shared by commands and queries (the same in every service). */
import { NotFoundError, PermissionDeniedError } from '@strata/errors';
import type { Caller } from './decision.js';

/** The tenant a new resource belongs to: the caller's own, or (admins only) the one named. */
export function owningTenant(caller: Caller, requested: string | undefined): string {
  if (requested === undefined || requested === caller.tenant) return caller.tenant;
  if (!caller.admin) {
    throw new PermissionDeniedError(`tenant ${caller.tenant} may not create resources for tenant ${requested}`, { field: 'tenant' });
  }
  return requested;
}

export const canSee = (caller: Caller, owner: string): boolean => caller.admin || caller.tenant === owner;

/**
 * Look up a tenant-owned resource. Another tenant's resource is reported as
 * not found, exactly like a missing one, so ids of other tenants leak nothing.
 */
export function visible<T extends { tenant: string }>(caller: Caller, kind: string, id: string, entry: T | undefined): T {
  if (!entry || !canSee(caller, entry.tenant)) throw new NotFoundError(kind, id);
  return entry;
}

export function requireAdmin(caller: Caller, action: string): void {
  if (!caller.admin) throw new PermissionDeniedError(`${action} needs an admin token; ${caller.actor} is a tenant token for ${caller.tenant}`);
}
