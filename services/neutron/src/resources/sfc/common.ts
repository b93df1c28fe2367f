/**
 * What the four networking-sfc resources share: the attributes every one
 * has, reading a body's values, walking the service's pages, and giving a
 * service's refusal networking-sfc's error type. The rules themselves stay
 * the chaining service's: this file only translates.
 */
import { StrataError, ValidationError, toStrataError } from '@strata/errors';
import type { AttributeSpec, Json } from '../../resource.js';

const READ_ONLY: AttributeSpec = { post: false, put: false };
const CREATE_ONLY: AttributeSpec = { post: true, put: false };
const UPDATABLE: AttributeSpec = { post: true, put: true };

/** id, name, description, tenant_id/project_id, revision_number: as networking-sfc's attribute maps (plus Neutron's revision). */
export const COMMON_ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  id: READ_ONLY,
  name: UPDATABLE,
  description: UPDATABLE,
  tenant_id: CREATE_ONLY,
  project_id: CREATE_ONLY,
  revision_number: READ_ONLY,
};
export { CREATE_ONLY, READ_ONLY, UPDATABLE };

/** The common part of every view, as Neutron shows it. */
export function commonOf(v: { id: string; tenant: string; name: string; description: string; revision: number }): Json {
  return { id: v.id, name: v.name, description: v.description, tenant_id: v.tenant, project_id: v.tenant, revision_number: v.revision };
}

/** A POST's owner: `tenant_id` or `project_id` (the same thing in Neutron); the service decides whether the caller may name it. */
export function ownerOf(body: Json): string | undefined {
  const tenant = body.tenant_id ?? body.project_id;
  if (body.tenant_id !== undefined && body.project_id !== undefined && body.tenant_id !== body.project_id) {
    throw invalid('tenant_id', "'tenant_id' and 'project_id' do not match", 'HTTPBadRequest');
  }
  if (tenant === undefined) return undefined;
  if (typeof tenant !== 'string') throw invalid('tenant_id', `'${String(tenant)}' is not a valid string`);
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

/** An invalid or unsupported value: 400, with networking-sfc's error type when it has one for the case (else neutron-lib's InvalidInput). */
export function invalid(field: string, message: string, neutronType = 'InvalidInput'): ValidationError {
  return new ValidationError(`Invalid input for ${field}. Reason: ${message}.`, { field, neutronType });
}

/**
 * A service's refusal with networking-sfc's error type: `details.neutronType`,
 * which the REST core answers as the NeutronError's `type` (the status still
 * follows the error's code). `typeOf` picks the type, or keeps the core's default.
 */
export async function typed<T>(call: Promise<T>, typeOf: (e: StrataError) => string | undefined): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const e = toStrataError(err);
    const type = typeOf(e);
    if (type === undefined) throw err;
    throw new StrataError(e.code, e.message, { ...e.details, neutronType: type }, { cause: err });
  }
}

/** Which Neutron type a NOT_FOUND of each chaining kind is (the `kind` a NotFoundError names). */
export const NOT_FOUND_TYPE: Readonly<Record<string, string>> = {
  port: 'PortPairPortNotFound',
  'service function': 'PortPairNotFound',
  'function group': 'PortPairGroupNotFound',
  'flow classifier': 'FlowClassifierNotFound',
  chain: 'PortChainNotFound',
  router: 'RouterNotFound',
  'security group': 'SecurityGroupNotFound',
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
