import type { Command } from 'commander';
import type {
  ApplicationPrefix__Output,
  DeleteApplicationPrefixResponse__Output,
  ListApplicationPrefixesResponse__Output,
} from '@strata/proto';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';

export const appPrefixColumns: Column<ApplicationPrefix__Output>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'PREFIX', value: (a) => a.prefix },
  { header: 'POOL', value: (a) => a.poolId },
  { header: 'TENANT', value: (a) => a.tenant },
  { header: 'CREATED', value: (a) => a.createdAt },
];

export function registerApplicationPrefixCommands(program: Command, cli: CliContext): void {
  const ap = program.command('appprefix').description('prefixes application stacks announce over BGP');

  ap.command('create')
    .description('allocate an application prefix')
    .requiredOption('--pool <id>', 'pool (purpose application-prefix) to take it from')
    .option('--prefix <cidr>', 'a specific prefix (default: the next free one)')
    .option('--length <bits>', 'prefix length: /32-/29 for IPv4, /64 for IPv6 (default /32 or /64)', positiveInt)
    .option('--tenant <tenant>', 'admin only: allocate it for this tenant')
    .action(async (o: { pool: string; prefix?: string; length?: number; tenant?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { poolId: o.pool, prefix: o.prefix, length: o.length, tenant: o.tenant };
      const res = await api.call<ApplicationPrefix__Output>((md, opts, cb) =>
        api.appPrefixes.CreateApplicationPrefix(req, md, opts, cb),
      );
      printOne(cli.io, cli.format(cmd), res, appPrefixColumns);
    });

  listCommand(ap, cli, 'list application prefixes', appPrefixColumns, (api, o) =>
    api.call<ListApplicationPrefixesResponse__Output>((md, opts, cb) => api.appPrefixes.ListApplicationPrefixes(o, md, opts, cb)),
  );
  showCommand(ap, cli, 'application prefix', appPrefixColumns, (api, id) =>
    api.call<ApplicationPrefix__Output>((md, opts, cb) => api.appPrefixes.GetApplicationPrefix({ id }, md, opts, cb)),
  );
  deleteCommand(ap, cli, 'application prefix', (api, id) =>
    api.call<DeleteApplicationPrefixResponse__Output>((md, opts, cb) => api.appPrefixes.DeleteApplicationPrefix({ id }, md, opts, cb)),
  );
}
