/**
 * `/v2.0/security-group-rules` on the secgroup service. A rule is shown and
 * deleted by its id alone (`rule.get`, `rule.delete` without a group: the
 * service finds the group); listing walks the visible groups, or only the
 * `security_group_id`s a filter names, after making the project's default
 * group on its first use (as Neutron's listing does). Rules never change
 * (no PUT), as in Neutron.
 */
import { Id } from '@strata/contracts';
import type { AttributeSpec, Json, NeutronContext, ResourceDefinition } from '../../resource.js';
import { invalidInput, raise, ruleFault, ruleNotFound, translated } from './faults.js';
import { neutronGroupRule, neutronRule } from './representation.js';
import { ownerOf } from './request-fields.js';
import { ruleCreateOf, type RuleCreate } from './rule-request.js';
import { allGroups, ensureListedDefault } from './security-groups.js';

const READ_ONLY: AttributeSpec = { post: false, put: false };
const CREATE_ONLY: AttributeSpec = { post: true, put: false };

const ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  id: READ_ONLY,
  security_group_id: { ...CREATE_ONLY, required: true },
  direction: { ...CREATE_ONLY, required: true },
  ethertype: CREATE_ONLY,
  protocol: CREATE_ONLY,
  port_range_min: { ...CREATE_ONLY, type: 'integer' },
  port_range_max: { ...CREATE_ONLY, type: 'integer' },
  remote_ip_prefix: CREATE_ONLY,
  normalized_cidr: READ_ONLY,
  remote_group_id: CREATE_ONLY,
  // Address groups are not implemented: the attribute is always null and cannot be set.
  remote_address_group_id: READ_ONLY,
  description: CREATE_ONLY,
  tenant_id: CREATE_ONLY,
  project_id: CREATE_ONLY,
  revision_number: { ...READ_ONLY, type: 'integer' },
  created_at: READ_ONLY,
  updated_at: READ_ONLY,
};

/** The groups a list reads: those the `security_group_id` filter names (unknown or invisible ones give nothing), or all. */
async function groupsFor(ctx: NeutronContext, filters: ReadonlyMap<string, readonly string[]>) {
  const named = filters.get('security_group_id');
  if (named === undefined) return allGroups(ctx);
  // An id that is no UUID names no group: it selects nothing.
  const ids = [...new Set(named)].filter((id) => Id.safeParse(id).success);
  const found = await Promise.all(
    ids.map((id) =>
      ctx.clients.secgroup.query('group.get', { id }, ctx.meta).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'NOT_FOUND') return undefined;
        throw err;
      }),
    ),
  );
  return found.filter((g) => g !== undefined);
}

/**
 * A rule's owner is its group's project. Only an admin may name a project
 * other than its own (the REST core refuses a member's); it must then be the group's.
 */
async function checkOwner(ctx: NeutronContext, body: Json, request: RuleCreate): Promise<void> {
  const owner = ownerOf(body);
  if (owner === undefined || owner === ctx.identity.projectId) return;
  const group = await translated(ctx.clients.secgroup.query('group.get', { id: request.groupId }, ctx.meta), (e) => ruleFault(e));
  if (group.tenant !== owner) raise(invalidInput('project_id', `security group ${group.id} belongs to project ${group.tenant}, not ${owner}`));
}

export const securityGroupRules: ResourceDefinition = {
  path: 'security-group-rules',
  collection: 'security_group_rules',
  member: 'security_group_rule',
  notFound: 'SecurityGroupRuleNotFound',
  notFoundMessage: (id) => ruleNotFound(id).message,
  attributes: ATTRIBUTES,

  async list(ctx, filters) {
    // As Neutron: listing rules is a use of the project, which has its default group from then on.
    await ensureListedDefault(ctx, filters);
    return (await groupsFor(ctx, filters)).flatMap((g) => g.rules.map((r) => neutronRule(r, g.id, g.tenant)));
  },

  async show(ctx, id) {
    return neutronGroupRule(await translated(ctx.clients.secgroup.query('rule.get', { id }, ctx.meta), (e) => ruleFault(e)));
  },

  async create(ctx, body) {
    const request = ruleCreateOf(body);
    await checkOwner(ctx, body, request);
    return neutronGroupRule(await translated(ctx.clients.secgroup.command('rule.create', request, ctx.meta), (e) => ruleFault(e, request)));
  },

  async delete(ctx, id) {
    await translated(ctx.clients.secgroup.command('rule.delete', { ruleId: id }, ctx.meta), (e) => ruleFault(e));
  },
};
