/**
 * The status service's contract over NATS: queries at
 * `strata.qry.status.<op>`. Status changes are also published (not
 * requested) on `strata.realised.<tenant>.<kind>.<id>`; see views.ts.
 */
import { z } from 'zod';
import { defineContract, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { pageOf, StateDigest } from '../replies.js';
import { BarrierRequest, HypervisorStatusRef, ListHypervisorStatus, PortStatusRequest, RealisationRequest, StatusDigestRequest } from './commands.js';
import { historyQuery } from '../audit/history.js';
import { RealisedKind } from './hostview-query.js';
import { PortStatusValue } from './views.js';
import type * as v from './views.js';

const HostBehind = z.object({ hostId: z.string(), position: z.number(), appliedPosition: z.number().nullable(), reason: z.string() });
const RealisationView = z.object({
  kind: z.enum(RealisedKind),
  id: z.string(),
  hosts: z.number(),
  applied: z.number(),
  behind: z.array(HostBehind),
  realised: z.boolean(),
  seq: z.number(),
});
const PortStatusView = z.object({
  portId: z.string(),
  status: z.enum(PortStatusValue),
  reason: z.string(),
  hostId: z.string().nullable(),
  realisation: RealisationView,
});
const HypervisorStatusView = z.object({
  hostId: z.string(),
  registered: z.boolean(),
  alive: z.boolean(),
  lastSeenAt: z.string().nullable(),
  bootId: z.string().nullable(),
  version: z.string().nullable(),
  appliedPosition: z.number().nullable(),
  viewPosition: z.number().nullable(),
  error: z.string().nullable(),
  since: z.string().nullable(),
});
const BarrierView = z.object({ position: z.number(), realised: z.boolean(), behind: z.array(HostBehind), hosts: z.number() });

true satisfies Exactly<z.output<typeof HostBehind>, v.HostBehind>;
true satisfies Exactly<z.output<typeof RealisationView>, v.RealisationView>;
true satisfies Exactly<z.output<typeof PortStatusView>, v.PortStatusView>;
true satisfies Exactly<z.output<typeof HypervisorStatusView>, v.HypervisorStatusView>;
true satisfies Exactly<z.output<typeof BarrierView>, v.BarrierView>;

export const statusContract = defineContract('status', {
  commands: {},
  queries: {
    'port.status': { request: PortStatusRequest, reply: z.object({ items: z.array(PortStatusView) }) },
    'resource.realisation': { request: RealisationRequest, reply: RealisationView },
    barrier: { request: BarrierRequest, reply: BarrierView },
    'hypervisor.get': { request: HypervisorStatusRef, reply: HypervisorStatusView },
    'hypervisor.list': { request: ListHypervisorStatus, reply: pageOf(HypervisorStatusView) },
    'state.digest': { request: StatusDigestRequest, reply: StateDigest },
    history: historyQuery,
  },
});

export type StatusContract = typeof statusContract;
export type StatusQuery<K extends QueryName<StatusContract>> = QueryRequest<StatusContract, K>;
