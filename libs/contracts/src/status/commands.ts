/**
 * The status service's request schemas. It has no commands a platform
 * calls: its only writes are its own liveness decisions. Queries are
 * tenant-scoped like everything else: a tenant asks about its own ports and
 * resources; hypervisors and the whole-cloud barrier are admin-only.
 */
import { z } from 'zod';
import { MAX_STATUS_PORTS } from '../bounds.js';
import { HostId, Id, ListOptions } from '../common.js';
import { ResourceRef } from './hostview-query.js';

/** Several ports at once (a list view's status column). */
export const PortStatusRequest = z.object({
  ids: z.array(Id).min(1).max(MAX_STATUS_PORTS, { message: `at most ${MAX_STATUS_PORTS} ports per request` }),
});
export const RealisationRequest = ResourceRef;
export const BarrierRequest = z.object({ position: z.number().int().nonnegative() });
export const HypervisorStatusRef = z.object({ id: HostId });
export const ListHypervisorStatus = ListOptions.extend({});
export const StatusDigestRequest = z.object({});
