/** The show/list/delete shapes every resource group shares, so each group file only says what differs. */
import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import type { Api } from '../client.js';
import type { CliContext } from '../context.js';
import { printDeleted, printOne, printPage, type Column } from '../output.js';

export interface Paging {
  limit?: number;
  after: string;
}

export function listCommand<T, O extends Paging>(
  group: Command,
  cli: CliContext,
  description: string,
  columns: readonly Column<T>[],
  list: (api: Api, opts: O) => Promise<{ items: T[]; next: string }>,
): Command {
  return group
    .command('list')
    .description(description)
    .option('--limit <n>', 'page size', positiveInt)
    .option('--after <token>', 'continue after this page token', '')
    .action(async (o: O, cmd: Command) => {
      printPage(cli.io, cli.format(cmd), await list(cli.connect(cmd), o), columns);
    });
}

export function showCommand<T>(
  group: Command,
  cli: CliContext,
  kind: string,
  columns: readonly Column<T>[],
  get: (api: Api, id: string) => Promise<T>,
): Command {
  return group
    .command('show')
    .description(`show one ${kind}`)
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      printOne(cli.io, cli.format(cmd), await get(cli.connect(cmd), id), columns);
    });
}

export function deleteCommand(
  group: Command,
  cli: CliContext,
  kind: string,
  del: (api: Api, id: string) => Promise<{ id: string }>,
  verb = 'delete',
): Command {
  return group
    .command(verb)
    .description(`${verb} a ${kind}`)
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      printDeleted(cli.io, cli.format(cmd), kind, await del(cli.connect(cmd), id));
    });
}

/** `update <id>`: what every update command has (options not given stay as they are); each adds its own options. */
export function updateCommand(group: Command, kind: string, description: string): Command {
  return group
    .command('update')
    .description(description)
    .argument('<id>')
    .option('--expected-revision <n>', `refuse the update unless the ${kind} is still at this revision`, positiveInt);
}
