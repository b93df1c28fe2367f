import { Option, type Command } from 'commander';
import {
  poolPurposeFromProto,
  poolPurposeToProto,
  type DeletePoolResponse__Output,
  type ListPoolsResponse__Output,
  type Pool__Output,
} from '@strata/proto';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';

export const POOL_PURPOSES = ['floating-ip', 'host-ip', 'application-prefix', 'routed'] as const;

export const poolColumns: Column<Pool__Output>[] = [
  { header: 'ID', value: (p) => p.id },
  { header: 'NAME', value: (p) => p.name },
  { header: 'CIDR', value: (p) => p.cidr },
  { header: 'PURPOSE', value: (p) => poolPurposeFromProto(p.purpose) },
  { header: 'ALLOCATED', value: (p) => p.allocated },
  { header: 'CREATED', value: (p) => p.createdAt },
];

export function registerPoolCommands(program: Command, cli: CliContext): void {
  const pool = program.command('pool').description('public address pools (admin)');

  pool
    .command('create')
    .description('create a pool')
    .requiredOption('--cidr <cidr>', 'e.g. 203.0.113.0/24')
    .addOption(new Option('--purpose <purpose>', 'what it hands out').choices(POOL_PURPOSES).makeOptionMandatory())
    .option('--name <name>', 'display name', '')
    .action(async (o: { cidr: string; purpose: string; name: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { cidr: o.cidr, purpose: poolPurposeToProto(o.purpose), name: o.name };
      const res = await api.call<Pool__Output>((md, opts, cb) => api.pools.CreatePool(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, poolColumns);
    });

  listCommand(pool, cli, 'list pools', poolColumns, (api, o) =>
    api.call<ListPoolsResponse__Output>((md, opts, cb) => api.pools.ListPools(o, md, opts, cb)),
  );
  showCommand(pool, cli, 'pool', poolColumns, (api, id) =>
    api.call<Pool__Output>((md, opts, cb) => api.pools.GetPool({ id }, md, opts, cb)),
  );
  deleteCommand(pool, cli, 'pool', (api, id) =>
    api.call<DeletePoolResponse__Output>((md, opts, cb) => api.pools.DeletePool({ id }, md, opts, cb)),
  );
}
