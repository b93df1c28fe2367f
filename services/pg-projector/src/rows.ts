/**
 * What one stored event becomes in PostgreSQL: its row of `events`, and the
 * resources it is a version of. Pure: the same event gives the same rows on
 * every run, which is what makes a rebuild from position 1 give identical
 * tables.
 *
 * Which resources an event belongs to follows the lead's audit kinds
 * (libs/contracts/src/audit/kinds.ts) and nothing else: an event of a
 * kind's aggregate is one of that resource's events — for a kind inside a
 * larger aggregate, when the kind's id field of the event's data is a
 * string (that is the resource's id); for a kind that is the aggregate
 * itself, always (the aggregate id is the resource's id). So a port's event
 * is a version of the port and of its network, as the audit service counts
 * them. The read model applies no domain rule beyond that table.
 */
import { AUDIT_KINDS, AUDIT_KIND_NAMES, type AuditKind } from '@strata/contracts/audit/kinds';
import type { StoredEvent } from '@strata/eventlog';

/** One row of `events`, in the table's column order (see schema.ts). */
export interface EventRow {
  seq: number;
  id: string;
  type: string;
  version: number;
  context: string;
  aggregateType: string;
  aggregateId: string;
  subject: string;
  tenant: string;
  actor: string;
  /** Null when the envelope's time is no valid instant (an unreadable event). */
  occurredAt: string | null;
  storedAt: string;
  correlationId: string;
  causationId: string | null;
  reason: string | null;
  /** JSON text (jsonb), or null. */
  trace: string | null;
  /** JSON text (jsonb), or null (an unreadable event). */
  data: string | null;
  /** Why the event could not be read (`envelope: …`), or null. */
  unreadable: string | null;
}

/** A resource an event is a version of. */
export interface ResourceRef {
  kind: AuditKind;
  id: string;
}

/**
 * PostgreSQL text cannot hold NUL, and jsonb no \u0000 escape: both become
 * U+FFFD, so such an event is still projected (a row that never commits
 * would stop the model for good). The same input always gives the same text.
 */
export const pgText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);
/** JSON text with every \u0000 escape (an odd number of backslashes before `u0000`) replaced by \ufffd. */
export const pgJson = (value: unknown): string => JSON.stringify(value).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');

const validInstant = (s: string): string | null => (s !== '' && Number.isFinite(Date.parse(s)) ? new Date(Date.parse(s)).toISOString() : null);

export function eventRow(e: StoredEvent): EventRow {
  return {
    seq: e.seq,
    id: pgText(e.id),
    type: pgText(e.type),
    version: e.version,
    context: pgText(e.aggregate.context),
    aggregateType: pgText(e.aggregate.type),
    aggregateId: pgText(e.aggregate.id),
    subject: pgText(e.subject),
    tenant: pgText(e.tenant),
    actor: pgText(e.actor ?? ''),
    occurredAt: typeof e.occurredAt === 'string' ? validInstant(e.occurredAt) : null,
    storedAt: e.storedAt,
    correlationId: pgText(e.correlationId ?? ''),
    causationId: typeof e.causationId === 'string' ? pgText(e.causationId) : null,
    reason: typeof e.reason === 'string' ? pgText(e.reason) : null,
    trace: e.trace ? pgJson(e.trace) : null,
    data: e.unreadable || e.data === undefined ? null : pgJson(e.data),
    unreadable: e.unreadable ? pgText(`${e.unreadable.reason}: ${e.unreadable.message}`) : null,
  };
}

/** The resources `e` is a version of (none for an unreadable event: it changed nothing anyone could read). */
export function resourcesOf(e: StoredEvent): ResourceRef[] {
  if (e.unreadable) return [];
  const data = typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : {};
  const out: ResourceRef[] = [];
  for (const kind of AUDIT_KIND_NAMES) {
    const spec = AUDIT_KINDS[kind];
    if (spec.context !== e.aggregate.context || spec.aggregate !== e.aggregate.type) continue;
    if (!('idField' in spec)) {
      out.push({ kind, id: pgText(e.aggregate.id) });
      continue;
    }
    const id = data[spec.idField];
    if (typeof id === 'string' && id !== '') out.push({ kind, id: pgText(id) });
  }
  return out;
}

/** The version-history table of a kind: `versions_security_group` for `security-group`. */
export const versionTable = (kind: AuditKind): string => `versions_${kind.replaceAll('-', '_')}`;
