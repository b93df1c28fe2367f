/**
 * What the L3 resources (routers, floating IPs, external networks) share:
 * Neutron's error types for the services' refusals, every page of a list,
 * Neutron's time format and body readers.
 */
import { ErrorCode, toStrataError, type StrataError } from '@strata/errors';
import type { Page } from '@strata/contracts';
import { badRequest as neutronBadRequest, fromStrataError, invalidInput, NeutronHttpError } from '../errors.js';

/** neutron_lib BadRequest(resource, msg): "Bad <resource> request: <msg>." */
export const badRequest = (resource: 'router' | 'floatingip' | 'network', msg: string): NeutronHttpError => neutronBadRequest(resource, msg);

/** Neutron's NotFound type and text for each kind of resource a service names in a NotFoundError (`details.kind`). */
const NOT_FOUND: Readonly<Record<string, (id: string) => NeutronHttpError>> = {
  router: (id) => new NeutronHttpError(404, 'RouterNotFound', `Router ${id} could not be found`),
  subnet: (id) => new NeutronHttpError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`),
  port: (id) => new NeutronHttpError(404, 'PortNotFound', `Port ${id} could not be found.`),
  network: (id) => new NeutronHttpError(404, 'NetworkNotFound', `Network ${id} could not be found.`),
  // An external network is a floating-IP pool: an unknown one is Neutron's unknown network.
  pool: (id) => new NeutronHttpError(404, 'NetworkNotFound', `Network ${id} could not be found.`),
  'floating IP': (id) => new NeutronHttpError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`),
};

/**
 * A service's refusal as Neutron answers it: `typeOf` gives the Neutron
 * error for the refusals whose meaning is known here (or undefined); a
 * NOT_FOUND becomes the not-found of the kind of resource it names. The
 * rest (a stale revision among them: the core's 412) passes unchanged to
 * the core's generic mapping.
 */
export async function withNeutronTypes<T>(work: Promise<T>, typeOf: (e: StrataError) => NeutronHttpError | undefined = () => undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof NeutronHttpError) throw err;
    const e = toStrataError(err);
    const typed = typeOf(e);
    if (typed) throw typed;
    const { kind, id } = e.details;
    if (e.code === ErrorCode.NotFound && typeof kind === 'string' && typeof id === 'string' && NOT_FOUND[kind]) throw NOT_FOUND[kind](id);
    throw err;
  }
}

/** The same refusal with Neutron's type and status (the service's message, which says what is wrong). */
export const typed = (status: number, type: string, e: StrataError): NeutronHttpError => new NeutronHttpError(status, type, e.message);

/** Is this the core's 412 (a stale If-Match), which must pass as it is? */
export const isStaleRevision = (e: StrataError): boolean => fromStrataError(e).status === 412;

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

/** A body's optional string attribute: absent → undefined, anything but a string → 400 naming it (Neutron's InvalidInput). */
export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidInput(`'${JSON.stringify(v)}' is not a valid string for ${key}`);
  return v;
}

/** A Neutron boolean (convert_to_boolean: also "true"/"false" strings, 0/1). */
export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 'False' || v === 0 || v === '0') return false;
  throw invalidInput(`'${JSON.stringify(v)}' cannot be converted to boolean`);
}

/** The project a create is for: the core has filled `project_id` in (the token's, or the one an admin named). */
export const requestedProject = (body: Record<string, unknown>): string | undefined => optionalString(body, 'project_id');
