import type { Command } from 'commander';
import type { DeleteFloatingIpResponse__Output, FloatingIp__Output, ListFloatingIpsResponse__Output } from '@strata/proto';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';
import { associatedColumns, pageWithAssociations, withAssociation, type FloatingIpWithAssociation } from './nat.js';

export const floatingIpColumns: Column<FloatingIp__Output>[] = [
  { header: 'ID', value: (f) => f.id },
  { header: 'ADDRESS', value: (f) => f.address },
  { header: 'POOL', value: (f) => f.poolId },
  { header: 'TENANT', value: (f) => f.tenant },
  { header: 'CREATED', value: (f) => f.createdAt },
];

/** With the association (from the nat service) for list and show; -o json adds it as `association`. */
const withAssociationColumns: Column<FloatingIpWithAssociation>[] = [...floatingIpColumns, ...associatedColumns];

/** Returns the `floatingip` group, so the NAT commands (associate, disassociate) join it. */
export function registerFloatingIpCommands(program: Command, cli: CliContext): Command {
  const fip = program.command('floatingip').description('public addresses for 1:1 NAT');

  fip
    .command('create')
    .description('allocate a floating IP')
    .requiredOption('--pool <id>', 'pool (purpose floating-ip) to take it from')
    .option('--address <ip>', 'a specific address (default: the next free one)')
    .option('--tenant <tenant>', 'admin only: allocate it for this tenant')
    .action(async (o: { pool: string; address?: string; tenant?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { poolId: o.pool, address: o.address, tenant: o.tenant };
      const res = await api.call<FloatingIp__Output>((md, opts, cb) => api.floatingIps.CreateFloatingIp(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, floatingIpColumns);
    });

  listCommand(fip, cli, 'list floating IPs and their associations', withAssociationColumns, async (api, o) =>
    pageWithAssociations(api, cli, await api.call<ListFloatingIpsResponse__Output>((md, opts, cb) => api.floatingIps.ListFloatingIps(o, md, opts, cb)), o),
  );
  showCommand(fip, cli, 'floating IP and its association', withAssociationColumns, async (api, id) =>
    withAssociation(api, cli, await api.call<FloatingIp__Output>((md, opts, cb) => api.floatingIps.GetFloatingIp({ id }, md, opts, cb))),
  );
  deleteCommand(fip, cli, 'floating IP', (api, id) =>
    api.call<DeleteFloatingIpResponse__Output>((md, opts, cb) => api.floatingIps.DeleteFloatingIp({ id }, md, opts, cb)),
  );
  return fip;
}
