/**
 * Neutron networks (core, net-mtu, net-mtu-writable, external-net,
 * port-security) over IPAM's networks. A network's subnets are IPAM's
 * subnets of it; `router:external` networks come from other sources (the
 * operator's floating-IP pools, added by the routers module through
 * `NetworkSource`), so the list is the IPAM networks followed by each
 * source's.
 */
import type { NetworkView } from '@strata/contracts';
import { ErrorCode, StrataError } from '@strata/errors';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';
import { bool, int, onlyValue, str } from './body.js';
import { allPages, ownerOf, requestedProject, standardAttributes, STANDARD_ATTRIBUTES } from './common.js';
import { INVALID_INPUT_RULE, NOT_FOUND_RULES, withFaults, type FaultRule } from './errors.js';

/** Networks that are not IPAM's (external networks): listed after IPAM's, shown when IPAM has no network of that id. */
export interface NetworkSource {
  list(ctx: NeutronContext, filters: ReadonlyMap<string, readonly string[]>): Promise<Json[]>;
  /** undefined: this source has no network of that id (or the caller may not see it). */
  show(ctx: NeutronContext, id: string): Promise<Json | undefined>;
}

export const NETWORK_ATTRIBUTES = {
  ...STANDARD_ATTRIBUTES,
  name: { post: true, put: true },
  admin_state_up: { post: true, put: true, type: 'boolean' },
  status: { post: false, put: false },
  shared: { post: true, put: true, type: 'boolean' },
  subnets: { post: false, put: false, type: 'list' },
  mtu: { post: true, put: true, type: 'integer' },
  'router:external': { post: true, put: true, type: 'boolean' },
  port_security_enabled: { post: true, put: true, type: 'boolean' },
} as const;

export const NETWORK_FAULTS: readonly FaultRule[] = [
  ...NOT_FOUND_RULES,
  // A network with ports (or a subnet joined to a router) cannot be deleted.
  { code: ErrorCode.FailedPrecondition, type: 'NetworkInUse', status: 409 },
  INVALID_INPUT_RULE,
];

/** IPAM's network as Neutron shows it; `subnets`: the ids of its subnets. */
export function toNeutronNetwork(v: NetworkView, subnets: readonly string[]): Json {
  return {
    id: v.id,
    name: v.name,
    ...ownerOf(v.tenant),
    // Strata networks have no administrative state and are realised as soon as they exist.
    admin_state_up: true,
    status: 'ACTIVE',
    shared: false,
    subnets: [...subnets].sort(),
    mtu: v.mtu,
    'router:external': false,
    port_security_enabled: v.portSecurityEnabled,
    ...standardAttributes(v),
  };
}

/** The attributes a Strata network has exactly one value of: any other value is refused by name, never ignored. */
function fixedAttributes(body: Json): void {
  onlyValue(bool(body, 'admin_state_up'), 'admin_state_up', true, 'a Strata network is always up (set admin_state_up on its ports)');
  onlyValue(bool(body, 'shared'), 'shared', false, 'a Strata network belongs to one project (sharing is not implemented)');
  onlyValue(bool(body, 'router:external'), 'router:external', false, "external networks are the operator's floating-IP pools (strata pool create --purpose floating-ip)");
}

export function createNetworkCommand(body: Json) {
  fixedAttributes(body);
  const tenant = requestedProject(body);
  return {
    ...(tenant === undefined ? {} : { tenant }),
    name: str(body, 'name') ?? '',
    description: str(body, 'description') ?? '',
    mtu: int(body, 'mtu'),
    portSecurityEnabled: bool(body, 'port_security_enabled') ?? true,
  };
}

export function updateNetworkCommand(id: string, body: Json, expectedRevision: number | undefined) {
  fixedAttributes(body);
  return {
    id,
    expectedRevision,
    name: str(body, 'name'),
    description: str(body, 'description'),
    mtu: int(body, 'mtu'),
    portSecurityEnabled: bool(body, 'port_security_enabled'),
  };
}

/** Subnet ids by network id, for the networks the caller may see. */
async function subnetsByNetwork(ctx: NeutronContext, networkId?: string): Promise<Map<string, string[]>> {
  const subnets = await allPages((p) => ctx.clients.ipam.query('subnet.list', { ...p, ...(networkId === undefined ? {} : { networkId }) }, ctx.meta));
  const out = new Map<string, string[]>();
  for (const s of subnets) out.set(s.networkId, [...(out.get(s.networkId) ?? []), s.id]);
  return out;
}

async function shown(ctx: NeutronContext, v: NetworkView): Promise<Json> {
  return toNeutronNetwork(v, (await subnetsByNetwork(ctx, v.id)).get(v.id) ?? []);
}

export function networksResource(sources: readonly NetworkSource[] = []): ResourceDefinition {
  return {
    path: 'networks',
    collection: 'networks',
    member: 'network',
    notFound: 'NetworkNotFound',
    attributes: NETWORK_ATTRIBUTES,
    async list(ctx, filters) {
      const [networks, subnets] = await Promise.all([allPages((p) => ctx.clients.ipam.query('network.list', p, ctx.meta)), subnetsByNetwork(ctx)]);
      const own = networks.map((v) => toNeutronNetwork(v, subnets.get(v.id) ?? []));
      const others = await Promise.all(sources.map((s) => s.list(ctx, filters)));
      return [...own, ...others.flat()];
    },
    async show(ctx, id) {
      try {
        return await withFaults(NETWORK_FAULTS, async () => shown(ctx, await ctx.clients.ipam.query('network.get', { id }, ctx.meta)));
      } catch (err) {
        if (!(err instanceof StrataError && err.code === ErrorCode.NotFound)) throw err;
        for (const s of sources) {
          const found = await s.show(ctx, id);
          if (found !== undefined) return found;
        }
        throw err;
      }
    },
    async create(ctx, body) {
      return withFaults(NETWORK_FAULTS, async () => shown(ctx, await ctx.clients.ipam.command('network.create', createNetworkCommand(body), ctx.meta)));
    },
    async update(ctx, id, body, expectedRevision) {
      return withFaults(NETWORK_FAULTS, async () => shown(ctx, await ctx.clients.ipam.command('network.update', updateNetworkCommand(id, body, expectedRevision), ctx.meta)));
    },
    async delete(ctx, id) {
      await withFaults(NETWORK_FAULTS, () => ctx.clients.ipam.command('network.delete', { id }, ctx.meta));
    },
  };
}
