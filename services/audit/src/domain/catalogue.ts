/**
 * The catalogue of the log: for every auditable resource (AUDIT_KINDS), the
 * aggregate whose events hold its history, the tenant that owns it and the
 * first and last position of the events that touched it. Folded from every
 * event of the log, envelope only: which kinds an event touches depends on
 * its aggregate (context and type) and, for a resource inside a larger
 * aggregate (a port in its network's stream), on the top-level field of its
 * data that names it. No context's registry is needed, so the catalogue
 * follows every context, also ones added later, by AUDIT_KINDS alone.
 *
 * state + event → state, mutating the state it is given (owned by one
 * projection), like every fold here.
 */
import { AUDIT_KINDS, AUDIT_KIND_NAMES, AuditResourceId, type AuditKind, type AuditKindSpec } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import type { ProjectedState } from '@strata/service-kit';

export interface CatalogueEntry {
  /** The aggregate (of the kind's aggregate type, in its context) whose events hold the resource. */
  aggregateId: string;
  /** The tenant of the resource's first event: its owner (`_system` for operator resources). */
  tenant: string;
  /** The positions of the first and the last event that touched it. */
  firstSeq: number;
  lastSeq: number;
}

export interface CatalogueState extends ProjectedState {
  /** kind → resource id → entry (plain objects: snapshots are JSON). */
  resources: Partial<Record<AuditKind, Record<string, CatalogueEntry>>>;
}

export const initialCatalogue = (): CatalogueState => ({ seq: 0, resources: {} });

/** The kinds whose events are an aggregate's, by `<context>.<aggregate type>`. */
const KINDS_BY_AGGREGATE: ReadonlyMap<string, readonly AuditKind[]> = (() => {
  const m = new Map<string, AuditKind[]>();
  for (const kind of AUDIT_KIND_NAMES) {
    const spec = AUDIT_KINDS[kind];
    const key = `${spec.context}.${spec.aggregate}`;
    m.set(key, [...(m.get(key) ?? []), kind]);
  }
  return m;
})();

/**
 * An id as a locate can ask for it (AuditResourceId): anything else in an
 * event's data (a name that is not an id, `__proto__`) is not catalogued.
 */
const isResourceId = (v: unknown): v is string => typeof v === 'string' && AuditResourceId.safeParse(v).success;

/** The resources one event touches: each kind with the id it names there. */
export function touchedBy(event: Pick<StoredEvent, 'aggregate' | 'data'>): Array<{ kind: AuditKind; id: string }> {
  const { context, type, id } = event.aggregate;
  const out: Array<{ kind: AuditKind; id: string }> = [];
  for (const kind of KINDS_BY_AGGREGATE.get(`${context}.${type}`) ?? []) {
    const spec: AuditKindSpec = AUDIT_KINDS[kind];
    const data = event.data;
    const named = spec.idField === undefined ? id : typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>)[spec.idField] : undefined;
    if (isResourceId(named)) out.push({ kind, id: named });
  }
  return out;
}

/** A resource's entry, own properties only (an id like `constructor` is not an Object method here). */
export function entryOf(state: CatalogueState, kind: AuditKind, id: string): CatalogueEntry | undefined {
  const byId = state.resources[kind];
  return byId !== undefined && Object.hasOwn(byId, id) ? byId[id] : undefined;
}

export function evolve(state: CatalogueState, event: StoredEvent): void {
  state.seq = event.seq;
  // An unreadable message (see StoredEvent.unreadable) belongs to no tenant: it names no resource's owner.
  if (event.unreadable) return;
  for (const { kind, id } of touchedBy(event)) {
    const entry = entryOf(state, kind, id);
    if (entry === undefined) {
      (state.resources[kind] ??= {})[id] = { aggregateId: event.aggregate.id, tenant: event.tenant, firstSeq: event.seq, lastSeq: event.seq };
    } else if (entry.aggregateId === event.aggregate.id) {
      // The same id named in another aggregate is not this resource's history (its first aggregate is).
      entry.lastSeq = event.seq;
    }
  }
}

/** Whether an event can touch any auditable resource (the others only move the sequence). */
export const isRelevant = (event: StoredEvent): boolean => KINDS_BY_AGGREGATE.has(`${event.aggregate.context}.${event.aggregate.type}`);
