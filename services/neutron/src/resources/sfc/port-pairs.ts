/**
 * networking-sfc's port pair (`/v2.0/sfc/port_pairs`) is Strata's service
 * function: `ingress`/`egress` are its legs (the same port for a one-arm
 * appliance).
 *
 * What Strata needs and networking-sfc does not say: the function's mode is
 * `l3` (a routed next hop: the appliance routes the packets back through
 * its legs' gateway), and there is no health check (the function counts as
 * healthy; a leg deleted or unbound still takes it out of service). The
 * gRPC API sets both (`wire` mode, ICMP/TCP checks, a virtual IP).
 *
 * What networking-sfc has and Strata does not: `service_function_parameters`
 * `correlation` mpls/nsh (Strata delivers the original packets, no
 * encapsulation) and a `weight` other than 1 (flow-hash groups spread flows
 * evenly): refused, not ignored.
 */
import type { ChainingCommandInput, ServiceFunctionView } from '@strata/contracts';
import type { StrataError } from '@strata/errors';
import type { Json, NeutronContext, ResourceDefinition } from '../../resource.js';
import { allPages, COMMON_ATTRIBUTES, commonOf, CREATE_ONLY, dictOf, invalid, notFoundType, ownerOf, SFC_EXTENSION, textsOf, typed } from './common.js';

/** networking-sfc's defaults: no correlation (the appliance sees plain packets), weight 1. */
export const SERVICE_FUNCTION_PARAMETERS = { correlation: null, weight: 1 } as const;

export function portPairOf(v: ServiceFunctionView): Json {
  return { ...commonOf(v), ingress: v.ingressPortId, egress: v.egressPortId, service_function_parameters: { ...SERVICE_FUNCTION_PARAMETERS } };
}

/** A port pair POST as the chaining service's `function.create`. */
export function functionCreateOf(body: Json): ChainingCommandInput<'function.create'> {
  for (const leg of ['ingress', 'egress'] as const) {
    // The core answers a missing one (required); null or a number is no port id.
    if (typeof body[leg] !== 'string') throw invalid(leg, `'${String(body[leg])}' is not a valid UUID`);
  }
  const params = dictOf(body, 'service_function_parameters', ['correlation', 'weight']);
  if (params?.correlation !== undefined && params.correlation !== null) {
    throw invalid(
      'service_function_parameters',
      `correlation '${String(params.correlation)}' is not supported: Strata steers the original packets to the appliance without MPLS or NSH encapsulation; omit correlation or give null`,
    );
  }
  if (params?.weight !== undefined && Number(params.weight) !== SERVICE_FUNCTION_PARAMETERS.weight) {
    throw invalid('service_function_parameters', `weight '${String(params.weight)}' is not supported: Strata spreads flows evenly over a group's healthy port pairs (weight 1)`);
  }
  return {
    tenant: ownerOf(body),
    ...textsOf(body),
    ingressPortId: body.ingress as string,
    egressPortId: body.egress as string,
    mode: 'l3',
  };
}

/** A port pair in a port pair group cannot be deleted: networking-sfc's PortPairInUse. */
const deleteType = (e: StrataError) => (e.code === 'FAILED_PRECONDITION' ? 'PortPairInUse' : undefined);

export const portPairs: ResourceDefinition = {
  path: 'sfc/port_pairs',
  collection: 'port_pairs',
  member: 'port_pair',
  notFound: 'PortPairNotFound',
  notFoundMessage: (id) => `Port Pair ${id} not found.`,
  extensions: [SFC_EXTENSION],
  attributes: {
    ...COMMON_ATTRIBUTES,
    ingress: { ...CREATE_ONLY, required: true },
    egress: { ...CREATE_ONLY, required: true },
    service_function_parameters: { ...CREATE_ONLY, type: 'object' },
  },
  async list(ctx: NeutronContext) {
    const items = await allPages((after) => ctx.clients.chaining.query('function.list', { after }, ctx.meta));
    return items.map(portPairOf);
  },
  async show(ctx, id) {
    return portPairOf(await ctx.clients.chaining.query('function.get', { id }, ctx.meta));
  },
  async create(ctx, body) {
    return portPairOf(await typed(ctx.clients.chaining.command('function.create', functionCreateOf(body), ctx.meta), notFoundType));
  },
  async update(ctx, id, body, expectedRevision) {
    return portPairOf(await typed(ctx.clients.chaining.command('function.update', { id, expectedRevision, ...textsOf(body) }, ctx.meta), notFoundType, id));
  },
  async delete(ctx, id) {
    await typed(ctx.clients.chaining.command('function.delete', { id }, ctx.meta), deleteType, id);
  },
};
