/**
 * AuditService (docs/architecture.md, "Audit by replay"). A resource's
 * show/diff/blame is two asks and a pure derivation: the audit service
 * locates the resource (its owning context and aggregate) and resolves the
 * points asked to log positions, once; the owning service answers the
 * resource's versions up to the highest of them (its `history` query,
 * folded by its own code); contracts' derive.ts makes show, diff or blame
 * of those versions. The api asks both because it is the only signer of
 * requests to services. Hosts are forwarded to the audit service. Tenancy
 * and every domain rule are the services': another tenant's resource is
 * NOT_FOUND there, a tenant asking for a host PERMISSION_DENIED.
 */
import type { z } from 'zod';
import {
  AUDIT_KINDS,
  AuditBlameRequest,
  AuditDiffRequest,
  AuditHostDiffRequest,
  AuditHostRequest,
  AuditShowRequest,
  blameAt,
  diffBetween,
  showAt,
  type AuditKind,
  type AuditLocation,
  type AuditPoint,
  type AuditPointRequest,
  type EventRef,
  type HostLine,
  type ResourceHistoryReply,
  type ResourceHistoryRequest,
  type ResourceView,
} from '@strata/contracts';
import { StrataError, ErrorCode, ValidationError } from '@strata/errors';
import { toValidationError, type AuditClient, type RequestMeta } from '@strata/runtime';
import type {
  AuditEventRef,
  AuditHostLine,
  AuditPoint__Output,
  AuditPosition,
  AuditServiceHandlers,
  AuditUnreadableEvent,
} from '@strata/proto';
import { unary, type RpcDeps } from '../rpc.js';

/** What the api needs of an owning service: its `history` query (contracts audit/history.ts, in each owning service's contract). */
export interface HistoryClient {
  query(op: 'history', body: ResourceHistoryRequest, meta: RequestMeta): Promise<ResourceHistoryReply>;
}

/** Every context that owns an audit kind, with its history client: a new owning context in AUDIT_KINDS fails the build until it is wired here. */
export type OwnerContext = (typeof AUDIT_KINDS)[AuditKind]['context'];
export type HistoryClients = Readonly<Record<OwnerContext, HistoryClient>>;

/** A request as the contract reads it, or INVALID_ARGUMENT naming the field (the contract's own schema: one rule, defined once). */
function parsed<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw toValidationError(result.error);
  return result.data;
}

/** A proto point as the contract's `{position} | {time}`; absent: undefined (the contract says whether it may be). */
export function pointOf(field: string, p: AuditPoint__Output | null): AuditPointRequest | undefined {
  if (p === null) return undefined;
  const out: { position?: number; time?: string } = {};
  if (p.position !== undefined) {
    const n = Number(p.position);
    if (!Number.isSafeInteger(n)) throw new ValidationError(`${field}.position: ${p.position} is not a log position`, { field: `${field}.position` });
    out.position = n;
  }
  if (p.time !== undefined) out.time = p.time;
  return out as AuditPointRequest;
}

/** A point the contract requires, absent: said in the caller's terms. */
function required(field: string, p: AuditPoint__Output | null): AuditPointRequest {
  const point = pointOf(field, p);
  if (point === undefined) throw new ValidationError(`${field}: required, a log position or a time`, { field });
  return point;
}

/**
 * The audit service names a locate request's points by index (`points[1]`);
 * the caller named them `at`, `from`, `to`: a refusal of one says which, in
 * the message and in the field the client sees.
 */
export function inCallerTerms(err: unknown, names: readonly string[]): unknown {
  if (!(err instanceof StrataError) || err.code !== ErrorCode.InvalidArgument) return err;
  const rename = (text: string): string => names.reduce((t, name, i) => t.replaceAll(`points[${i}]`, name).replaceAll(`points.${i}`, name), text);
  const { field } = err.details;
  return new StrataError(err.code, rename(err.message), { ...err.details, ...(typeof field === 'string' ? { field: rename(field) } : {}) }, { cause: err });
}

const toPosition = (p: AuditPoint): AuditPosition => ({ seq: p.seq, storedAt: p.storedAt, requested: p.requested });
const toEventRef = (e: EventRef): AuditEventRef => ({ ...e, reason: e.reason ?? '', causationId: e.causationId ?? undefined });
const toUnreadable = (h: Pick<ResourceHistoryReply, 'unreadable'>): AuditUnreadableEvent[] => h.unreadable.map((u) => ({ seq: u.seq, reason: u.reason }));
const toHostLine = (l: HostLine): AuditHostLine => ({ kind: l.kind, where: l.where, text: l.text });
const viewJson = (v: ResourceView): string => JSON.stringify(v);
/** A field value as JSON text; undefined stays absent (the field did not exist), JSON null is "null". */
const valueJson = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));

