/** `strata audit`: any resource or hypervisor at a past point of the log, and which events changed it. */
import type { Command } from 'commander';
import type {
  AuditBlameResponse__Output,
  AuditDiffResponse__Output,
  AuditHostDiffResponse__Output,
  AuditHostResponse__Output,
  AuditPoint,
  AuditShowResponse__Output,
  AuditUnreadableEvent__Output,
} from '@strata/proto';
import { logPoint, POINT_HELP, renderBlame, renderDiff, renderHost, renderHostDiff, renderShow, unreadableWarnings } from '../audit-view.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { renderJson } from '../output.js';

const point = (value: string): AuditPoint => logPoint(value);
const KIND_HELP = 'resource kind: security-group, port-security, network, subnet, port, router, floating-ip, sfc-chain, … (the API names them all)';

export function registerAuditCommands(program: Command, cli: CliContext): void {
  const audit = program
    .command('audit')
    .description(`any resource or hypervisor as it was at a point of the log, and which call (who, when, why) changed it; a point is ${POINT_HELP}`);

  /** The answer as JSON, or rendered for people with any unreadable events warned about on stderr. */
  const print = <R>(cmd: Command, r: R, render: (r: R) => string, unreadable: readonly AuditUnreadableEvent__Output[] = []): void => {
    if (cli.format(cmd) === 'json') return cli.io.out(renderJson(r));
    cli.io.out(render(r));
    for (const w of unreadableWarnings(unreadable)) cli.io.err(w);
  };

  audit
    .command('show <kind> <id>')
    .description('the resource as it was at a point')
    .requiredOption('--at <point>', 'the point', point)
    .addHelpText('after', `\n<kind>: ${KIND_HELP}`)
    .action(async (kind: string, id: string, o: { at: AuditPoint }, cmd: Command) => {
      const api = cli.connect(cmd);
      const r = await api.call<AuditShowResponse__Output>((md, opts, cb) => api.audit.Show({ kind, id, at: o.at }, md, opts, cb));
      print(cmd, r, renderShow, r.unreadable);
    });

  audit
    .command('diff <kind> <id>')
    .description('field-level changes between two points, each with the event that made it')
    .requiredOption('--from <point>', 'the earlier point', point)
    .option('--to <point>', 'the later point (default: now)', point)
    .action(async (kind: string, id: string, o: { from: AuditPoint; to?: AuditPoint }, cmd: Command) => {
      const api = cli.connect(cmd);
      const r = await api.call<AuditDiffResponse__Output>((md, opts, cb) => api.audit.Diff({ kind, id, from: o.from, to: o.to ?? null }, md, opts, cb));
      print(cmd, r, renderDiff, r.unreadable);
    });

  audit
    .command('blame <kind> <id>')
    .description('each field with the event that last set it')
    .option('--at <point>', 'the point (default: now)', point)
    .action(async (kind: string, id: string, o: { at?: AuditPoint }, cmd: Command) => {
      const api = cli.connect(cmd);
      const r = await api.call<AuditBlameResponse__Output>((md, opts, cb) => api.audit.Blame({ kind, id, at: o.at ?? null }, md, opts, cb));
      print(cmd, r, renderBlame, r.unreadable);
    });

  audit
    .command('host <hypervisor>')
    .description("admin: a hypervisor's rules, sets, routes and neighbours at a point (--at), or what changed between two (--from [--to]) and because of which events")
    .option('--at <point>', 'the point', point)
    .option('--from <point>', 'the earlier point', point)
    .option('--to <point>', 'with --from: the later point (default: now)', point)
    .action(async (hostId: string, o: { at?: AuditPoint; from?: AuditPoint; to?: AuditPoint }, cmd: Command) => {
      if ((o.at === undefined) === (o.from === undefined)) throw new UsageError('give --at <point> (the host at a point) or --from <point> [--to <point>] (what changed)');
      if (o.at !== undefined && o.to !== undefined) throw new UsageError('--to goes with --from, not with --at');
      const api = cli.connect(cmd);
      if (o.at !== undefined) {
        const at = o.at;
        const r = await api.call<AuditHostResponse__Output>((md, opts, cb) => api.audit.Host({ hostId, at }, md, opts, cb));
        return print(cmd, r, renderHost);
      }
      const r = await api.call<AuditHostDiffResponse__Output>((md, opts, cb) => api.audit.HostDiff({ hostId, from: o.from ?? null, to: o.to ?? null }, md, opts, cb));
      print(cmd, r, renderHostDiff);
    });
}
