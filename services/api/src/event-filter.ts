/**
 * Which events a ListEvents/Watch caller receives. Pure, so the tenant
 * scoping rules are unit-tested without a log: a tenant sees only events
 * whose envelope tenant is its own, an admin sees all (or one tenant).
 */
import { EVENT_SUBJECT_ROOT } from '@strata/contracts';
import { PermissionDeniedError, ValidationError } from '@strata/errors';
import type { StoredEvent } from '@strata/eventlog';
import { toSafeInteger } from '@strata/proto';
import type { Principal } from './auth.js';

export interface EventFilterRequest {
  types: string[];
  tenant?: string;
  aggregateId?: string;
  since?: string;
  until?: string;
}

export interface EventFilter {
  /** Narrows the log read itself (JetStream subject filter); undefined = every event. */
  subject?: string;
  types: ReadonlySet<string>;
  tenant?: string;
  /** Inclusive bounds on storedAt, epoch ms. */
  since?: number;
  until?: number;
}

// RFC 3339 with an explicit offset: a zone-less time would silently mean the server's zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const SUBJECT_TOKEN = /^[^.*>\s]+$/;

function instant(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = RFC3339.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new ValidationError(`${field}: must be an RFC 3339 time like 2024-05-01T14:03:00Z`, { field });
  return ms;
}

export function eventFilter(req: EventFilterRequest, principal: Principal): EventFilter {
  if (!principal.admin && req.tenant !== undefined && req.tenant !== principal.tenant) {
    throw new PermissionDeniedError(`tenant ${principal.tenant} may only read its own events, not those of ${req.tenant}`, {
      field: 'tenant',
    });
  }
  if (req.aggregateId !== undefined && !SUBJECT_TOKEN.test(req.aggregateId)) {
    throw new ValidationError('aggregateId: must be an aggregate id (no dots, wildcards or spaces)', { field: 'aggregateId' });
  }
  const filter: EventFilter = { types: new Set(req.types.filter((t) => t !== '')) };
  const tenant = principal.admin ? req.tenant : principal.tenant;
  if (tenant !== undefined) filter.tenant = tenant;
  // Aggregate subjects are <root>.<context>.<type>.<id>: the id alone is enough to filter on the server.
  if (req.aggregateId !== undefined) filter.subject = `${EVENT_SUBJECT_ROOT}.*.*.${req.aggregateId}`;
  const since = instant(req.since, 'since');
  const until = instant(req.until, 'until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  if (since !== undefined && until !== undefined && since > until) {
    throw new ValidationError('since: must not be after until', { field: 'since' });
  }
  return filter;
}

export function matches(f: EventFilter, e: StoredEvent): boolean {
  if (f.tenant !== undefined && e.tenant !== f.tenant) return false;
  if (f.types.size > 0 && !f.types.has(e.type)) return false;
  if (f.since !== undefined || f.until !== undefined) {
    const at = Date.parse(e.storedAt);
    if (f.since !== undefined && at < f.since) return false;
    if (f.until !== undefined && at > f.until) return false;
  }
  return true;
}

/** A client-supplied sequence (uint64 on the wire) as a number; 1 when absent. */
export function fromSeqOf(value: string | undefined): number {
  if (value === undefined) return 1;
  try {
    return Math.max(1, toSafeInteger(value, 'fromSeq'));
  } catch {
    throw new ValidationError(`fromSeq: ${value} is out of range`, { field: 'fromSeq' });
  }
}
