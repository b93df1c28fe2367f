/**
 * The REST core: one request in, one response out, for every resource a
 * ResourceDefinition describes (docs/architecture.md, "The Neutron API and
 * Keystone identity"). No sockets here (server.ts reads and writes them),
 * so the whole of Neutron's generic behaviour is tested without a network.
 *
 * Order of checks, as Neutron's pecan hooks run them: route, token, body
 * (attribute map), If-Match, policy (a reader's or a member's write; an id
 * the caller cannot see is 404 before any 403), then the resource.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Id } from '@strata/contracts';
import { ErrorCode, StrataError, toStrataError } from '@strata/errors';
import type { Identity, TokenValidator } from '@strata/identity';
import type { Logger } from '@strata/runtime';
import { checkWritePolicy, resourceBodies } from './attributes.js';
import { extensionJson, extensionsOf, resourcesDocument, versionsDocument } from './documents.js';
import {
  NeutronHttpError,
  badRequest,
  fromStrataError,
  httpBadRequest,
  methodNotAllowed,
  notFoundOf,
  policyNotAuthorized,
  resourceNotFound,
  revisionConstraintFailed,
  serviceUnavailable,
} from './errors.js';
import { filterItems, paginate, paginationLinks, parseListQuery, selectFields, sortItems } from './list-query.js';
import { UNAUTHORIZED_BODY, newRequestId, requestMeta, responseRequestId, stepMeta } from './request-meta.js';
import type { Json, NeutronClients, NeutronContext, ResourceDefinition } from './resource.js';

export interface NeutronRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  /** undefined or empty: no body. */
  body?: Buffer | undefined;
}

export interface NeutronResponse {
  status: number;
  headers: Record<string, string>;
  /** undefined: no body (204). */
  body?: unknown;
}

export interface NeutronEngineOptions {
  resources: readonly ResourceDefinition[];
  validator: TokenValidator;
  clients: NeutronClients;
  logger: Logger;
  /**
   * The base of the links Neutron answers (versions, resources, pagination):
   * Neutron's `network_link_prefix`. Default: http://<Host header>.
   */
  publicUrl?: string | undefined;
  /** Keystone's public URL, for the WWW-Authenticate header of a 401 (keystonemiddleware's `www_authenticate_uri`). */
  wwwAuthenticateUri?: string | undefined;
  now?: () => Date;
  /** Told about every answered request (metrics). */
  observe?: (method: string, resource: string, status: number, seconds: number) => void;
}

/** The resource a path names, and what follows it. */
interface Route {
  def: ResourceDefinition;
  id?: string;
  action?: string;
}

