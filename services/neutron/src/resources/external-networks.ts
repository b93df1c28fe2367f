/**
 * External networks (Neutron's `router:external`). In Strata the outside
 * world a tenant reaches is the operator's floating-IP pools (IPAM pools of
 * purpose `floating-ip`): a floating IP is allocated from one, and a
 * router's external gateway names one. So each such pool is presented as a
 * Neutron network — `router:external: true`, `shared: true`, ACTIVE — with
 * one read-only subnet for its CIDR, so `openstack floating ip create
 * <pool name>` and `openstack router set --external-gateway <pool name>`
 * find it by name or id. The network's id is the pool's id; the subnet's id
 * is derived from it (stable, a UUID like every Neutron id).
 *
 * They are created by an operator (`strata pool create --purpose
 * floating-ip`), never through Neutron: a POST with `router:external: true`
 * is refused (`refuseExternalNetwork`), as is any change or deletion of
 * them through the networks and subnets resources.
 */
import { createHash } from 'node:crypto';
import type { PoolView } from '@strata/contracts';
import { formatAddress, lastAddress, parsePrefix } from '@strata/netaddr';
import type { Json, NeutronContext } from '../resource.js';
import { NeutronHttpError, policyNotAuthorized } from '../errors.js';
import { allPages, badRequest, neutronTime } from './l3-common.js';

/**
 * The MTU shown for an external network. A pool is an address range routed
 * by the fabric, not a segment: nothing in Strata sends frames "on" it, so
 * this is the fabric's ordinary Ethernet MTU, for clients that expect the key.
 */
export const EXTERNAL_NETWORK_MTU = 1500;

/** The id of the one subnet of the external network made from `poolId`: a name-based UUID (version 5 layout). */
export function externalSubnetId(poolId: string): string {
  const h = createHash('sha256').update(`strata:external-subnet:${poolId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const isExternalPool = (p: PoolView): boolean => p.purpose === 'floating-ip';

/** The pool as a Neutron network. Pools belong to no project: `tenant_id` is empty, `shared` lets every project use it. */
export function toExternalNetwork(p: PoolView): Json {
  const at = neutronTime(p.createdAt);
  return {
    id: p.id,
    name: p.name,
    tenant_id: '',
    project_id: '',
    admin_state_up: true,
    status: 'ACTIVE',
    subnets: [externalSubnetId(p.id)],
    shared: true,
    'router:external': true,
    mtu: EXTERNAL_NETWORK_MTU,
    port_security_enabled: true,
    description: `floating-IP pool ${p.cidr}`,
    revision_number: 1,
    created_at: at,
    updated_at: at,
  };
}

/**
 * The pool's CIDR as a Neutron subnet: no gateway and no DHCP (nothing is
 * plugged into it), its allocation pool the addresses IPAM hands out as
 * floating IPs (an IPv4 pool of /30 or larger skips the network and
 * broadcast address, as IPAM does).
 */
export function toExternalSubnet(p: PoolView): Json {
  const at = neutronTime(p.createdAt);
  return {
    id: externalSubnetId(p.id),
    name: p.name,
    tenant_id: '',
    project_id: '',
    network_id: p.id,
    ip_version: p.ipVersion,
    cidr: p.cidr,
    gateway_ip: null,
    allocation_pools: [usableRange(p.cidr)],
    enable_dhcp: false,
    dns_nameservers: [],
    host_routes: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    description: `floating-IP pool ${p.cidr}`,
    revision_number: 1,
    created_at: at,
    updated_at: at,
  };
}

function usableRange(cidr: string): { start: string; end: string } {
  const prefix = parsePrefix(cidr);
  const hostBits = (prefix.version === 4 ? 32 : 128) - prefix.length;
  const skipEnds = prefix.version === 4 && hostBits >= 2;
  const first = prefix.network + (skipEnds || (prefix.version === 6 && hostBits >= 1) ? 1n : 0n);
  const last = lastAddress(prefix) - (skipEnds ? 1n : 0n);
  return { start: formatAddress({ version: prefix.version, value: first }), end: formatAddress({ version: prefix.version, value: last }) };
}

/** Every floating-IP pool (pools are visible to every project). */
export async function externalPools(ctx: NeutronContext): Promise<PoolView[]> {
  const pools = await allPages((after) => ctx.clients.ipam.query('pool.list', { limit: 10_000, after }, ctx.meta));
  return pools.filter(isExternalPool);
}

/** The external networks, for the networks resource to list beside the tenant networks. */
export const externalNetworks = async (ctx: NeutronContext): Promise<Json[]> => (await externalPools(ctx)).map(toExternalNetwork);

/** The external networks' subnets, for the subnets resource to list beside the tenant subnets. */
export const externalSubnets = async (ctx: NeutronContext): Promise<Json[]> => (await externalPools(ctx)).map(toExternalSubnet);

/** The floating-IP pool that is external network `id`, or undefined (not a pool, or a pool of another purpose). */
export async function findExternalPool(ctx: NeutronContext, id: string): Promise<PoolView | undefined> {
  return (await externalPools(ctx)).find((p) => p.id === id);
}

/** The external network `id` as a Neutron network, or undefined when it is none (the networks resource then asks IPAM). */
export async function showExternalNetwork(ctx: NeutronContext, id: string): Promise<Json | undefined> {
  const pool = await findExternalPool(ctx, id);
  return pool && toExternalNetwork(pool);
}

/** The subnet `id` of an external network, or undefined when it is none. */
export async function showExternalSubnet(ctx: NeutronContext, id: string): Promise<Json | undefined> {
  const pool = (await externalPools(ctx)).find((p) => externalSubnetId(p.id) === id);
  return pool && toExternalSubnet(pool);
}

/**
 * A network create asking for `router:external: true`. Neutron lets only an
 * admin set it (403 for others); in Strata not even an admin makes one
 * through Neutron, because an external network is an IPAM floating-IP pool,
 * which has no segment, subnets or ports of its own: 400 saying how.
 */
export function refuseExternalNetwork(ctx: NeutronContext, body: Json): void {
  const external = body['router:external'];
  if (external === undefined || external === false || external === 'false' || external === 'False') return;
  if (ctx.identity.role !== 'admin') {
    throw policyNotAuthorized('(rule:create_network and rule:create_network:router:external)');
  }
  throw badRequest(
    'network',
    "Strata's external networks are its floating-IP pools: an operator creates one with `strata pool create --name NAME --cidr CIDR --purpose floating-ip`, and it appears here as a shared network with router:external true",
  );
}

/** A write (update, delete, subnet create) aimed at an external network or its subnet: 403, they are the operator's pools. */
export function readOnlyExternal(what: string): NeutronHttpError {
  return new NeutronHttpError(403, 'PolicyNotAuthorized', `${what} is a floating-IP pool presented as an external network: it is changed only by an operator with \`strata pool\``);
}

/**
 * `id` must be an external network (a floating-IP pool) — for a router's
 * gateway or a floating IP: another network the caller can see is 400, as
 * Neutron's "is not an external network"; an unknown id is 404 NetworkNotFound.
 */
export async function requireExternalNetwork(ctx: NeutronContext, id: string): Promise<PoolView> {
  const pool = await findExternalPool(ctx, id);
  if (pool) return pool;
  const ordinary = await ctx.clients.ipam.query('network.get', { id }, ctx.meta).then(
    () => true,
    () => false,
  );
  if (ordinary) throw badRequest('network', `Network ${id} is not an external network`);
  throw new NeutronHttpError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
}
