/**
 * The request body of a POST or PUT, checked against the resource's
 * attribute map before the resource sees it, in Neutron's order
 * (pecan_wsgi/hooks/body_validation.py → api/v2/base.py
 * prepare_request_body → neutron_lib/api/attributes.py), with Neutron's
 * texts: the member key, bulk lists, `project_id`/`tenant_id` (filled in
 * from the token on create; a non-admin may name only its own project),
 * unknown attributes, attributes not allowed in POST or PUT, required ones.
 * Then the policy part: a reader writes nothing, admin-only attributes are
 * an admin's (403 PolicyNotAuthorized, after the body checks, as Neutron's
 * policy hook runs after its body validation hook).
 */
import type { Identity } from '@strata/identity';
import { httpBadRequest, policyNotAuthorized } from './errors.js';
import type { AttributeSpec, Json, ResourceDefinition } from './resource.js';

export type WriteAction = 'create' | 'update' | 'delete';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Neutron treats `tenant_id` and `project_id` as one attribute under two names (populate_project_info). */
export function attributeMap(def: ResourceDefinition): Readonly<Record<string, AttributeSpec>> {
  const attrs = { ...def.attributes };
  if (attrs['tenant_id'] && !attrs['project_id']) attrs['project_id'] = attrs['tenant_id'];
  if (attrs['project_id'] && !attrs['tenant_id']) attrs['tenant_id'] = attrs['project_id'];
  return attrs;
}

/** Python's `not x` for a JSON value: the bulk list is "required" when falsy. */
const falsy = (v: unknown): boolean =>
  v === null || v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/**
 * The resource bodies of a POST (one, or a bulk list) or a PUT (one), each
 * checked and, on create, with `project_id`/`tenant_id` filled in.
 */
export function resourceBodies(def: ResourceDefinition, json: unknown, action: 'create' | 'update', identity: Identity): { items: Json[]; bulk: boolean } {
  const missing = httpBadRequest(`Unable to find '${def.member}' in request body`);
  if (json === undefined) throw missing;
  if (!isObject(json)) throw httpBadRequest('Body contains invalid data');
  if (!(def.member in json) && !(def.collection in json)) throw missing;
  if (def.collection in json) {
    if (action !== 'create') throw httpBadRequest('Bulk operation not supported');
    const list = json[def.collection];
    if (falsy(list)) throw httpBadRequest('Resources required');
    if (!Array.isArray(list)) throw httpBadRequest('Body contains invalid data');
    const items = list.map((item) => checkedBody(def, isObject(item) && def.member in item ? item[def.member] : item, action, identity));
    return { items, bulk: true };
  }
  return { items: [checkedBody(def, json[def.member], action, identity)], bulk: false };
}

function checkedBody(def: ResourceDefinition, value: unknown, action: 'create' | 'update', identity: Identity): Json {
  if (value === null || value === undefined) throw httpBadRequest(`Unable to find '${def.member}' in request body`);
  if (!isObject(value)) throw httpBadRequest(`Object '${def.member}' contains invalid data`);
  const attrs = attributeMap(def);
  const body: Json = { ...value };
  populateProject(attrs, body, action, identity);
  const unknown = Object.keys(body).filter((k) => !Object.hasOwn(attrs, k));
  if (unknown.length > 0) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const [name, spec] of Object.entries(attrs)) {
    const given = Object.hasOwn(body, name);
    if (action === 'create') {
      if (spec.post && spec.required && !given) throw httpBadRequest(`Failed to parse request. Required attribute '${name}' not specified`);
      if (!spec.post && given) throw httpBadRequest(`Attribute '${name}' not allowed in POST`);
    } else if (given && !spec.put) {
      throw httpBadRequest(`Cannot update read-only attribute ${name}`);
    }
  }
  return body;
}

/** neutron_lib attributes.populate_project_id: both names, the same value; the token's project unless an admin names another. */
function populateProject(attrs: Readonly<Record<string, AttributeSpec>>, body: Json, action: 'create' | 'update', identity: Identity): void {
  if ('tenant_id' in body && !('project_id' in body)) body['project_id'] = body['tenant_id'];
  else if ('project_id' in body && !('tenant_id' in body)) body['tenant_id'] = body['project_id'];
  if (body['project_id'] !== body['tenant_id']) throw httpBadRequest("'project_id' and 'tenant_id' do not match");
  if ('project_id' in body && body['project_id'] !== identity.projectId && identity.role !== 'admin') {
    throw httpBadRequest("Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.");
  }
  if (action === 'create' && 'project_id' in attrs && !('project_id' in body)) {
    body['project_id'] = identity.projectId;
    body['tenant_id'] = identity.projectId;
  }
}

/** The policy rule Neutron names for an action on a resource: `create_port`. */
export const ruleName = (action: WriteAction, def: ResourceDefinition): string => `${action}_${def.member}`;

/**
 * What only an admin may write: everything for a reader (the reader role
 * reads only), admin-only attributes for a member. The text is the policy
 * engine's for the rule that failed.
 */
export function checkWritePolicy(def: ResourceDefinition, action: WriteAction, bodies: readonly Json[], identity: Identity): void {
  const rule = ruleName(action, def);
  if (identity.role === 'reader') throw policyNotAuthorized(`rule:${rule}`);
  if (identity.role === 'admin') return;
  for (const body of bodies) {
    const adminOnly = Object.keys(body).filter((k) => def.attributes[k]?.adminOnly);
    if (adminOnly.length > 0) throw policyNotAuthorized(`(rule:${rule} and ${adminOnly.map((a) => `rule:${rule}:${a}`).join(' and ')})`);
  }
}