const JSON_TYPE = 'application/json';

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export class NeutronEngine {
  private readonly defs: readonly ResourceDefinition[];

  constructor(private readonly options: NeutronEngineOptions) {
    const paths = new Set<string>();
    for (const def of options.resources) {
      if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/.test(def.path)) throw new Error(`resource path ${JSON.stringify(def.path)} is not a/b segments`);
      if (paths.has(def.path)) throw new Error(`two resource definitions for /v2.0/${def.path}`);
      paths.add(def.path);
    }
    // Longest path first, so `sfc/port_pairs` wins over a resource named `sfc`.
    this.defs = [...options.resources].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  }

  async handle(req: NeutronRequest): Promise<NeutronResponse> {
    const started = process.hrtime.bigint();
    const requestId = newRequestId();
    let label = 'unknown';
    let response: NeutronResponse;
    try {
      const out = await this.dispatch(req, requestId, (l) => (label = l));
      response = out;
    } catch (err) {
      response = this.failure(err, req, requestId);
    }
    response.headers['X-Openstack-Request-Id'] = responseRequestId(requestId);
    this.options.observe?.(req.method, label, response.status, Number(process.hrtime.bigint() - started) / 1e9);
    return response;
  }

  private failure(err: unknown, req: NeutronRequest, requestId: string): NeutronResponse {
    if (err instanceof Unauthorized) {
      const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
      if (this.options.wwwAuthenticateUri) headers['WWW-Authenticate'] = `Keystone uri="${this.options.wwwAuthenticateUri}"`;
      return { status: 401, headers, body: UNAUTHORIZED_BODY };
    }
    const e = err instanceof NeutronHttpError ? err : fromStrataError(err);
    const log = this.options.logger.child({ requestId: responseRequestId(requestId), method: req.method, url: req.url.slice(0, 256) });
    if (e.status >= 500) log.error({ err }, 'neutron request failed');
    else log.debug({ status: e.status, type: e.type, message: e.message }, 'neutron request refused');
    return json(e.status, e.body());
  }

  private async dispatch(req: NeutronRequest, requestId: string, setLabel: (label: string) => void): Promise<NeutronResponse> {
    const url = new URL(req.url, 'http://neutron.invalid');
    const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeSegment);
    const last = segments.length - 1;
    if (last >= 0 && segments[last]!.endsWith('.json')) segments[last] = segments[last]!.slice(0, -'.json'.length);
    const base = this.baseUrl(req);

    if (segments.length === 0) {
      setLabel('versions');
      if (req.method !== 'GET') throw methodNotAllowed();
      return json(200, versionsDocument(base));
    }
    if (segments[0] !== 'v2.0') throw resourceNotFound();
    const identity = await this.authenticate(req);
    const rest = segments.slice(1);
    if (rest.length === 0) {
      setLabel('resources');
      if (req.method !== 'GET') throw methodNotAllowed();
      return json(200, resourcesDocument(base, this.defs));
    }
    if (rest[0] === 'extensions') {
      setLabel('extensions');
      return this.extensions(req, rest.slice(1));
    }
    const route = this.route(rest);
    setLabel(route.def.collection);
    // Every Strata id is a UUID. Neutron answers a name in an id's place with the resource's 404,
    // and clients (the openstack CLI) rely on that to fall back to a lookup by name.
    if (route.id !== undefined && !Id.safeParse(route.id).success) throw notFoundOf(route.def, route.id);
    const ctx = this.context(identity, requestId, req);
    if (route.action !== undefined) return this.action(req, route.def, route.id!, route.action, ctx);
    if (route.id === undefined) {
      if (req.method === 'GET') return this.list(url, base, route.def, ctx);
      if (req.method === 'POST' && route.def.create) return this.create(req, route.def, ctx);
      throw methodNotAllowed();
    }
    if (req.method === 'GET') return this.show(url, route.def, route.id, ctx);
    if (req.method === 'PUT' && route.def.update) return this.update(req, route.def, route.id, ctx);
    if (req.method === 'DELETE' && route.def.delete) return this.delete(req, route.def, route.id, ctx);
    throw methodNotAllowed();
  }

  private baseUrl(req: NeutronRequest): string {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/+$/, '');
    const proto = header(req.headers, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
    return `${proto}://${header(req.headers, 'host') ?? 'localhost'}`;
  }

  private async authenticate(req: NeutronRequest): Promise<Identity> {
    const token = header(req.headers, 'x-auth-token');
    if (token === undefined || token === '') throw new Unauthorized();
    try {
      return await this.options.validator.validate(token);
    } catch (err) {
      const e = toStrataError(err);
      if (e.code === ErrorCode.Unauthenticated) throw new Unauthorized();
      // A valid token whose roles give no Strata role: authenticated, allowed nothing.
      if (e.code === ErrorCode.PermissionDenied) throw new NeutronHttpError(403, 'PolicyNotAuthorized', e.message);
      // keystonemiddleware: Keystone unreachable is a 503, never a pass.
      this.options.logger.warn({ err }, 'token validation failed');
      throw serviceUnavailable();
    }
  }

  private route(rest: readonly string[]): Route {
    for (const def of this.defs) {
      const path = def.path.split('/');
      if (rest.length < path.length || path.some((p, i) => rest[i] !== p)) continue;
      const tail = rest.slice(path.length);
      if (tail.length > 2) break;
      const [id, action] = tail;
      return { def, ...(id === undefined ? {} : { id }), ...(action === undefined ? {} : { action }) };
    }
    throw resourceNotFound();
  }

  private context(identity: Identity, requestId: string, req: NeutronRequest): NeutronContext {
    const meta = requestMeta(
      identity,
      requestId,
      {
        globalRequestId: header(req.headers, 'x-openstack-request-id'),
        traceparent: header(req.headers, 'traceparent'),
        tracestate: header(req.headers, 'tracestate'),
      },
      (this.options.now ?? (() => new Date()))(),
    );
    return contextFor(identity, meta, this.options.clients, this.options.logger);
  }

  private extensions(req: NeutronRequest, rest: readonly string[]): NeutronResponse {
    // Neutron's extensions controller answers 404, not 405, to anything but GET.
    if (req.method !== 'GET' || rest.length > 1) throw resourceNotFound();
    const all = extensionsOf(this.defs);
    if (rest.length === 0) return json(200, { extensions: [...all.values()].map(extensionJson) });
    const ext = all.get(rest[0]!);
    if (!ext) throw new NeutronHttpError(404, 'HTTPNotFound', `Extension with alias ${rest[0]} does not exist`);
    return json(200, { extension: extensionJson(ext) });
  }

  private async list(url: URL, base: string, def: ResourceDefinition, ctx: NeutronContext): Promise<NeutronResponse> {
    const q = parseListQuery(def, url.searchParams);
    const items = filterItems(def, await def.list(ctx, q.filters), q.filters);
    const page = paginate(sortItems(items, q.sorts, q.limit !== undefined), q);
    const body: Json = { [def.collection]: page.map((item) => selectFields(item, q.fields)) };
    const links = paginationLinks(`${base}${url.pathname}`, url.searchParams, page, q);
    if (links.length > 0) body[`${def.collection}_links`] = links;
    return json(200, body);
  }

  private async show(url: URL, def: ResourceDefinition, id: string, ctx: NeutronContext): Promise<NeutronResponse> {
    const item = await this.scoped(ctx, def, id, () => def.show(ctx, id));
    return json(200, { [def.member]: selectFields(item, url.searchParams.getAll('fields').filter((f) => f !== '')) });
  }

  private async create(req: NeutronRequest, def: ResourceDefinition, ctx: NeutronContext): Promise<NeutronResponse> {
    const { items, bulk } = resourceBodies(def, parseBody(req), 'create', ctx.identity);
    checkWritePolicy(def, 'create', items, ctx.identity);
    const create = def.create!;
    if (!bulk) return json(201, { [def.member]: await this.scoped(ctx, def, undefined, () => create(ctx, items[0]!)) });
    if (!def.delete) throw httpBadRequest('Bulk operation not supported');
    return json(201, { [def.collection]: await this.bulkCreate(def, items, ctx) });
  }

  /**
   * All or nothing, as Neutron's emulated bulk create: one at a time, each
   * with its own request id; on the first failure the ones created are
   * deleted again (newest first) and that failure is answered.
   */
  private async bulkCreate(def: ResourceDefinition, items: readonly Json[], ctx: NeutronContext): Promise<Json[]> {
    const created: Json[] = [];
    try {
      for (const [i, item] of items.entries()) {
        const itemCtx = contextFor(ctx.identity, stepMeta(ctx.meta, `bulk-${i}`), ctx.clients, ctx.logger);
        created.push(await def.create!(itemCtx, item));
      }
      return created;
    } catch (err) {
      for (const [i, done] of [...created.entries()].reverse()) {
        const id = done['id'];
        const undoCtx = contextFor(ctx.identity, stepMeta(ctx.meta, `bulk-undo-${i}`), ctx.clients, ctx.logger);
        try {
          if (typeof id !== 'string') throw new Error(`created ${def.member} has no id`);
          await def.delete!(undoCtx, id);
        } catch (undoErr) {
          this.options.logger.error({ err: undoErr, id, requestId: ctx.meta.requestId }, `unable to undo bulk create of ${def.collection}`);
        }
      }
      throw err;
    }
  }

  private async update(req: NeutronRequest, def: ResourceDefinition, id: string, ctx: NeutronContext): Promise<NeutronResponse> {
    const { items } = resourceBodies(def, parseBody(req), 'update', ctx.identity);
    const expected = ifMatchRevision(req);
    await this.authorizeWrite(def, id, 'update', items, ctx);
    const updated = await this.scoped(ctx, def, id, () => def.update!(ctx, id, items[0]!, expected), true);
    return json(200, { [def.member]: updated });
  }

  private async delete(req: NeutronRequest, def: ResourceDefinition, id: string, ctx: NeutronContext): Promise<NeutronResponse> {
    if (req.body !== undefined && req.body.length > 0) throw httpBadRequest('Request body is not supported in DELETE.');
    const expected = ifMatchRevision(req);
    await this.authorizeWrite(def, id, 'delete', [], ctx);
    if (expected !== undefined) {
      // The services take no expected revision on delete: checked here, just before (not atomic with the delete).
      const current = (await this.scoped(ctx, def, id, () => def.show(ctx, id)))['revision_number'];
      if (typeof current === 'number' && current !== expected) throw revisionConstraintFailed(expected, current);
    }
    await this.scoped(ctx, def, id, () => def.delete!(ctx, id), true);
    return { status: 204, headers: {} };
  }

  private async action(req: NeutronRequest, def: ResourceDefinition, id: string, name: string, ctx: NeutronContext): Promise<NeutronResponse> {
    const act = def.actions?.[name];
    if (!act) throw resourceNotFound();
    if (req.method !== 'PUT') throw methodNotAllowed();
    const body = parseBody(req);
    if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) throw httpBadRequest('Body contains invalid data');
    if (ctx.identity.role === 'reader') {
      await this.scoped(ctx, def, id, () => def.show(ctx, id));
      throw policyNotAuthorized(`rule:${name}`);
    }
    return json(200, await this.scoped(ctx, def, id, () => act(ctx, id, body as Json), true));
  }

  /**
   * A write the policy refuses: 404 when the caller cannot even see the
   * resource (Neutron pretends it does not exist), 403 when it can.
   */
  private async authorizeWrite(def: ResourceDefinition, id: string, action: 'update' | 'delete', bodies: readonly Json[], ctx: NeutronContext): Promise<void> {
    try {
      checkWritePolicy(def, action, bodies, ctx.identity);
    } catch (refusal) {
      await this.scoped(ctx, def, id, () => def.show(ctx, id));
      throw refusal;
    }
  }

  /**
   * Runs a resource call and maps what it throws with the URL's resource
   * and id. A write the service refuses with PERMISSION_DENIED on a
   * resource the caller cannot see is that resource's 404.
   */
  private async scoped<T>(ctx: NeutronContext, def: ResourceDefinition, id: string | undefined, call: () => Promise<T>, write = false): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof NeutronHttpError) throw err;
      const e = toStrataError(err);
      if (write && id !== undefined && e.code === ErrorCode.PermissionDenied && !(await visible(ctx, def, id))) throw notFoundOf(def, id);
      throw fromStrataError(e, { def, ...(id === undefined ? {} : { id }) });
    }
  }
}

