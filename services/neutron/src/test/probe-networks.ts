/**
 * A probe resource for the REST core's integration and hostile tests: bare
 * networks over IPAM's contract (the tests' own input, not the networks
 * module), so the core meets real service verdicts — tenancy, revisions,
 * refusals — without depending on a resource module.
 */
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';

interface IpamNetwork {
  id: string;
  tenant: string;
  name: string;
  mtu: number;
  description: string;
  revision: number;
}

const view = (n: IpamNetwork): Json => ({
  id: n.id,
  name: n.name,
  tenant_id: n.tenant,
  project_id: n.tenant,
  mtu: n.mtu,
  description: n.description,
  revision_number: n.revision,
});

/** The probe: networks as IPAM has them, nothing more. */
export const probe: ResourceDefinition = {
  path: 'networks',
  collection: 'networks',
  member: 'network',
  notFound: 'NetworkNotFound',
  attributes: {
    id: { post: false, put: false },
    name: { post: true, put: true },
    tenant_id: { post: true, put: false },
    mtu: { post: true, put: true, type: 'integer' },
    description: { post: true, put: true },
    revision_number: { post: false, put: false, type: 'integer' },
  },
  async list(ctx: NeutronContext) {
    const page = await ctx.clients.ipam.query('network.list', { limit: 1000, after: '' }, ctx.meta);
    return page.items.map((n) => view(n as IpamNetwork));
  },
  async show(ctx, id) {
    return view((await ctx.clients.ipam.query('network.get', { id }, ctx.meta)) as IpamNetwork);
  },
  async create(ctx, body) {
    const created = await ctx.clients.ipam.command(
      'network.create',
      { tenant: String(body['project_id']), name: String(body['name'] ?? ''), description: String(body['description'] ?? ''), ...(body['mtu'] === undefined ? {} : { mtu: Number(body['mtu']) }), routed: false },
      ctx.meta,
    );
    return view(created as IpamNetwork);
  },
  async update(ctx, id, body, expectedRevision) {
    const updated = await ctx.clients.ipam.command(
      'network.update',
      { id, ...(expectedRevision === undefined ? {} : { expectedRevision }), ...(typeof body['name'] === 'string' ? { name: body['name'] } : {}), ...(body['mtu'] === undefined ? {} : { mtu: Number(body['mtu']) }) },
      ctx.meta,
    );
    return view(updated as IpamNetwork);
  },
  async delete(ctx, id) {
    await ctx.clients.ipam.command('network.delete', { id }, ctx.meta);
  },
};
