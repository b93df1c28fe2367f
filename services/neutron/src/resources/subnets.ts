/**
 * Neutron subnets over IPAM's subnets: allocation pools, gateway, DHCP,
 * DNS servers, host routes and the IPv6 modes are IPAM's own fields, so
 * this is renaming and Neutron's request shapes. Subnet pools are not
 * implemented: `subnetpool_id` is always null and any other value refused.
 */
import { ErrorCode } from '@strata/errors';
import { ipamContract, type SubnetView } from '@strata/contracts';
import { parsePrefix } from '@strata/netaddr';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';
import { bool, dictList, has, int, nullableStr, str, strList } from './body.js';
import { allPages, hintsFor, ownerOf, requestedProject, singleFilter, standardAttributes, STANDARD_ATTRIBUTES } from './common.js';
import { httpBadRequest } from '../errors.js';
import { INVALID_INPUT_RULE, invalidInput, NOT_FOUND_RULES, withFaults, type FaultRule } from './errors.js';

export const SUBNET_ATTRIBUTES = {
  ...STANDARD_ATTRIBUTES,
  name: { post: true, put: true },
  network_id: { post: true, put: false, required: true },
  ip_version: { post: true, put: false, required: true, type: 'integer' },
  cidr: { post: true, put: false },
  // Neutron lets a gateway change; IPAM does not (ports' routes and the hosts' gateway address follow it).
  gateway_ip: { post: true, put: false },
  allocation_pools: { post: true, put: true, type: 'kvp-list' },
  enable_dhcp: { post: true, put: true, type: 'boolean' },
  dns_nameservers: { post: true, put: true, type: 'list' },
  host_routes: { post: true, put: true, type: 'kvp-list' },
  ipv6_ra_mode: { post: true, put: false },
  ipv6_address_mode: { post: true, put: false },
  subnetpool_id: { post: true, put: false },
} as const;

export const SUBNET_FAULTS: readonly FaultRule[] = [
  ...NOT_FOUND_RULES,
  // Ports still hold addresses of it, or a router joins it.
  { code: ErrorCode.FailedPrecondition, type: 'SubnetInUse', status: 409 },
  INVALID_INPUT_RULE,
];

export function toNeutronSubnet(v: SubnetView): Json {
  return {
    id: v.id,
    name: v.name,
    ...ownerOf(v.tenant),
    network_id: v.networkId,
    ip_version: v.ipVersion,
    cidr: v.cidr,
    gateway_ip: v.gatewayIp,
    allocation_pools: v.allocationPools.map((p) => ({ start: p.start, end: p.end })),
    enable_dhcp: v.enableDhcp,
    dns_nameservers: [...v.dnsNameservers],
    host_routes: v.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    ipv6_ra_mode: v.ipv6RaMode,
    ipv6_address_mode: v.ipv6AddressMode,
    subnetpool_id: null,
    ...standardAttributes(v),
  };
}

const required = (body: Json, key: string): void => {
  if (!has(body, key)) throw httpBadRequest(`Failed to parse request. Required attribute '${key}' not specified`);
};

const pools = (body: Json) => dictList(body, 'allocation_pools', ['start', 'end'], ['start', 'end']) as Array<{ start: string; end: string }> | undefined;
const routes = (body: Json) => dictList(body, 'host_routes', ['destination', 'nexthop'], ['destination', 'nexthop']) as Array<{ destination: string; nexthop: string }> | undefined;

function ipv6Mode(body: Json, key: string) {
  const mode = nullableStr(body, key);
  // IPAM checks the name (one of Neutron's three) and the combination with the CIDR and the other mode.
  return mode as 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless' | null | undefined;
}

/** ip_version must be 4 or 6 and the CIDR's (a CIDR that does not parse is IPAM's to refuse, naming what is wrong). */
function checkVersion(version: number, cidr: string): void {
  if (version !== 4 && version !== 6) throw invalidInput('ip_version', `${version} is not in [4, 6]`);
  let actual: number;
  try {
    actual = parsePrefix(cidr, false).version;
  } catch {
    return;
  }
  if (actual !== version) throw invalidInput('cidr', `'${cidr}' is not an IPv${version} CIDR (ip_version is ${version})`);
}

