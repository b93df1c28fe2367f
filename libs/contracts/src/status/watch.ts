/**
 * Subjects a watcher of status changes subscribes to (the status service
 * publishes on `strata.realised.<tenant>.<kind>.<id>`, views.ts). The tenant
 * is a subject token, so a subscription is scoped by the subject alone.
 */
export const REALISED_PREFIX = 'strata.realised';
/** The pseudo-tenant of hypervisor changes (a tenant id cannot start with '_'). */
export const REALISED_ADMIN_TENANT = '_admin';

/** One tenant's changes, or (undefined: admins) every change, hypervisors included. */
export const realisedWatchSubject = (tenant?: string): string => (tenant === undefined ? `${REALISED_PREFIX}.>` : `${REALISED_PREFIX}.${tenant}.>`);
