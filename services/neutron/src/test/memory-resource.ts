/**
 * An in-memory resource for the REST core's unit tests: the input of the
 * unit under test (the engine), shaped like a Neutron network with a few
 * ports' worth of attribute kinds (booleans, integers, a key=value list,
 * an admin-only attribute). It behaves like a Strata service as the core
 * sees one: another project's resource is NOT_FOUND, a stale expected
 * revision is a RevisionConflictError, a duplicate name ALREADY_EXISTS.
 */
import { AlreadyExistsError, NotFoundError, PermissionDeniedError, RevisionConflictError, StrataError, ErrorCode } from '@strata/errors';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';

export interface MemoryResource extends ResourceDefinition {
  items: Map<string, Json>;
  /** Every call the core made, in order (`create:<name>`, `delete:<id>`, …). */
  calls: string[];
  /** Requests metas seen by create, in order. */
  metas: NeutronContext['meta'][];
}

const visibleTo = (ctx: NeutronContext, item: Json): boolean => ctx.meta.admin || item['project_id'] === ctx.meta.tenant || item['shared'] === true;

export function memoryNetworks(): MemoryResource {
  const items = new Map<string, Json>();
  const calls: string[] = [];
  const metas: NeutronContext['meta'][] = [];
  let next = 1;
  const find = (ctx: NeutronContext, id: string): Json => {
    const item = items.get(id);
    if (!item || !visibleTo(ctx, item)) throw new NotFoundError('network', id);
    return item;
  };
  return {
    items,
    calls,
    metas,
    path: 'networks',
    collection: 'networks',
    member: 'network',
    notFound: 'NetworkNotFound',
    extensions: [{ alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.', updated: '2015-03-25T10:00:00-00:00' }],
    attributes: {
      id: { post: false, put: false },
      name: { post: true, put: true },
      tenant_id: { post: true, put: false },
      admin_state_up: { post: true, put: true, type: 'boolean' },
      shared: { post: true, put: true, type: 'boolean' },
      mtu: { post: true, put: true, type: 'integer' },
      segments: { post: false, put: false, type: 'kvp-list' },
      tags: { post: false, put: false, type: 'list' },
      'provider:segmentation_id': { post: true, put: false, adminOnly: true, type: 'integer' },
      status: { post: false, put: false },
      revision_number: { post: false, put: false, type: 'integer' },
      description: { post: true, put: true },
      kind: { post: true, put: false, required: true },
    },
    async list(ctx) {
      calls.push('list');
      return [...items.values()].filter((i) => visibleTo(ctx, i));
    },
    async show(ctx, id) {
      calls.push(`show:${id}`);
      return find(ctx, id);
    },
    async create(ctx, body) {
      calls.push(`create:${String(body['name'])}`);
      metas.push(ctx.meta);
      if (body['name'] === 'boom') throw new Error('a bug with secret internals');
      if ([...items.values()].some((i) => i['name'] === body['name'] && i['project_id'] === body['project_id'])) {
        throw new AlreadyExistsError(`network name ${String(body['name'])} is taken`);
      }
      const id = `00000000-0000-4000-8000-${String(next++).padStart(12, '0')}`;
      const item: Json = {
        id,
        name: body['name'] ?? '',
        tenant_id: body['tenant_id'],
        project_id: body['project_id'],
        admin_state_up: body['admin_state_up'] ?? true,
        shared: body['shared'] ?? false,
        mtu: body['mtu'] ?? 1450,
        segments: [{ network_type: 'vxlan', segmentation_id: 100 + next }],
        tags: [],
        'provider:segmentation_id': body['provider:segmentation_id'] ?? null,
        status: 'ACTIVE',
        revision_number: 1,
        description: body['description'] ?? '',
        kind: body['kind'],
      };
      items.set(id, item);
      return item;
    },
    async update(ctx, id, body, expectedRevision) {
      calls.push(`update:${id}`);
      const item = find(ctx, id);
      const revision = item['revision_number'] as number;
      if (expectedRevision !== undefined && expectedRevision !== revision) throw new RevisionConflictError('network', id, expectedRevision, revision);
      if (body['name'] === 'forbidden') throw new PermissionDeniedError('only the owner may rename a shared network');
      const updated = { ...item, ...body, revision_number: revision + 1 };
      items.set(id, updated);
      return updated;
    },
    async delete(ctx, id) {
      calls.push(`delete:${id}`);
      const item = items.get(id);
      // Like a service that checks ownership before existence for shared resources: PERMISSION_DENIED for a foreign id.
      if (item && item['project_id'] !== ctx.meta.tenant && !ctx.meta.admin) throw new PermissionDeniedError('not yours');
      find(ctx, id);
      if (item?.['name'] === 'in-use') throw new StrataError(ErrorCode.FailedPrecondition, `network ${id} has ports`);
      items.delete(id);
    },
    actions: {
      async touch(ctx, id, body) {
        calls.push(`touch:${id}`);
        return { touched: find(ctx, id)['id'], with: body };
      },
    },
  };
}
