/**
 * networking-sfc's port pair group (`/v2.0/sfc/port_pair_groups`) is
 * Strata's function group: `port_pairs` are its functions, in order.
 *
 * networking-sfc spreads a group's flows over its port pairs by a hash, so
 * a group created here is `flow-hash` (each flow sticks to one healthy
 * member, both directions alike) and `fail-closed` (no usable member: the
 * chain's flows are dropped, never sent around the appliance). The gRPC API
 * offers `active-standby` and `fail-open` too.
 *
 * Refused, not ignored: `lb_fields` (Strata hashes a flow's addresses, and
 * its ports for tcp/udp, and nothing else), an `ppg_n_tuple_mapping` (Strata
 * rewrites no headers between hops), `tap_enabled: true` (no tap mode), and
 * a group without port pairs (Strata's group has at least one). `group_id`
 * (networking-sfc's number for the OVS driver's select group) has no
 * equivalent: shown as null.
 */
import type { ChainingCommandInput, FunctionGroupView } from '@strata/contracts';
import type { StrataError } from '@strata/errors';
import type { Json, ResourceDefinition } from '../../resource.js';
import { allPages, COMMON_ATTRIBUTES, commonOf, CREATE_ONLY, dictOf, idsOf, invalid, notFoundType, ownerOf, READ_ONLY, SFC_EXTENSION, textsOf, typed, UPDATABLE } from './common.js';

const NO_PORT_PAIRS = "a Strata port pair group has at least one port pair (an empty hop would drop or bypass every flow of its chains): delete the group instead";

export function portPairGroupOf(v: FunctionGroupView): Json {
  return {
    ...commonOf(v),
    port_pairs: [...v.functionIds],
    port_pair_group_parameters: { lb_fields: [], ppg_n_tuple_mapping: { ingress_n_tuple: {}, egress_n_tuple: {} } },
    tap_enabled: false,
    group_id: null,
  };
}

/** port_pair_group_parameters as networking-sfc's defaults only (an empty lb_fields and n-tuple mapping). */
function checkParameters(body: Json): void {
  const params = dictOf(body, 'port_pair_group_parameters', ['lb_fields', 'ppg_n_tuple_mapping']);
  if (params === undefined) return;
  const lb = params.lb_fields;
  if (lb !== undefined && lb !== null && !(Array.isArray(lb) && lb.length === 0)) {
    throw invalid(
      'port_pair_group_parameters',
      `lb_fields ${JSON.stringify(lb)} is not supported: Strata hashes each flow by its source and destination addresses (and tcp/udp ports), both directions alike; omit lb_fields`,
    );
  }
  const mapping = params.ppg_n_tuple_mapping;
  const empty = (x: unknown) => x === undefined || x === null || (typeof x === 'object' && Object.keys(x).length === 0);
  if (!empty(mapping) && (typeof mapping !== 'object' || !empty((mapping as Json).ingress_n_tuple) || !empty((mapping as Json).egress_n_tuple))) {
    throw invalid('port_pair_group_parameters', 'ppg_n_tuple_mapping is not supported: Strata does not rewrite a flow\'s addresses or ports between hops; omit it');
  }
}

export function groupCreateOf(body: Json): ChainingCommandInput<'group.create'> {
  checkParameters(body);
  if (body.tap_enabled !== undefined && body.tap_enabled !== false && body.tap_enabled !== 'false' && body.tap_enabled !== 'False') {
    throw invalid('tap_enabled', 'Strata has no tap mode: a port pair group\'s appliances are in the path of the flows they see; omit tap_enabled or give false');
  }
  const functionIds = idsOf(body, 'port_pairs') ?? [];
  if (functionIds.length === 0) throw invalid('port_pairs', NO_PORT_PAIRS);
  return { tenant: ownerOf(body), ...textsOf(body), functionIds, selection: 'flow-hash', fallback: 'fail-closed' };
}

export function groupUpdateOf(id: string, body: Json, expectedRevision: number | undefined): ChainingCommandInput<'group.update'> {
  const functionIds = idsOf(body, 'port_pairs');
  if (functionIds?.length === 0) throw invalid('port_pairs', NO_PORT_PAIRS);
  return { id, expectedRevision, ...textsOf(body), ...(functionIds && { functionIds }) };
}

/** Missing port pairs are PortPairNotFound; a group in a chain cannot be deleted: PortPairGroupInUse. */
const deleteType = (e: StrataError) => (e.code === 'FAILED_PRECONDITION' ? 'PortPairGroupInUse' : undefined);

export const portPairGroups: ResourceDefinition = {
  path: 'sfc/port_pair_groups',
  collection: 'port_pair_groups',
  member: 'port_pair_group',
  notFound: 'PortPairGroupNotFound',
  notFoundMessage: (id) => `Port Pair Group ${id} not found.`,
  extensions: [SFC_EXTENSION],
  attributes: {
    ...COMMON_ATTRIBUTES,
    port_pairs: { ...UPDATABLE, type: 'list' },
    port_pair_group_parameters: { ...CREATE_ONLY, type: 'object' },
    tap_enabled: { ...CREATE_ONLY, type: 'boolean' },
    group_id: { ...READ_ONLY, type: 'integer' },
  },
  async list(ctx) {
    const items = await allPages((after) => ctx.clients.chaining.query('group.list', { after }, ctx.meta));
    return items.map(portPairGroupOf);
  },
  async show(ctx, id) {
    return portPairGroupOf(await ctx.clients.chaining.query('group.get', { id }, ctx.meta));
  },
  async create(ctx, body) {
    return portPairGroupOf(await typed(ctx.clients.chaining.command('group.create', groupCreateOf(body), ctx.meta), notFoundType));
  },
  async update(ctx, id, body, expectedRevision) {
    return portPairGroupOf(await typed(ctx.clients.chaining.command('group.update', groupUpdateOf(id, body, expectedRevision), ctx.meta), notFoundType, id));
  },
  async delete(ctx, id) {
    await typed(ctx.clients.chaining.command('group.delete', { id }, ctx.meta), deleteType, id);
  },
};