export function auditHandlers(deps: RpcDeps, audit: AuditClient, owners: HistoryClients): AuditServiceHandlers {
  /** Where the resource's history lives, and the points asked (by name: at, from, to) resolved to positions by the audit service, once. */
  async function locate(kind: AuditKind, id: string, asked: Array<[string, AuditPointRequest]>, meta: RequestMeta): Promise<AuditLocation> {
    try {
      return await audit.query('resource.locate', { kind, id, points: asked.map(([, p]) => p) }, meta);
    } catch (err) {
      throw inCallerTerms(err, asked.map(([name]) => name));
    }
  }

  /**
   * The resource's versions up to `upTo` (the highest position the answer
   * uses), from the service that owns it. The owner answers NOT_FOUND when
   * none of the resource's events is at or before `upTo`; the audit service
   * has just located it for this caller (same tenancy rule), so that means
   * it did not exist yet there: no versions, and the answer says so.
   */
  async function versions(location: AuditLocation, upTo: AuditPoint, meta: RequestMeta): Promise<Pick<ResourceHistoryReply, 'versions' | 'unreadable'>> {
    const owner = (owners as Partial<Record<string, HistoryClient>>)[location.context];
    if (owner === undefined) throw new StrataError(ErrorCode.Internal, `no history client for context ${location.context} (${location.kind})`);
    try {
      return await owner.query('history', { kind: location.kind, id: location.id, aggregateId: location.aggregateId, toSeq: upTo.seq }, meta);
    } catch (err) {
      if (err instanceof StrataError && err.code === ErrorCode.NotFound) return { versions: [], unreadable: [] };
      throw err;
    }
  }

  return {
    Show: unary(deps, 'Show', async (req, { meta }) => {
      const q = parsed(AuditShowRequest, { kind: req.kind, id: req.id, at: required('at', req.at) });
      const location = await locate(q.kind, q.id, [['at', q.at]], meta);
      const at = location.points[0]!;
      const history = await versions(location, at, meta);
      const show = showAt(q.kind, q.id, history.versions, at);
      return {
        kind: show.kind,
        id: show.id,
        at: toPosition(show.at),
        viewJson: viewJson(show.view),
        lastChange: show.lastChange === null ? null : toEventRef(show.lastChange),
        unreadable: toUnreadable(history),
      };
    }),

    Diff: unary(deps, 'Diff', async (req, { meta }) => {
      const q = parsed(AuditDiffRequest, { kind: req.kind, id: req.id, from: required('from', req.from), to: pointOf('to', req.to) });
      const location = await locate(q.kind, q.id, q.to === undefined ? [['from', q.from]] : [['from', q.from], ['to', q.to]], meta);
      const from = location.points[0]!;
      const to = location.points[1] ?? location.lastSeq;
      if (from.seq > to.seq) {
        // In the words of the audit service's host.diff, so both diffs refuse alike.
        throw new ValidationError(`from (position ${from.seq}, ${from.requested}) is after to (position ${to.seq}, ${to.requested})`, { field: 'from' });
      }
      const history = await versions(location, to, meta);
      const diff = diffBetween(q.kind, q.id, history.versions, from, to);
      return {
        kind: diff.kind,
        id: diff.id,
        from: toPosition(diff.from),
        to: toPosition(diff.to),
        beforeJson: viewJson(diff.before),
        afterJson: viewJson(diff.after),
        changes: diff.changes.map((c) => ({ path: c.path, beforeJson: valueJson(c.before), afterJson: valueJson(c.after), event: toEventRef(c.event) })),
        unreadable: toUnreadable(history),
      };
    }),

    Blame: unary(deps, 'Blame', async (req, { meta }) => {
      const asked = pointOf('at', req.at);
      const q = parsed(AuditBlameRequest, { kind: req.kind, id: req.id, ...(asked === undefined ? {} : { at: asked }) });
      const location = await locate(q.kind, q.id, q.at === undefined ? [] : [['at', q.at]], meta);
      const at = location.points[0] ?? location.lastSeq;
      const history = await versions(location, at, meta);
      const blame = blameAt(q.kind, q.id, history.versions, at);
      return {
        kind: blame.kind,
        id: blame.id,
        at: toPosition(blame.at),
        viewJson: viewJson(blame.view),
        fields: blame.fields.map((f) => ({ path: f.path, valueJson: JSON.stringify(f.value), event: toEventRef(f.event) })),
        unreadable: toUnreadable(history),
      };
    }),

    Host: unary(deps, 'Host', async (req, { meta }) => {
      const q = parsed(AuditHostRequest, { hostId: req.hostId, at: required('at', req.at) });
      const host = await audit.query('host.show', q, meta);
      return {
        hostId: host.hostId,
        at: toPosition(host.at),
        lines: host.lines.map(toHostLine),
        keys: host.keys,
        snapshotSeq: host.snapshotSeq,
        replayed: host.replayed,
      };
    }),

    HostDiff: unary(deps, 'HostDiff', async (req, { meta }) => {
      const to = pointOf('to', req.to);
      const q = parsed(AuditHostDiffRequest, { hostId: req.hostId, from: required('from', req.from), ...(to === undefined ? {} : { to }) });
      const diff = await audit.query('host.diff', q, meta);
      return {
        hostId: diff.hostId,
        from: toPosition(diff.from),
        to: toPosition(diff.to),
        changes: diff.changes.map((c) => ({ change: c.change, line: toHostLine(c.line), event: c.event === null ? null : toEventRef(c.event) })),
        events: diff.events.map((e) => ({ event: toEventRef(e.event), keys: e.keys })),
        perEvent: diff.perEvent,
        snapshotSeq: diff.snapshotSeq,
        replayed: diff.replayed,
      };
    }),
  };
}
