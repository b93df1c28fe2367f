/**
 * `/v2.0/security-groups` on the secgroup service. Like Neutron, a
 * project's `default` group exists from its first use: listing the groups,
 * showing the default group's id or creating a group makes it
 * (`group.ensureDefault`, the same derived group the port reactor makes for
 * a project's first port).
 * New groups start with Neutron's two egress rules.
 */
import { defaultSecurityGroupId, type SecurityGroupView } from '@strata/contracts';
import { ErrorCode, toStrataError } from '@strata/errors';
import type { AttributeSpec, Json, NeutronContext, ResourceDefinition } from '../../resource.js';
import { groupFault, groupNotFound, invalidInput, raise, translated } from './faults.js';
import { SECURITY_GROUP_EXTENSIONS } from './extensions.js';
import { neutronGroup } from './representation.js';
import { ownerOf, textsOf } from './request-fields.js';

const READ_ONLY: AttributeSpec = { post: false, put: false };
const CREATE_ONLY: AttributeSpec = { post: true, put: false };
const UPDATABLE: AttributeSpec = { post: true, put: true };

const ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  id: READ_ONLY,
  name: UPDATABLE,
  description: UPDATABLE,
  tenant_id: CREATE_ONLY,
  project_id: CREATE_ONLY,
  security_group_rules: { ...READ_ONLY, type: 'object' },
  stateful: { ...UPDATABLE, type: 'boolean' },
  shared: { ...READ_ONLY, type: 'boolean' },
  revision_number: { ...READ_ONLY, type: 'integer' },
  created_at: READ_ONLY,
  updated_at: READ_ONLY,
};

/** Every group the caller may see (an admin: every project's), all pages. */
export async function allGroups(ctx: NeutronContext): Promise<SecurityGroupView[]> {
  const out: SecurityGroupView[] = [];
  let after = '';
  do {
    const page = await ctx.clients.secgroup.query('group.list', { after }, ctx.meta);
    out.push(...page.items);
    after = page.next;
  } while (after !== '');
  return out;
}

/** The group's project's default group, made now if this is the project's first use (`meta`: another command of the same request needs its own step). */
const ensureDefault = (ctx: NeutronContext, meta = ctx.meta, tenant?: string): Promise<SecurityGroupView> =>
  ctx.clients.secgroup.command('group.ensureDefault', tenant === undefined ? {} : { tenant }, meta);

/**
 * The project a listing is the first use of (listedProject) gets its
 * default group: looked up first (a query), made only when missing.
 */
export async function ensureListedDefault(ctx: NeutronContext, filters: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const project = listedProject(ctx, filters);
  try {
    await ctx.clients.secgroup.query('group.get', { id: defaultSecurityGroupId(project) }, ctx.meta);
  } catch (err) {
    if (toStrataError(err).code !== ErrorCode.NotFound) throw err;
    await ensureDefault(ctx, ctx.meta, project);
  }
}

/** Whose first use a listing is: the caller's project, or for an admin the one project a `project_id`/`tenant_id` filter names (as Neutron). */
export function listedProject(ctx: NeutronContext, filters: ReadonlyMap<string, readonly string[]>): string {
  const named = [...new Set([...(filters.get('project_id') ?? []), ...(filters.get('tenant_id') ?? [])])];
  return ctx.identity.role === 'admin' && named.length === 1 ? named[0]! : ctx.identity.projectId;
}

/** Strata's groups are stateful (conntrack): `stateful: false` is refused, not ignored. */
function checkStateful(body: Json): void {
  const value = body.stateful;
  if (value === undefined || value === true || value === 'true' || value === 'True') return;
  raise(invalidInput('stateful', `'${String(value)}' is not supported: Strata's security groups are always stateful`));
}

export const securityGroups: ResourceDefinition = {
  path: 'security-groups',
  collection: 'security_groups',
  member: 'security_group',
  notFound: 'SecurityGroupNotFound',
  notFoundMessage: (id) => groupNotFound(id).message,
  extensions: SECURITY_GROUP_EXTENSIONS,
  attributes: ATTRIBUTES,

  async list(ctx, filters) {
    const groups = await allGroups(ctx);
    const project = listedProject(ctx, filters);
    if (!groups.some((g) => g.isDefault && g.tenant === project)) groups.push(await ensureDefault(ctx, ctx.meta, project));
    return groups.map(neutronGroup);
  },

  async show(ctx, id) {
    try {
      return neutronGroup(await ctx.clients.secgroup.query('group.get', { id }, ctx.meta));
    } catch (err) {
      const e = toStrataError(err);
      if (e.code !== ErrorCode.NotFound) throw err;
      // The project's default group is there from its first use, even when that use is asking for it by id.
      if (id === defaultSecurityGroupId(ctx.identity.projectId)) return neutronGroup(await ensureDefault(ctx));
      return raise(groupNotFound(id));
    }
  },

  async create(ctx, body) {
    checkStateful(body);
    const tenant = ownerOf(body);
    const request = { ...(tenant === undefined ? {} : { tenant }), ...textsOf(body), egressRules: true };
    // As Neutron: a project's first group comes with its default group.
    await ensureDefault(ctx, ctx.step('default-group'), tenant);
    return neutronGroup(await translated(ctx.clients.secgroup.command('group.create', request, ctx.meta), (e) => groupFault(e)));
  },

  async update(ctx, id, body, expectedRevision) {
    checkStateful(body);
    const request = { id, ...textsOf(body), ...(expectedRevision === undefined ? {} : { expectedRevision }) };
    return neutronGroup(await translated(ctx.clients.secgroup.command('group.update', request, ctx.meta), (e) => groupFault(e, id)));
  },

  async delete(ctx, id) {
    await translated(ctx.clients.secgroup.command('group.delete', { id }, ctx.meta), (e) => groupFault(e, id));
  },
};
