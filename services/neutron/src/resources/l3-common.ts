/**
 * What the L3 resources (routers, floating IPs, external networks) share:
 * Neutron's error types on top of Strata's codes, every page of a list,
 * and Neutron's time format.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, StrataError, toStrataError, type ErrorCode as Code } from '@strata/errors';
import type { RequestMeta } from '@strata/runtime';
import type { Page } from '@strata/contracts';

/**
 * A Strata error carrying the NeutronError `type` Neutron gives for it
 * (`RouterInUse`, `FloatingIPPortAlreadyAssociated`, …) in
 * `details.neutronType`. The code still decides the HTTP status through the
 * core's one mapping (INVALID_ARGUMENT 400, NOT_FOUND 404, ALREADY_EXISTS and
 * FAILED_PRECONDITION 409, PERMISSION_DENIED 403); the core answers the type.
 */
export function neutronError(code: Code, neutronType: string, message: string): StrataError {
  return new StrataError(code, message, { neutronType });
}

export const badRequest = (message: string): StrataError => neutronError(ErrorCode.InvalidArgument, 'BadRequest', message);

/** Neutron's NotFound type for each kind of resource a service names in a NotFoundError (`details.kind`). */
const NOT_FOUND_TYPES: Readonly<Record<string, string>> = {
  router: 'RouterNotFound',
  subnet: 'SubnetNotFound',
  port: 'PortNotFound',
  network: 'NetworkNotFound',
  // An external network is a floating-IP pool: an unknown one is Neutron's unknown network.
  pool: 'NetworkNotFound',
  'floating IP': 'FloatingIPNotFound',
};

/**
 * Gives a service's refusal Neutron's type: `typeOf` names it for the
 * refusals whose meaning is known here (the message stays the service's,
 * which says what is wrong); a NOT_FOUND gets the type of the kind of
 * resource it names. Other errors pass unchanged.
 */
export async function withNeutronTypes<T>(work: Promise<T>, typeOf: (e: StrataError) => string | undefined = () => undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const e = toStrataError(err);
    if (e.details['neutronType'] !== undefined) throw err;
    const kind = e.details['kind'];
    const type = typeOf(e) ?? (e.code === ErrorCode.NotFound && typeof kind === 'string' ? NOT_FOUND_TYPES[kind] : undefined);
    if (type === undefined) throw err;
    throw new StrataError(e.code, e.message, { ...e.details, neutronType: type });
  }
}

/** Every item of a paged list query (the services answer pages of at most 10,000). */
export async function allPages<T>(fetch: (after: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let after = '';
  for (;;) {
    const page = await fetch(after);
    items.push(...page.items);
    if (!page.next) return items;
    after = page.next;
  }
}

/** Neutron's timestamps: ISO 8601 UTC to the second (`2026-12-06T16:07:28Z`). */
export const neutronTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/** A Neutron body's optional string attribute: absent → undefined, anything but a string → 400 naming it. */
export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid input for ${key}. Reason: '${JSON.stringify(v)}' is not a valid string.`);
  return v;
}

/** A Neutron boolean (Neutron also takes "true"/"false" strings, as its convert_to_boolean does). */
export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw badRequest(`Invalid input for ${key}. Reason: '${JSON.stringify(v)}' cannot be converted to boolean.`);
}

/** The project a create is for: `project_id` or `tenant_id` (equal if both), else undefined (the caller's own). */
export function requestedProject(body: Record<string, unknown>): string | undefined {
  const project = optionalString(body, 'project_id');
  const tenant = optionalString(body, 'tenant_id');
  if (project !== undefined && tenant !== undefined && project !== tenant) {
    throw badRequest(`'project_id' and 'tenant_id' do not match: ${project} and ${tenant}`);
  }
  return project ?? tenant;
}

/**
 * The meta of one more command of a request that makes several (a router
 * and its gateway, an allocation and its association). A request id is an
 * idempotency key (the same id with another command is refused) and the
 * created resource's id derives from it, so each step gets its own id,
 * derived from the request's: a retried request (same id) repeats exactly
 * the same commands and is answered as before. Correlation stays the
 * request's, so the log ties the steps together.
 */
export function stepMeta(meta: RequestMeta, step: string): RequestMeta {
  const h = createHash('sha256').update(`${meta.requestId}/${step}`).digest('hex');
  const requestId = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { ...meta, requestId };
}
