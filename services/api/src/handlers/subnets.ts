import { IPV6_MODES, type Ipv6Mode, type SubnetView } from '@strata/contracts';
import { ValidationError } from '@strata/errors';
import type { CreateSubnetRequest__Output, Subnet, SubnetServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toSubnet(v: SubnetView): Subnet {
  return {
    id: v.id,
    tenant: v.tenant,
    networkId: v.networkId,
    name: v.name,
    ipVersion: v.ipVersion,
    cidr: v.cidr,
    // null (no gateway) is expressed by leaving the optional field unset.
    gatewayIp: v.gatewayIp ?? undefined,
    allocationPools: v.allocationPools,
    enableDhcp: v.enableDhcp,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    description: v.description,
    dnsNameservers: v.dnsNameservers,
    hostRoutes: v.hostRoutes,
    revision: v.revision,
    ipv6RaMode: v.ipv6RaMode ?? undefined,
    ipv6AddressMode: v.ipv6AddressMode ?? undefined,
  };
}

/** proto3 cannot say "null" or "omitted list": no_gateway and an empty list stand for them. */
function gatewayOf(req: CreateSubnetRequest__Output): string | null | undefined {
  if (!req.noGateway) return req.gatewayIp;
  if (req.gatewayIp !== undefined) {
    throw new ValidationError('gatewayIp: cannot be combined with noGateway', { field: 'gatewayIp' });
  }
  return null;
}

/** proto3 carries the mode as a string: one of Neutron's names, or absent (not set). */
function ipv6ModeOf(field: string, mode: string | undefined): Ipv6Mode | undefined {
  if (mode === undefined) return undefined;
  if (!(IPV6_MODES as readonly string[]).includes(mode)) {
    throw new ValidationError(`${field}: "${mode}" is not an IPv6 mode; one of ${IPV6_MODES.join(', ')}`, { field });
  }
  return mode as Ipv6Mode;
}

export function subnetHandlers(deps: RpcDeps): SubnetServiceHandlers {
  const { ipam } = deps;
  return {
    CreateSubnet: unary(deps, 'CreateSubnet', async (req, { meta }) => {
      const body = {
        networkId: req.networkId,
        name: req.name,
        cidr: req.cidr,
        gatewayIp: gatewayOf(req),
        allocationPools: req.allocationPools.length > 0 ? req.allocationPools : undefined,
        enableDhcp: req.enableDhcp,
        description: req.description,
        dnsNameservers: req.dnsNameservers,
        hostRoutes: req.hostRoutes,
        ipv6RaMode: ipv6ModeOf('ipv6RaMode', req.ipv6RaMode),
        ipv6AddressMode: ipv6ModeOf('ipv6AddressMode', req.ipv6AddressMode),
      };
      return toSubnet(await ipam.command('subnet.create', body, meta));
    }),
    // A list is a message: absent, unchanged; present (even empty), the new list. Never-changing fields go on for IPAM to refuse by name.
    UpdateSubnet: unary(deps, 'UpdateSubnet', async (req, { meta }) => {
      const body = {
        id: req.id,
        expectedRevision: req.expectedRevision,
        name: req.name,
        description: req.description,
        allocationPools: req.allocationPools?.allocationPools,
        enableDhcp: req.enableDhcp,
        dnsNameservers: req.dnsNameservers?.dnsNameservers,
        hostRoutes: req.hostRoutes?.hostRoutes,
        networkId: req.networkId,
        cidr: req.cidr,
        ipVersion: req.ipVersion,
      };
      return toSubnet(await ipam.command('subnet.update', body, meta));
    }),
    GetSubnet: unary(deps, 'GetSubnet', async (req, { meta }) => toSubnet(await ipam.query('subnet.get', { id: req.id }, meta))),
    ListSubnets: unary(deps, 'ListSubnets', async (req, { meta }) => {
      const page = await ipam.query('subnet.list', { ...paging(req), networkId: req.networkId }, meta);
      return { items: page.items.map(toSubnet), next: page.next };
    }),
    DeleteSubnet: unary(deps, 'DeleteSubnet', (req, { meta }) => ipam.command('subnet.delete', { id: req.id }, meta)),
  };
}
