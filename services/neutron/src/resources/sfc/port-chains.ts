/**
 * networking-sfc's port chain (`/v2.0/sfc/port_chains`) is Strata's chain:
 * `port_pair_groups` are its hops in order, `flow_classifiers` its
 * classifiers. A port chain names no router: the chaining service takes the
 * tenant's one router on the networks of every hop's legs (or refuses,
 * saying why). `chain_parameters.symmetric` is Strata's `symmetric`, false
 * by default as in networking-sfc.
 *
 * Refused, not ignored: a `correlation` (mpls or nsh: Strata steers plain
 * packets by policy routing, no encapsulation, so the chain shows none), a
 * `chain_id` other than 0 ("choose one": Strata has no chain path number),
 * and a chain without flow classifiers (Strata's chain has at least one).
 * `chain_id` shows as null.
 */
import type { ChainingCommandInput, ChainView } from '@strata/contracts';
import type { StrataError } from '@strata/errors';
import type { Json, ResourceDefinition } from '../../resource.js';
import { allPages, COMMON_ATTRIBUTES, commonOf, CREATE_ONLY, dictOf, idsOf, invalid, notFoundType, ownerOf, SFC_EXTENSION, textsOf, typed, UPDATABLE } from './common.js';

const NO_CLASSIFIERS = 'a Strata port chain takes the flows of at least one flow classifier: give flow_classifiers';
const NO_GROUPS = 'Port Pair Group is not specified in Port Chain.';

export function portChainOf(v: ChainView): Json {
  return {
    ...commonOf(v),
    port_pair_groups: [...v.groupIds],
    flow_classifiers: [...v.classifierIds],
    chain_parameters: { correlation: null, symmetric: v.symmetric },
    chain_id: null,
  };
}

/** neutron-lib's convert_to_boolean. */
function booleanOf(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string' && ['true', 'false', '1', '0'].includes(value.toLowerCase())) return value.toLowerCase() === 'true' || value === '1';
  throw invalid('chain_parameters', `'${String(value)}' cannot be converted to boolean`);
}

function symmetricOf(body: Json): boolean {
  const params = dictOf(body, 'chain_parameters', ['correlation', 'symmetric']);
  if (params?.correlation !== undefined && params.correlation !== null) {
    throw invalid(
      'chain_parameters',
      `correlation '${String(params.correlation)}' is not supported: Strata steers a chain's packets by policy routing without MPLS or NSH encapsulation; omit correlation`,
    );
  }
  return params?.symmetric === undefined ? false : booleanOf(params.symmetric);
}

export function chainCreateOf(body: Json): ChainingCommandInput<'chain.create'> {
  const chainId = body.chain_id;
  if (chainId !== undefined && chainId !== null && Number(chainId) !== 0) {
    throw invalid('chain_id', `chain_id ${String(chainId)} is not supported: Strata numbers no chain paths (no MPLS label or NSH path id); omit chain_id`);
  }
  const groupIds = idsOf(body, 'port_pair_groups') ?? [];
  if (groupIds.length === 0) throw invalid('port_pair_groups', NO_GROUPS, 'PortPairGroupNotSpecified');
  const classifierIds = idsOf(body, 'flow_classifiers') ?? [];
  if (classifierIds.length === 0) throw invalid('flow_classifiers', NO_CLASSIFIERS);
  return { tenant: ownerOf(body), ...textsOf(body), groupIds, classifierIds, symmetric: symmetricOf(body) };
}

export function chainUpdateOf(id: string, body: Json, expectedRevision: number | undefined): ChainingCommandInput<'chain.update'> {
  const groupIds = idsOf(body, 'port_pair_groups');
  if (groupIds?.length === 0) throw invalid('port_pair_groups', NO_GROUPS, 'PortPairGroupNotSpecified');
  const classifierIds = idsOf(body, 'flow_classifiers');
  if (classifierIds?.length === 0) throw invalid('flow_classifiers', NO_CLASSIFIERS);
  return { id, expectedRevision, ...textsOf(body), ...(groupIds && { groupIds }), ...(classifierIds && { classifierIds }) };
}

/**
 * A classifier another chain on the router already has is networking-sfc's
 * FlowClassifierInUse; one matching the same flows as another chain's is
 * PortChainFlowClassifierInConflict (both 409 here: the service's
 * ALREADY_EXISTS).
 */
function writeType(e: StrataError): string | undefined {
  if (e.code === 'ALREADY_EXISTS' && typeof e.details.chainId === 'string') {
    return e.details.sameClassifier === true ? 'FlowClassifierInUse' : 'PortChainFlowClassifierInConflict';
  }
  return notFoundType(e);
}

export const portChains: ResourceDefinition = {
  path: 'sfc/port_chains',
  collection: 'port_chains',
  member: 'port_chain',
  notFound: 'PortChainNotFound',
  notFoundMessage: (id) => `Port Chain ${id} not found.`,
  extensions: [SFC_EXTENSION],
  attributes: {
    ...COMMON_ATTRIBUTES,
    port_pair_groups: { ...UPDATABLE, required: true, type: 'list' },
    flow_classifiers: { ...UPDATABLE, type: 'list' },
    chain_parameters: { ...CREATE_ONLY, type: 'object' },
    chain_id: { ...CREATE_ONLY, type: 'integer' },
  },
  async list(ctx) {
    const items = await allPages((after) => ctx.clients.chaining.query('chain.list', { after }, ctx.meta));
    return items.map(portChainOf);
  },
  async show(ctx, id) {
    return portChainOf(await ctx.clients.chaining.query('chain.get', { id }, ctx.meta));
  },
  async create(ctx, body) {
    return portChainOf(await typed(ctx.clients.chaining.command('chain.create', chainCreateOf(body), ctx.meta), writeType));
  },
  async update(ctx, id, body, expectedRevision) {
    return portChainOf(await typed(ctx.clients.chaining.command('chain.update', chainUpdateOf(id, body, expectedRevision), ctx.meta), writeType, id));
  },
  async delete(ctx, id) {
    await ctx.clients.chaining.command('chain.delete', { id }, ctx.meta);
  },
};
