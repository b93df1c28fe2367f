/** Which resources a caller may audit: tenant-scoped like every query, with no existence oracle. */
import { AUDIT_KINDS, type AuditKind } from '@strata/contracts';
import { NotFoundError } from '@strata/errors';
import { canSee, type Caller } from '@strata/service-kit';
import { entryOf, type CatalogueEntry, type CatalogueState } from './catalogue.js';

/**
 * The resource's entry, if the caller may audit it. A missing resource,
 * another tenant's, and an operator kind asked by a tenant are all the same
 * NOT_FOUND "<kind> <id> not found": a tenant learns nothing about ids that
 * are not its own.
 */
export function locate(state: CatalogueState, caller: Caller, kind: AuditKind, id: string): CatalogueEntry {
  const entry = entryOf(state, kind, id);
  const allowed = entry !== undefined && canSee(caller, entry.tenant) && (AUDIT_KINDS[kind].tenantScoped || caller.admin);
  if (!allowed) throw new NotFoundError(kind, id);
  return entry;
}