export function createSubnetCommand(body: Json) {
  for (const key of ['network_id', 'ip_version', 'cidr']) required(body, key);
  if (body['subnetpool_id'] !== null && has(body, 'subnetpool_id')) throw invalidInput('subnetpool_id', 'subnet pools are not implemented: give a cidr');
  const cidr = str(body, 'cidr')!;
  checkVersion(int(body, 'ip_version')!, cidr);
  return {
    networkId: str(body, 'network_id')!,
    name: str(body, 'name') ?? '',
    description: str(body, 'description') ?? '',
    cidr,
    gatewayIp: nullableStr(body, 'gateway_ip'),
    allocationPools: pools(body),
    enableDhcp: bool(body, 'enable_dhcp') ?? true,
    dnsNameservers: strList(body, 'dns_nameservers') ?? [],
    hostRoutes: routes(body) ?? [],
    ipv6RaMode: ipv6Mode(body, 'ipv6_ra_mode') ?? null,
    ipv6AddressMode: ipv6Mode(body, 'ipv6_address_mode') ?? null,
  };
}

export function updateSubnetCommand(id: string, body: Json, expectedRevision: number | undefined) {
  return {
    id,
    expectedRevision,
    name: str(body, 'name'),
    description: str(body, 'description'),
    allocationPools: pools(body),
    enableDhcp: bool(body, 'enable_dhcp'),
    dnsNameservers: strList(body, 'dns_nameservers'),
    hostRoutes: routes(body),
  };
}

export function subnetsResource(): ResourceDefinition {
  return {
    path: 'subnets',
    collection: 'subnets',
    member: 'subnet',
    notFound: 'SubnetNotFound',
    attributes: SUBNET_ATTRIBUTES,
    async list(ctx, filters) {
      const hint = hintsFor(ipamContract.queries['subnet.list'].request, { networkId: singleFilter(filters, 'network_id') });
      const subnets = await allPages((p) => ctx.clients.ipam.query('subnet.list', { ...p, ...hint }, ctx.meta));
      return subnets.map(toNeutronSubnet);
    },
    async show(ctx, id) {
      return withFaults(SUBNET_FAULTS, async () => toNeutronSubnet(await ctx.clients.ipam.query('subnet.get', { id }, ctx.meta)));
    },
    async create(ctx, body) {
      return withFaults(SUBNET_FAULTS, async () => {
        const cmd = createSubnetCommand(body);
        await checkProject(ctx, body, cmd.networkId);
        return toNeutronSubnet(await ctx.clients.ipam.command('subnet.create', cmd, ctx.meta));
      });
    },
    async update(ctx, id, body, expectedRevision) {
      return withFaults(SUBNET_FAULTS, async () => toNeutronSubnet(await ctx.clients.ipam.command('subnet.update', updateSubnetCommand(id, body, expectedRevision), ctx.meta)));
    },
    async delete(ctx, id) {
      await withFaults(SUBNET_FAULTS, () => ctx.clients.ipam.command('subnet.delete', { id }, ctx.meta));
    },
  };
}

/**
 * A subnet (and a port) belongs to its network's project in Strata: a POST
 * naming another project is refused rather than recorded under the
 * network's. Neutron would let an admin put another project's subnet on a
 * network; Strata has no such split ownership.
 */
export async function checkProject(ctx: NeutronContext, body: Json, networkId: string): Promise<void> {
  const project = requestedProject(body);
  // The caller's own project (the REST core fills it in when none was named) is fine: the resource is the network's project's.
  if (project === undefined || project === ctx.identity.projectId) return;
  const network = await ctx.clients.ipam.query('network.get', { id: networkId }, ctx.meta);
  if (network.tenant !== project) {
    throw invalidInput('project_id', `'${project}' is not the project of network ${networkId} (${network.tenant}); in Strata a network's subnets and ports are its project's`);
  }
}
