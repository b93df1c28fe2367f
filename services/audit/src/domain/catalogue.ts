/**
 * The catalogue of the log: for every auditable resource (AUDIT_KINDS), the
 * aggregate whose events hold its history, the tenant that owns it and the
 * first and last position of the events that touched it. Folded from every
 * event of the log, envelope only: which kinds an event touches depends on
 * its aggregate (context and type) and, for a resource inside a larger
 * aggregate (a port in its network's stream), on the top-level field of its
 * data that names it; and a few events of another aggregate belong to a
 * kind's history too (`alsoIn`: a network is created and deleted on IPAM's
 * cloud aggregate). No context's registry is needed, so the catalogue
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
  /** For a kind inside an aggregate that also takes another aggregate's events (alsoIn): kind → aggregate id → its resources' ids. */
  members: Partial<Record<AuditKind, Record<string, string[]>>>;
}

export const initialCatalogue = (): CatalogueState => ({ seq: 0, resources: {}, members: {} });

/** The kinds whose events are an aggregate's, by `<context>.<aggregate type>`. */
const KINDS_BY_AGGREGATE = new Map<string, AuditKind[]>();
/** The kinds whose history also takes some events of one other aggregate (AuditKindSpec.alsoIn), by `<context>.<type>.<id>`. */
const ALSO_IN_BY_AGGREGATE = new Map<string, Array<{ kind: AuditKind; field: string }>>();
for (const kind of AUDIT_KIND_NAMES) {
  const spec: AuditKindSpec = AUDIT_KINDS[kind];
  const key = `${spec.context}.${spec.aggregate}`;
  KINDS_BY_AGGREGATE.set(key, [...(KINDS_BY_AGGREGATE.get(key) ?? []), kind]);
  if (spec.alsoIn) {
    const at = `${spec.context}.${spec.alsoIn.aggregate}.${spec.alsoIn.aggregateId}`;
    ALSO_IN_BY_AGGREGATE.set(at, [...(ALSO_IN_BY_AGGREGATE.get(at) ?? []), { kind, field: spec.alsoIn.field }]);
  }
}

/**
 * An id as a locate can ask for it (AuditResourceId): anything else in an
 * event's data (a name that is not an id, `__proto__`) is not catalogued.
 */
const isResourceId = (v: unknown): v is string => typeof v === 'string' && AuditResourceId.safeParse(v).success;

const fieldOf = (data: unknown, field: string): unknown =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>)[field] : undefined;

/** A resource an event touches: its kind, its id, and the aggregate whose events hold its history. */
export interface Touched {
  kind: AuditKind;
  id: string;
  aggregateId: string;
}

/**
 * The resources one event touches. Its aggregate's own kinds: the aggregate
 * itself, or the resource its data names (`idField`). And the kinds that
 * take this aggregate's events naming their aggregate (`alsoIn`: IPAM
 * creates and deletes a network on its cloud aggregate): the aggregate so
 * named — for a kind inside it (a subnet, a port), every resource of that
 * aggregate, given by `membersOf`.
 */
export function touchedBy(event: Pick<StoredEvent, 'aggregate' | 'data'>, membersOf: (kind: AuditKind, aggregateId: string) => readonly string[] = () => []): Touched[] {
  const { context, type, id } = event.aggregate;
  const out: Touched[] = [];
  for (const kind of KINDS_BY_AGGREGATE.get(`${context}.${type}`) ?? []) {
    const spec: AuditKindSpec = AUDIT_KINDS[kind];
    const named = spec.idField === undefined ? id : fieldOf(event.data, spec.idField);
    if (isResourceId(named)) out.push({ kind, id: named, aggregateId: id });
  }
  for (const { kind, field } of ALSO_IN_BY_AGGREGATE.get(`${context}.${type}.${id}`) ?? []) {
    const aggregateId = fieldOf(event.data, field);
    if (!isResourceId(aggregateId)) continue;
    if ((AUDIT_KINDS[kind] as AuditKindSpec).idField === undefined) out.push({ kind, id: aggregateId, aggregateId });
    else for (const member of membersOf(kind, aggregateId)) out.push({ kind, id: member, aggregateId });
  }
  return out;
}

/** A resource's entry, own properties only (an id like `constructor` is not an Object method here). */
export function entryOf(state: CatalogueState, kind: AuditKind, id: string): CatalogueEntry | undefined {
  const byId = state.resources[kind];
  return byId !== undefined && Object.hasOwn(byId, id) ? byId[id] : undefined;
}

const membersIn = (state: CatalogueState) => (kind: AuditKind, aggregateId: string): readonly string[] => {
  const byAggregate = state.members[kind];
  return byAggregate !== undefined && Object.hasOwn(byAggregate, aggregateId) ? byAggregate[aggregateId]! : [];
};

export function evolve(state: CatalogueState, event: StoredEvent): void {
  state.seq = event.seq;
  // An unreadable message (see StoredEvent.unreadable) belongs to no tenant: it names no resource's owner.
  if (event.unreadable) return;
  for (const { kind, id, aggregateId } of touchedBy(event, membersIn(state))) {
    const entry = entryOf(state, kind, id);
    if (entry === undefined) {
      (state.resources[kind] ??= {})[id] = { aggregateId, tenant: event.tenant, firstSeq: event.seq, lastSeq: event.seq };
      // Kinds inside an aggregate that takes events of another (alsoIn) are indexed by aggregate, for those events.
      const spec: AuditKindSpec = AUDIT_KINDS[kind];
      if (spec.idField !== undefined && spec.alsoIn !== undefined) {
        const byAggregate = (state.members[kind] ??= {});
        (Object.hasOwn(byAggregate, aggregateId) ? byAggregate[aggregateId]! : (byAggregate[aggregateId] = [])).push(id);
      }
    } else if (entry.aggregateId === aggregateId) {
      // The same id named in another aggregate is not this resource's history (its first aggregate is).
      entry.lastSeq = event.seq;
    }
  }
}

/** Whether an event can touch any auditable resource (the others only move the sequence). */
export const isRelevant = (event: StoredEvent): boolean => {
  const { context, type, id } = event.aggregate;
  return KINDS_BY_AGGREGATE.has(`${context}.${type}`) || ALSO_IN_BY_AGGREGATE.has(`${context}.${type}.${id}`);
};
