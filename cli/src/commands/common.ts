/** The show/list/delete shapes every resource group shares, so each group file only says what differs. */
import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import type { Api } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
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

/**
 * A list an update replaces: the values of the repeatable `--<option>`, the
 * empty list for its `--no-<option>s` form (`keep` false), or undefined
 * (unchanged) for neither.
 */
export function replacedList<T>(values: T[] | undefined, keep: boolean, option: string): T[] | undefined {
  if (values !== undefined && !keep) throw new UsageError(`--${option} cannot be combined with --no-${option}s`);
  return keep ? values : [];
}

/** `update <id>` with what every update has: `--expected-revision` (options not given stay as they are); each adds its own options. */
export function updateCommand(group: Command, kind: string, description = `change a ${kind}: only the options given change`): Command {
  return group
    .command('update')
    .description(description)
    .argument('<id>')
    .option('--expected-revision <n>', `refuse (and change nothing) unless the ${kind} is still at this revision`, positiveInt);
}

/** `updateCommand` for a resource with a display name and a description. */
export function namedUpdateCommand(group: Command, kind: string, description?: string): Command {
  return updateCommand(group, kind, description).option('--name <name>', 'display name').option('--description <text>', 'description');
}
