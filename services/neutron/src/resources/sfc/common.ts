/**
 * What the four networking-sfc resources share: the attributes every one
 * has, reading a body's values, walking the service's pages, and giving a
 * service's refusal networking-sfc's error type. The rules themselves stay
 * the chaining service's: this file only translates.
 */
import { toStrataError, type StrataError } from '@strata/errors';
import { httpBadRequest, NeutronHttpError } from '../../errors.js';
import type { AttributeSpec, ExtensionDescriptor, Json } from '../../resource.js';

const READ_ONLY: AttributeSpec = { post: false, put: false };
const CREATE_ONLY: AttributeSpec = { post: true, put: false };
const UPDATABLE: AttributeSpec = { post: true, put: true };

/** networking-sfc's two API extensions (its names, descriptions and dates). */
export const SFC_EXTENSION: ExtensionDescriptor = { alias: 'sfc', name: 'Service Function Chaining', description: 'Service Function Chain extension.', updated: '2015-10-05T10:00:00-00:00' };
export const FLOW_CLASSIFIER_EXTENSION: ExtensionDescriptor = { alias: 'flow_classifier', name: 'Flow Classifier', description: 'Flow Classifier Extension.', updated: '2015-10-05T10:00:00-00:00' };

/** id, name, description, tenant_id/project_id, revision_number: as networking-sfc's attribute maps (plus Neutron's revision). */
export const COMMON_ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  id: READ_ONLY,
  name: UPDATABLE,
  description: UPDATABLE,
  tenant_id: CREATE_ONLY,
  project_id: CREATE_ONLY,
  revision_number: { ...READ_ONLY, type: 'integer' },
};
export { CREATE_ONLY, READ_ONLY, UPDATABLE };

/** The common part of every view, as Neutron shows it. */
export function commonOf(v: { id: string; tenant: string; name: string; description: string; revision: number }): Json {
  return { id: v.id, name: v.name, description: v.description, tenant_id: v.tenant, project_id: v.tenant, revision_number: v.revision };
}

/** A POST's owner: the core fills `project_id` (= `tenant_id`) from the token or an admin's choice; the service checks it. */
export function ownerOf(body: Json): string | undefined {
  const tenant = body.project_id ?? body.tenant_id;
  if (tenant === undefined || tenant === null) return undefined;
  if (typeof tenant !== 'string') throw invalid('project_id', `'${JSON.stringify(tenant)}' is not a valid string`);
  return tenant;
}

/** name and description of a POST or PUT, as given (the service checks their length); null reads as '' like networking-sfc's. */
export function textsOf(body: Json): { name?: string; description?: string } {
  const out: { name?: string; description?: string } = {};
  for (const key of ['name', 'description'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (value === null) out[key] = '';
    else if (typeof value === 'string') out[key] = value;
    else throw invalid(key, `'${JSON.stringify(value)}' is not a valid string`);
  }
  return out;
}

/** A list of ids (`port_pairs`, `flow_classifiers`, ...): a single id reads as a list of one, null as none (neutron-lib's convert_to_list). */
export function idsOf(body: Json, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) if (typeof id !== 'string') throw invalid(key, `'${JSON.stringify(id)}' is not a valid UUID`);
  return list as string[];
}

/** A dictionary attribute (`service_function_parameters`, ...): its keys checked against the ones networking-sfc defines. */
export function dictOf(body: Json, key: string, known: readonly string[]): Json | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(key, `'${JSON.stringify(value)}' is not a dictionary`);
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw invalid(key, `Validation of dictionary's keys failed. Expected keys: ${known.join(', ')}; unknown keys: ${unknown.join(', ')}`);
  return value as Json;
}

/**
 * An invalid or unsupported value of `field`: 400 as Neutron's attribute
 * validation answers it (HTTPBadRequest "Invalid input for <field>. Reason:
 * <reason>."), or networking-sfc's own exception where it has one for the
 * case (`neutronType`, with `reason` as its text).
 */
export function invalid(field: string, reason: string, neutronType?: string): NeutronHttpError {
  return neutronType === undefined ? httpBadRequest(`Invalid input for ${field}. Reason: ${reason}.`) : new NeutronHttpError(400, neutronType, reason);
}

/** The HTTP status of a chaining refusal given a networking-sfc type (Neutron's NotFound 404, InUse 409, InvalidInput 400). */
const STATUS: Readonly<Record<string, number>> = { NOT_FOUND: 404, INVALID_ARGUMENT: 400, FAILED_PRECONDITION: 409, ALREADY_EXISTS: 409 };

/**
 * A service's refusal as networking-sfc's exception: `typeOf` names the
 * type (with the service's message, which says what is wrong), or leaves
 * the error to the core's generic mapping. A NOT_FOUND of the URL's own
 * resource (`self`) is the core's too (its `notFound` type and text).
 */
export async function typed<T>(call: Promise<T>, typeOf: (e: StrataError) => string | undefined, self?: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const e = toStrataError(err);
    if (err instanceof NeutronHttpError || (e.code === 'NOT_FOUND' && self !== undefined && e.details.id === self)) throw err;
    const type = typeOf(e);
    const status = STATUS[e.code];
    if (type === undefined || status === undefined) throw err;
    throw new NeutronHttpError(status, type, e.message);
  }
}

/** Which Neutron type a NOT_FOUND of each chaining kind is (the `kind` a NotFoundError names). */
export const NOT_FOUND_TYPE: Readonly<Record<string, string>> = {
  port: 'PortPairPortNotFound',
  'service function': 'PortPairNotFound',
  'function group': 'PortPairGroupNotFound',
  'flow classifier': 'FlowClassifierNotFound',
  chain: 'PortChainNotFound',
};

/** The type of a NOT_FOUND naming a kind (a referenced resource missing); undefined for any other error. */
export function notFoundType(e: StrataError): string | undefined {
  if (e.code !== 'NOT_FOUND') return undefined;
  const kind = e.details.kind;
  return typeof kind === 'string' ? NOT_FOUND_TYPE[kind] : undefined;
}

/** Every item of a paged chaining list (the service answers at most `limit` per page). */
export async function allPages<T extends { id: string }>(page: (after: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  const out: T[] = [];
  let after = '';
  do {
    const p = await page(after);
    out.push(...p.items);
    after = p.next;
  } while (after !== '');
  return out;
}
