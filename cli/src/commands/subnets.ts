import type { Command } from 'commander';
import type { DeleteSubnetResponse__Output, ListSubnetsResponse__Output, Subnet__Output } from '@strata/proto';
import { allocationPool, collect, route } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, replacedList, showCommand, namedUpdateCommand, type Paging } from './common.js';

export const subnetColumns: Column<Subnet__Output>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'NETWORK', value: (s) => s.networkId },
  { header: 'CIDR', value: (s) => s.cidr },
  { header: 'GATEWAY', value: (s) => s.gatewayIp ?? 'none' },
  { header: 'POOLS', value: (s) => s.allocationPools.map((p) => `${p.start}-${p.end}`).join('\n') },
  { header: 'DHCP', value: (s) => (s.enableDhcp ? 'yes' : 'no') },
  { header: 'DNS', value: (s) => s.dnsNameservers.join('\n') },
  { header: 'HOST ROUTES', value: (s) => s.hostRoutes.map((r) => `${r.destination} via ${r.nexthop}`).join('\n') },
  { header: 'DESCRIPTION', value: (s) => s.description },
  { header: 'REVISION', value: (s) => s.revision },
  // IPv6 modes as RA/address (Neutron's ipv6_ra_mode/ipv6_address_mode), '-' where not set.
  { header: 'IPV6', value: (s) => (s.ipVersion === 6 ? `${s.ipv6RaMode ?? '-'}/${s.ipv6AddressMode ?? '-'}` : '') },
];

type Route = { destination: string; nexthop: string };

interface CreateOptions {
  network: string;
  cidr: string;
  name: string;
  /** A string: this gateway; false: --no-gateway; undefined: the first usable address. */
  gateway?: string | false;
  pool?: Array<{ start: string; end: string }>;
  dhcp: boolean;
  description: string;
  dnsNameserver?: string[];
  hostRoute?: Route[];
  ipv6RaMode?: string;
  ipv6AddressMode?: string;
}

interface UpdateOptions {
  name?: string;
  description?: string;
  expectedRevision?: number;
  pool?: Array<{ start: string; end: string }>;
  dhcp?: boolean;
  dnsNameserver?: string[];
  /** false: --no-dns-nameservers. */
  dnsNameservers: boolean;
  hostRoute?: Route[];
  /** false: --no-host-routes. */
  hostRoutes: boolean;
}

export function registerSubnetCommands(program: Command, cli: CliContext): void {
  const subnet = program.command('subnet').description('address ranges of a network');

  subnet
    .command('create')
    .description('create a subnet')
    .requiredOption('--network <id>', 'network to add it to')
    .requiredOption('--cidr <cidr>', 'e.g. 10.0.0.0/24 or 2001:db8::/64')
    .option('--name <name>', 'display name', '')
    .option('--gateway <ip>', 'gateway address (default: the first usable address)')
    .option('--no-gateway', 'no gateway: an isolated subnet')
    .option('--pool <start-end>', 'allocation pool, repeatable (default: the whole subnet)', allocationPool)
    .option('--no-dhcp', 'disable DHCP')
    .option('--description <text>', 'description', '')
    .option('--dns-nameserver <ip>', 'DNS server handed out by DHCP; repeatable', collect)
    .option('--host-route <spec>', 'destination=CIDR,nexthop=IP handed out by DHCP; repeatable', route)
    .option('--ipv6-ra-mode <mode>', 'IPv6: router advertisements from the gateway: slaac, dhcpv6-stateful or dhcpv6-stateless')
    .option('--ipv6-address-mode <mode>', 'IPv6: how ports get addresses: slaac, dhcpv6-stateful or dhcpv6-stateless')
    .action(async (o: CreateOptions, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = {
        networkId: o.network,
        cidr: o.cidr,
        name: o.name,
        gatewayIp: typeof o.gateway === 'string' ? o.gateway : undefined,
        noGateway: o.gateway === false,
        allocationPools: o.pool ?? [],
        enableDhcp: o.dhcp,
        description: o.description,
        dnsNameservers: o.dnsNameserver ?? [],
        hostRoutes: o.hostRoute ?? [],
        ipv6RaMode: o.ipv6RaMode,
        ipv6AddressMode: o.ipv6AddressMode,
      };
      const res = await api.call<Subnet__Output>((md, opts, cb) => api.subnets.CreateSubnet(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, subnetColumns);
    });

  namedUpdateCommand(subnet, 'subnet')
    .option('--pool <start-end>', 'the new allocation pools, repeatable (addresses in use must stay inside)', allocationPool)
    .option('--dhcp', 'enable DHCP')
    .option('--no-dhcp', 'disable DHCP')
    .option('--dns-nameserver <ip>', 'the new DNS servers; repeatable', collect)
    .option('--no-dns-nameservers', 'no DNS servers')
    .option('--host-route <spec>', 'the new host routes, destination=CIDR,nexthop=IP; repeatable', route)
    .option('--no-host-routes', 'no host routes')
    .action(async (id: string, o: UpdateOptions, cmd: Command) => {
      const dns = replacedList(o.dnsNameserver, o.dnsNameservers, 'dns-nameserver');
      const routes = replacedList(o.hostRoute, o.hostRoutes, 'host-route');
      const api = cli.connect(cmd);
      const req = {
        id,
        name: o.name,
        description: o.description,
        expectedRevision: o.expectedRevision,
        allocationPools: o.pool && { allocationPools: o.pool },
        // --dhcp/--no-dhcp: commander leaves it undefined when neither is given (no default declared).
        enableDhcp: o.dhcp,
        dnsNameservers: dns && { dnsNameservers: dns },
        hostRoutes: routes && { hostRoutes: routes },
      };
      const res = await api.call<Subnet__Output>((md, opts, cb) => api.subnets.UpdateSubnet(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, subnetColumns);
    });

  listCommand(subnet, cli, 'list subnets', subnetColumns, (api, o: Paging & { network?: string }) =>
    api.call<ListSubnetsResponse__Output>((md, opts, cb) =>
      api.subnets.ListSubnets({ limit: o.limit, after: o.after, networkId: o.network }, md, opts, cb),
    ),
  ).option('--network <id>', 'only the subnets of this network');
  showCommand(subnet, cli, 'subnet', subnetColumns, (api, id) =>
    api.call<Subnet__Output>((md, opts, cb) => api.subnets.GetSubnet({ id }, md, opts, cb)),
  );
  deleteCommand(subnet, cli, 'subnet', (api, id) =>
    api.call<DeleteSubnetResponse__Output>((md, opts, cb) => api.subnets.DeleteSubnet({ id }, md, opts, cb)),
  );
}
