/**
 * The audit service's NATS queries (it has no commands): where a resource's
 * history lives, with the question's points resolved; and, for admins, a
 * hypervisor at a point or between two.
 */
import { AUDIT_KINDS, auditContract, type AuditContract } from '@strata/contracts';
import { NotFoundError, ValidationError } from '@strata/errors';
import type { Handler } from '@strata/runtime';
import { queryHandlers as queryHandlersOf, requireAdmin, type Caller, type QueryAnswers } from '@strata/service-kit';
import { entryOf, type CatalogueState } from '../domain/catalogue.js';
import { hostAt, hostDiff, type RenderHost } from '../domain/host-lines.js';
import { locate } from '../domain/locate.js';
import { lastPoint, resolvePoint, resolvePoints, type LogPoints } from '../domain/points.js';
import type { AskHostAt } from './hostview.js';
import type { CatalogueProjection } from './projection.js';

export interface AuditDeps {
  log: LogPoints;
  askHostAt: AskHostAt;
  render: RenderHost;
}

/** Hosts are the operator's: a tenant is refused before anything is looked up (the host's existence included). */
function knownHost(state: CatalogueState, caller: Caller, hostId: string): void {
  requireAdmin(caller, "a hypervisor's rules, routes and neighbours at a point");
  if (entryOf(state, 'hypervisor', hostId) === undefined) throw new NotFoundError('hypervisor', hostId);
}

export function answers({ log, askHostAt, render }: AuditDeps): QueryAnswers<AuditContract, CatalogueState> {
  return {
    'resource.locate': async (s, c, q) => {
      const entry = locate(s, c, q.kind, q.id);
      const last = await lastPoint(log);
      const points = await resolvePoints(log, q.points, last, q.points.map((_, i) => `points[${i}]`));
      return { kind: q.kind, id: q.id, context: AUDIT_KINDS[q.kind].context, aggregateId: entry.aggregateId, tenant: entry.tenant, points, lastSeq: last };
    },
    'host.show': async (s, c, q) => {
      knownHost(s, c, q.hostId);
      const at = await resolvePoint(log, q.at, await lastPoint(log), 'at');
      return hostAt(render, q.hostId, at, await askHostAt({ hostId: q.hostId, toSeq: at.seq }));
    },
    'host.diff': async (s, c, q) => {
      knownHost(s, c, q.hostId);
      const last = await lastPoint(log);
      const from = await resolvePoint(log, q.from, last, 'from');
      const to = q.to === undefined ? last : await resolvePoint(log, q.to, last, 'to');
      if (from.seq > to.seq) {
        throw new ValidationError(`from (position ${from.seq}, ${from.requested}) is after to (position ${to.seq}, ${to.requested})`, { field: 'from' });
      }
      const reply = await askHostAt(from.seq === to.seq ? { hostId: q.hostId, toSeq: to.seq } : { hostId: q.hostId, toSeq: to.seq, fromSeq: from.seq });
      return hostDiff(render, q.hostId, from, to, reply);
    },
  };
}

export const queryHandlers = (projection: CatalogueProjection, deps: AuditDeps): Record<string, Handler> =>
  queryHandlersOf(auditContract, answers(deps), projection);
