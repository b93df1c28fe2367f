/**
 * The audit service's contract over NATS: queries at `strata.qry.audit.<op>`
 * (it writes nothing). A resource's show/diff/blame is answered by the api
 * from two asks — `resource.locate` here, then the owning service's
 * `history` — and `derive.ts`; the reply schemas of those answers are
 * exported for the api's and the CLI's checks. Tenant-scoped like every query: a tenant sees only
 * its own resources' history (another tenant's is NOT_FOUND, exactly like a
 * missing one); hosts are for admins only.
 */
import { z } from 'zod';
import { defineContract, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { AuditHostDiffRequest, AuditHostRequest, AuditLocateRequest } from './commands.js';
import { EventRef, ResourceView } from './history.js';
import { AuditKind } from './kinds.js';
import type * as v from './views.js';

const AuditPoint = z.object({ seq: z.number().int(), storedAt: z.string(), requested: z.string() });
const AuditLocation = z.object({
  kind: AuditKind,
  id: z.string(),
  context: z.string(),
  aggregateId: z.string(),
  tenant: z.string(),
  points: z.array(AuditPoint),
  lastSeq: AuditPoint,
});
const AuditShow = z.object({ kind: AuditKind, id: z.string(), at: AuditPoint, view: ResourceView, lastChange: EventRef.nullable() });
const FieldChange = z.object({ path: z.string(), before: z.unknown().optional(), after: z.unknown().optional(), event: EventRef });
const AuditDiff = z.object({
  kind: AuditKind,
  id: z.string(),
  from: AuditPoint,
  to: AuditPoint,
  before: ResourceView,
  after: ResourceView,
  changes: z.array(FieldChange),
});
const AuditBlame = z.object({
  kind: AuditKind,
  id: z.string(),
  at: AuditPoint,
  view: ResourceView,
  fields: z.array(z.object({ path: z.string(), value: z.unknown(), event: EventRef })),
});
const HostLine = z.object({
  kind: z.enum(['link', 'address', 'route', 'neighbour', 'fdb', 'nft-rule', 'nft-set', 'nft-element', 'dhcp']),
  where: z.string(),
  text: z.string(),
});
const HostAt = z.object({
  hostId: z.string(),
  at: AuditPoint,
  lines: z.array(HostLine),
  keys: z.number().int(),
  snapshotSeq: z.number().int(),
  replayed: z.number().int(),
});
const HostDiff = z.object({
  hostId: z.string(),
  from: AuditPoint,
  to: AuditPoint,
  changes: z.array(z.object({ change: z.enum(['added', 'removed']), line: HostLine, event: EventRef.nullable() })),
  events: z.array(z.object({ event: EventRef, keys: z.array(z.string()) })),
  perEvent: z.boolean(),
  snapshotSeq: z.number().int(),
  replayed: z.number().int(),
});

true satisfies Exactly<z.output<typeof AuditPoint>, v.AuditPoint>;
true satisfies Exactly<z.output<typeof AuditLocation>, v.AuditLocation>;
true satisfies Exactly<z.output<typeof AuditShow>, v.AuditShow>;
true satisfies Exactly<z.output<typeof AuditDiff>, v.AuditDiff>;
true satisfies Exactly<z.output<typeof AuditBlame>, v.AuditBlame>;
true satisfies Exactly<z.output<typeof HostLine>, v.HostLine>;
true satisfies Exactly<z.output<typeof HostAt>, v.HostAt>;
true satisfies Exactly<z.output<typeof HostDiff>, v.HostDiff>;

export const AuditReplies = { show: AuditShow, diff: AuditDiff, blame: AuditBlame } as const;

export const auditContract = defineContract('audit', {
  commands: {},
  queries: {
    'resource.locate': { request: AuditLocateRequest, reply: AuditLocation },
    'host.show': { request: AuditHostRequest, reply: HostAt },
    'host.diff': { request: AuditHostDiffRequest, reply: HostDiff },
  },
});

export type AuditContract = typeof auditContract;
export type AuditQuery<K extends QueryName<AuditContract>> = QueryRequest<AuditContract, K>;
