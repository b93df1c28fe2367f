import type { Command } from 'commander';
import type { DeleteSubnetResponse__Output, ListSubnetsResponse__Output, Subnet__Output } from '@strata/proto';
import { allocationPool } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand, type Paging } from './common.js';

export const subnetColumns: Column<Subnet__Output>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'NETWORK', value: (s) => s.networkId },
  { header: 'CIDR', value: (s) => s.cidr },
  { header: 'GATEWAY', value: (s) => s.gatewayIp ?? 'none' },
  { header: 'POOLS', value: (s) => s.allocationPools.map((p) => `${p.start}-${p.end}`).join('\n') },
  { header: 'DHCP', value: (s) => (s.enableDhcp ? 'yes' : 'no') },
  // IPv6 modes as RA/address (Neutron's ipv6_ra_mode/ipv6_address_mode), '-' where not set.
  { header: 'IPV6', value: (s) => (s.ipVersion === 6 ? `${s.ipv6RaMode ?? '-'}/${s.ipv6AddressMode ?? '-'}` : '') },
];

interface CreateOptions {
  network: string;
  cidr: string;
  name: string;
  /** A string: this gateway; false: --no-gateway; undefined: the first usable address. */
  gateway?: string | false;
  pool?: Array<{ start: string; end: string }>;
  dhcp: boolean;
  ipv6RaMode?: string;
  ipv6AddressMode?: string;
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
        ipv6RaMode: o.ipv6RaMode,
        ipv6AddressMode: o.ipv6AddressMode,
      };
      const res = await api.call<Subnet__Output>((md, opts, cb) => api.subnets.CreateSubnet(req, md, opts, cb));
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
