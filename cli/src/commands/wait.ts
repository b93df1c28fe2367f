import type { Command } from 'commander';
import { duration, positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { renderJson } from '../output.js';
import { describeBarrier, describeRealisation } from '../wait/describe.js';
import { formatDuration, waitForPosition, waitForResource, type WaitContext } from '../wait/waiter.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
export const TIMEOUT_HELP = `how long to wait, e.g. 30s, 2m, 500ms (default ${formatDuration(DEFAULT_WAIT_TIMEOUT_MS)})`;

/** The resources `strata wait` knows, as the API names them (and the CLI group names they also go by). */
const KINDS: Array<{ kind: string; alias?: string; what: string }> = [
  { kind: 'port', what: 'until the port is ACTIVE' },
  { kind: 'network', what: 'until the network is applied on every host holding it' },
  { kind: 'router', what: 'until the router is applied on every host holding it' },
  { kind: 'security-group', alias: 'secgroup', what: "until the group's rules and members are applied on every host holding them" },
  { kind: 'chain', what: 'until the service chain is applied on every host holding it' },
];

export function waitContext(cli: CliContext, cmd: Command, timeoutMs: number): WaitContext {
  return { api: cli.connect(cmd), io: cli.io, deadline: Date.now() + timeoutMs, timeoutMs, signal: cli.interrupt };
}

/** `strata wait <kind> <id>` and `strata wait position <n>`: exit 0 once realised, 3 when --timeout passes first. */
export function registerWaitCommands(program: Command, cli: CliContext): void {
  const wait = program
    .command('wait')
    .description('block until a resource or a log position is realised in the data plane (exit 3 on timeout)');
  for (const k of KINDS) {
    const sub = wait
      .command(k.kind)
      .description(`wait ${k.what}`)
      .argument('<id>')
      .option('--timeout <duration>', TIMEOUT_HELP, duration, DEFAULT_WAIT_TIMEOUT_MS)
      .action(async (id: string, o: { timeout: number }, cmd: Command) => {
        const r = await waitForResource(waitContext(cli, cmd, o.timeout), { kind: k.kind, id });
        cli.io.out(cli.format(cmd) === 'json' ? renderJson(r) : describeRealisation(r));
      });
    if (k.alias) sub.alias(k.alias);
  }
  wait
    .command('position')
    .description('wait until every change up to this log position (a write\'s strata-position) is applied on every host it affects (admin)')
    .argument('<n>', 'log position', positiveInt)
    .option('--timeout <duration>', TIMEOUT_HELP, duration, DEFAULT_WAIT_TIMEOUT_MS)
    .action(async (n: number, o: { timeout: number }, cmd: Command) => {
      const b = await waitForPosition(waitContext(cli, cmd, o.timeout), n);
      cli.io.out(cli.format(cmd) === 'json' ? renderJson(b) : describeBarrier(b));
    });
}
