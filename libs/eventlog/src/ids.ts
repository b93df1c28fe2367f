/**
 * Every id Strata derives instead of drawing at random, in one place.
 *
 * Three families, each with its own domain separator so no value of one can
 * ever equal a value of another:
 *
 * - system-derived ids (a tenant's default security group, a BGP route's
 *   aggregate): `uuidFromHash('<purpose>:<parts>')`, formulas kept as they
 *   were first written (ids already in the log must not change);
 * - the id of a resource a client request creates: `requestResourceId`, a
 *   hash of (service, resource kind, the requesting tenant, its request id),
 *   never the raw request id: a retry by the same tenant gets the same id,
 *   and no other tenant's request (nor any system formula) can produce it —
 *   choosing another tenant's id would need a sha256 preimage;
 * - the ids of the events a client request appends: `requestEventId`, which
 *   carries the request's key (context, tenant, request id), a fingerprint
 *   of the command and the resource it answered with, so the log itself is
 *   the record of which requests were applied (see service-kit's request index).
 */
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';

// Monotonic so ids made in the same millisecond still sort in creation order.
const nextUlid = monotonicFactory();

/** A new globally unique, time-sortable event id (ULID). */
export function newEventId(): string {
  return nextUlid();
}

/** A UUID-shaped sha256 of `text` (version nibble 4, variant 8), so it passes the `Id` schema. */
export function uuidFromHash(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  const hex = `${h.slice(0, 12)}4${h.slice(13, 16)}8${h.slice(17, 32)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Who asked, in the scope idempotency is keyed by: the requesting tenant and its request id. */
export interface RequestScope {
  /** The tenant of the caller (not the tenant an admin creates for): request ids are that caller's namespace. */
  tenant: string;
  requestId: string;
}

// Domain separators: distinct prefixes, and the parts JSON-encoded so no two part lists hash the same text.
const RESOURCE_DOMAIN = 'strata/request-resource/v1:';
const REQUEST_DOMAIN = 'strata/request/v1:';

/** The id of the `kind` resource (e.g. `network`) that `service`'s command creates for this request. */
export function requestResourceId(service: string, kind: string, scope: RequestScope): string {
  return uuidFromHash(RESOURCE_DOMAIN + JSON.stringify([service, kind, scope.tenant, scope.requestId]));
}

/** The key of one request to one event context: the request index and the request's event ids use it. */
export function requestKey(context: string, scope: RequestScope): string {
  return uuidFromHash(REQUEST_DOMAIN + JSON.stringify([context, scope.tenant, scope.requestId]));
}

/** What a request's event id says about the request (parsed back when the log is folded). */
export interface RequestEventIdParts {
  /** `requestKey(context, scope)`. */
  key: string;
  /** Fingerprint of the command (operation and body): the same request id with another command is refused. */
  fingerprint: string;
  /** '' for a one-event command; else the step of a multi-step one (e.g. `close`, `delete`). */
  step: string;
  /** The resource the command answered with. */
  resourceId: string;
}

const REQUEST_EVENT_PREFIX = 'rq1/';

/** `rq1/<key>/<fingerprint>/<step>/<resourceId>` (the resource id last: it may be any text). */
export function requestEventId(p: RequestEventIdParts): string {
  return `${REQUEST_EVENT_PREFIX}${p.key}/${p.fingerprint}/${p.step}/${p.resourceId}`;
}

/** The parts of a request event id, or undefined for any other id (older events' raw request ids, reactor ids). */
export function parseRequestEventId(id: string): RequestEventIdParts | undefined {
  if (!id.startsWith(REQUEST_EVENT_PREFIX)) return undefined;
  const parts = id.slice(REQUEST_EVENT_PREFIX.length).split('/');
  if (parts.length < 4) return undefined;
  const [key, fingerprint, step, ...rest] = parts as [string, string, string, ...string[]];
  return { key, fingerprint, step, resourceId: rest.join('/') };
}

/** A short fingerprint of a command: its operation and its (parsed, canonical) body. */
export function commandFingerprint(op: string, canonicalBody: string): string {
  return createHash('sha256').update(JSON.stringify(op)).update('\n').update(canonicalBody).digest('hex').slice(0, 32);
}