/** Whether the caller can see the resource (a NOT_FOUND from show says no; any other failure is not taken as an answer). */
async function visible(ctx: NeutronContext, def: ResourceDefinition, id: string): Promise<boolean> {
  try {
    await def.show(ctx, id);
    return true;
  } catch (err) {
    if (err instanceof NeutronHttpError) return err.status !== 404;
    return toStrataError(err).code !== ErrorCode.NotFound;
  }
}

/** Thrown when there is no valid token: keystonemiddleware's own 401, not a NeutronError. */
class Unauthorized extends StrataError {
  constructor() {
    super(ErrorCode.Unauthenticated, UNAUTHORIZED_BODY.error.message);
  }
}

export function contextFor(identity: Identity, meta: NeutronContext['meta'], clients: NeutronClients, logger: Logger): NeutronContext {
  return { identity, meta, clients, logger, step: (step) => stepMeta(meta, step) };
}

function json(status: number, body: unknown): NeutronResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE }, body };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw resourceNotFound();
  }
}

/**
 * The JSON body, if any. A body in another type than JSON is refused
 * ("Unsupported Content-Type"); no Content-Type at all is read as JSON, as
 * Neutron does.
 */
export function parseBody(req: NeutronRequest): unknown {
  if (req.body === undefined || req.body.length === 0) return undefined;
  const type = header(req.headers, 'content-type');
  if (type !== undefined && type.split(';')[0]!.trim().toLowerCase() !== JSON_TYPE) throw httpBadRequest('Unsupported Content-Type');
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw httpBadRequest('Body contains invalid data');
  }
}

/** webob's strong ETags of If-Match: quoted ones, or the whole value when none is quoted. */
function etags(value: string): string[] {
  if (value === '*' || value === '') return [];
  const quoted = [...value.matchAll(/(?:^|\s)(W\/)?"((?:\\"|.)*?)"/g)];
  if (quoted.length === 0) return [value];
  return quoted.filter((m) => m[1] === undefined).map((m) => m[2]!);
}

/** api_common.check_request_for_revision_constraint: `If-Match: revision_number=N`. */
export function ifMatchRevision(req: NeutronRequest): number | undefined {
  const value = header(req.headers, 'if-match');
  if (value === undefined) return undefined;
  let revision: number | undefined;
  for (const tag of etags(value)) {
    if (!tag.startsWith('revision_number=')) continue;
    if (revision !== undefined) throw badRequest('if-match', 'Multiple revision_number etags are not supported.');
    const n = tag.slice('revision_number='.length);
    if (!/^\s*[+-]?\d+\s*$/.test(n)) throw badRequest('if-match', 'Revision number etag must be in the format of revision_number=<int>');
    revision = Number(n);
  }
  return revision;
}
