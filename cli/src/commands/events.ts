import type { Command } from 'commander';
import { status } from '@grpc/grpc-js';
import type { Event__Output, ListEventsResponse__Output, WatchResponse__Output } from '@strata/proto';
import { collect, positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { isServiceError } from '../errors.js';
import { renderJson, renderJsonLine, renderTable, type Column, type Io } from '../output.js';

export const eventColumns: Column<Event__Output>[] = [
  { header: 'SEQ', value: (e) => e.seq },
  { header: 'STORED', value: (e) => e.storedAt },
  { header: 'TYPE', value: (e) => e.type },
  { header: 'AGGREGATE', value: (e) => aggregateOf(e) },
  { header: 'TENANT', value: (e) => e.tenant },
  { header: 'ACTOR', value: (e) => e.actor },
  { header: 'REASON', value: (e) => e.reason },
];

function aggregateOf(e: Event__Output): string {
  return e.aggregate ? `${e.aggregate.context}.${e.aggregate.type}.${e.aggregate.id}` : '';
}

/** One event per line for `tail`: a table cannot grow, and people grep lines. */
export function eventLine(e: Event__Output): string {
  return [e.seq, e.storedAt, e.type, aggregateOf(e), `tenant=${e.tenant}`, `actor=${e.actor}`, ...(e.reason ? [`reason=${JSON.stringify(e.reason)}`] : []), e.dataJson].join('  ');
}

interface FilterOptions {
  type?: string[];
  tenant?: string;
  aggregate?: string;
  since?: string;
  fromSeq?: number;
}

function filters(o: FilterOptions) {
  return { types: o.type ?? [], tenant: o.tenant, aggregateId: o.aggregate, since: o.since, fromSeq: o.fromSeq };
}

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--type <type>', 'only this event type, e.g. ipam.PortCreated; repeatable', collect)
    .option('--tenant <tenant>', "admin only: this tenant's events (tenants always get only their own)")
    .option('--aggregate <id>', 'only events of this aggregate (ports are in their network’s)')
    .option('--since <time>', 'stored at or after this RFC 3339 time')
    .option('--from-seq <seq>', 'start at this log sequence', positiveInt);
}

export function registerEventCommands(program: Command, cli: CliContext): void {
  const events = program.command('events').description('the event log: who changed what, when');

  addFilterOptions(events.command('list').description('list events from the log'))
    .option('--until <time>', 'stored at or before this RFC 3339 time')
    .option('--limit <n>', 'at most this many events (default 100)', positiveInt)
    .action(async (o: FilterOptions & { until?: string; limit?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { ...filters(o), until: o.until, limit: o.limit };
      const res = await api.call<ListEventsResponse__Output>((md, opts, cb) => api.events.ListEvents(req, md, opts, cb));
      if (cli.format(cmd) === 'json') {
        cli.io.out(renderJson(res));
        return;
      }
      cli.io.out(renderTable(res.events, eventColumns));
      if (res.nextFromSeq !== '0') cli.io.err(`more events: repeat with --from-seq ${res.nextFromSeq}`);
    });

  addFilterOptions(events.command('tail').description('print events as they are stored (history first, then live)'))
    .option('--new', 'skip the history: only events stored from now on')
    .action(async (o: FilterOptions & { new?: boolean }, cmd: Command) => {
      const api = cli.connect(cmd);
      const call = api.events.Watch(filters(o), api.metadata());
      const stop = (): void => call.cancel();
      cli.interrupt?.addEventListener('abort', stop, { once: true });
      try {
        await follow(call, cli.io, cli.format(cmd) === 'json', o.new === true);
      } finally {
        cli.interrupt?.removeEventListener('abort', stop);
      }
    });
}

/** Resolves when the stream ends or is cancelled (Ctrl-C), rejects on any other error. */
function follow(
  call: NodeJS.EventEmitter,
  io: Io,
  json: boolean,
  skipHistory: boolean,
): Promise<void> {
  let live = !skipHistory;
  return new Promise((resolve, reject) => {
    call.on('data', (msg: WatchResponse__Output) => {
      if (msg.event && live) io.out(json ? renderJsonLine(msg.event) : eventLine(msg.event));
      if (msg.caughtUp) {
        live = true;
        // stderr: stdout stays pure event lines (or JSON Lines) for pipes.
        io.err(`-- caught up at seq ${msg.caughtUp.seq}; waiting for new events (Ctrl-C to stop)`);
      }
    });
    call.on('end', () => resolve());
    call.on('error', (err: unknown) => (isServiceError(err) && err.code === status.CANCELLED ? resolve() : reject(err)));
  });
}
