/**
 * One Neutron resource (networks, ports, sfc/port_pairs, …) as the REST
 * core (server.ts) serves it. A resource module only translates: Neutron's
 * body → a contract command, a service's view → Neutron's representation.
 * Everything generic — routing, authentication, `fields`, filters, sorting,
 * `limit`/`marker` pagination, bulk create, `If-Match`, the attribute
 * checks below and the NeutronError body — lives in the core, once.
 */
import type { Identity } from '@strata/identity';
import type { AuditClient, ChainingClient, IpamClient, Logger, NatClient, RequestMeta, SecgroupClient, StatusClient } from '@strata/runtime';

/** A Neutron representation: plain JSON with Neutron's attribute names. */
export type Json = Record<string, unknown>;

/** Everything a resource needs to serve one request. */
export interface NeutronContext {
  identity: Identity;
  /**
   * Goes with every command and query (actor `keystone:<user>`, tenant =
   * project id, admin for the admin role). Its request id is fresh for each
   * REST request and each item of a bulk create.
   */
  meta: RequestMeta;
  /**
   * The meta for one more command of this request to a service that already
   * got one (services treat a request id as an idempotency key: a second,
   * different command under the same id is refused). Same correlation id, a
   * request id derived from this request's and `step`.
   */
  step(step: string): RequestMeta;
  clients: NeutronClients;
  /** Where a resource reports what it degraded (a status service that did not answer, a compensation that failed). */
  logger: Logger;
}

export interface NeutronClients {
  ipam: IpamClient;
  secgroup: SecgroupClient;
  nat: NatClient;
  chaining: ChainingClient;
  status: StatusClient;
  audit?: AuditClient;
}

/**
 * Neutron's attribute map entry (neutron-lib's RESOURCE_ATTRIBUTE_MAP):
 * whether a client may set it in a POST or a PUT. The core answers 400 for
 * an unknown attribute ("Unrecognized attribute(s) 'x'") and for one not
 * allowed ("Attribute 'x' not allowed in POST" / "Cannot update read-only
 * attribute x") before the resource sees the body.
 */
export interface AttributeSpec {
  post: boolean;
  put: boolean;
  /** Only an admin may set it (e.g. `binding:host_id`): 403 PolicyNotAuthorized for others. */
  adminOnly?: boolean;
  /** POST must name it (Neutron: no default): 400 "Failed to parse request. Required attribute 'x' not specified". */
  required?: boolean;
  /**
   * How list filters and sort keys treat it (Neutron's convert_to): `boolean`
   * filters parse as Neutron does (true/false, 1/0, yes/no, on/off, t/f, y/n),
   * `integer` as integers, `kvp-list` (a list of objects, e.g. `fixed_ips`)
   * takes `key=value` filters, `list` matches any element; `list`, `kvp-list`
   * and `object` are not sort keys. Default `string`: equality with the
   * value's text.
   */
  type?: AttributeType;
}

export type AttributeType = 'string' | 'boolean' | 'integer' | 'list' | 'kvp-list' | 'object';

/** One entry of `/v2.0/extensions` (neutron-lib's api definition: ALIAS, NAME, DESCRIPTION, UPDATED_TIMESTAMP). */
export interface ExtensionDescriptor {
  alias: string;
  name: string;
  description: string;
  updated: string;
}

export interface ResourceDefinition {
  /** URL path under /v2.0: `networks`, `sfc/port_pairs`. */
  path: string;
  /** JSON key of a list and of a bulk body: `networks`, `port_pairs`. */
  collection: string;
  /** JSON key of one: `network`, `port_pair`. */
  member: string;
  /** NeutronError type for an unknown (or invisible) id: `NetworkNotFound`. */
  notFound: string;
  /** Its message (neutron-lib's text); default `<Member> <id> could not be found.` (`Network 3f… could not be found.`). */
  notFoundMessage?(id: string): string;
  /**
   * The API extensions this module implements (`/v2.0/extensions` lists
   * exactly the registered modules' ones plus the core's: pagination,
   * sorting, filter-validation, project-id, revision-if-match).
   */
  extensions?: readonly ExtensionDescriptor[];
  /**
   * Filters that are not plain equality on an attribute (or are not
   * attributes at all, e.g. `ip_address_substr`): the core calls the matcher
   * with the item and the filter's values. Every other filter name must be
   * an attribute (else 400, as Neutron's filter-validation answers).
   */
  filters?: Readonly<Record<string, (item: Json, values: readonly string[]) => boolean>>;
  /** Every attribute of the representation (a shown resource has exactly these keys). */
  attributes: Readonly<Record<string, AttributeSpec>>;
  /**
   * Everything the caller may see (an admin: every project's). `filters`
   * are the request's equality filters, a hint a resource may pass on to
   * the service (e.g. `network_id`); the core filters the result anyway.
   */
  list(ctx: NeutronContext, filters: ReadonlyMap<string, readonly string[]>): Promise<Json[]>;
  show(ctx: NeutronContext, id: string): Promise<Json>;
  create?(ctx: NeutronContext, body: Json): Promise<Json>;
  /** `expectedRevision`: from `If-Match: revision_number=N`; the service refuses a stale one (RevisionConflictError → 412). */
  update?(ctx: NeutronContext, id: string, body: Json, expectedRevision: number | undefined): Promise<Json>;
  delete?(ctx: NeutronContext, id: string): Promise<void>;
  /** Member actions, `PUT /v2.0/<path>/<id>/<action>` (routers' add_router_interface): answer the response body as is. */
  actions?: Readonly<Record<string, (ctx: NeutronContext, id: string, body: Json) => Promise<Json>>>;
}
