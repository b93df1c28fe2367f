import type { Command } from 'commander';
import { status } from '@grpc/grpc-js';
import type {
  DeregisterHypervisorResponse__Output,
  Hypervisor__Output,
  HypervisorStatus__Output,
  ListHypervisorStatusResponse__Output,
  ListHypervisorsResponse__Output,
} from '@strata/proto';
import { positiveInt } from '../args.js';
import type { Api } from '../client.js';
import type { CliContext } from '../context.js';
import { isServiceError, statusName } from '../errors.js';
import { printOne, printPage, type Column } from '../output.js';
import { deleteCommand } from './common.js';

/** A registered hypervisor (IPAM's) with its agent as the status service last heard it (absent: not known to it, or unavailable). */
export interface HypervisorWithStatus extends Hypervisor__Output {
  agent?: HypervisorStatus__Output;
}

export const hypervisorColumns: Column<HypervisorWithStatus>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'VTEP IP', value: (h) => h.vtepIp },
  { header: 'PUBLIC IP', value: (h) => h.publicIp },
  { header: 'HOST POOL', value: (h) => h.hostPoolId },
  { header: 'REGISTERED', value: (h) => h.registeredAt },
  { header: 'AGENT', value: (h) => (h.agent === undefined ? 'unknown' : h.agent.alive ? 'alive' : 'down') },
  { header: 'LAST SEEN', value: (h) => h.agent?.lastSeenAt ?? 'never' },
  { header: 'APPLIED', value: (h) => h.agent?.appliedPosition },
  { header: 'VERSION', value: (h) => h.agent?.version },
];

/** Status pages read to join a hypervisor list (hypervisors are few; the bound keeps a broken paging finite). */
const MAX_STATUS_PAGES = 100;

/** Every hypervisor's agent status by host, or undefined (and a note on stderr) when the status service cannot say. */
async function agentStatuses(api: Api, cli: CliContext): Promise<Map<string, HypervisorStatus__Output> | undefined> {
  const out = new Map<string, HypervisorStatus__Output>();
  try {
    let after = '';
    for (let i = 0; i < MAX_STATUS_PAGES; i++) {
      const page = await api.call<ListHypervisorStatusResponse__Output>((md, opts, cb) => api.status.ListHypervisorStatus({ after }, md, opts, cb));
      for (const h of page.items) out.set(h.hostId, h);
      if (page.next === '') break;
      after = page.next;
    }
    return out;
  } catch (err) {
    if (!isServiceError(err)) throw err;
    cli.io.err(`agent status unavailable: ${statusName(err.code)}: ${err.details}`);
    return undefined;
  }
}

function withAgent(h: Hypervisor__Output, agent: HypervisorStatus__Output | undefined): HypervisorWithStatus {
  return agent === undefined ? h : { ...h, agent };
}

export function registerHypervisorCommands(program: Command, cli: CliContext): void {
  const hypervisor = program.command('hypervisor').description('hosts running the Strata agent (admin)');

  hypervisor
    .command('register')
    .description('register a hypervisor')
    .argument('<id>', 'host name')
    .requiredOption('--vtep-ip <ip>', 'underlay address: VTEP and BGP next hop')
    .requiredOption('--host-pool <id>', 'pool (purpose host-ip) its public H-IP comes from')
    .option('--public-ip <ip>', 'H-IP (default: the next free address of the pool)')
    .action(async (id: string, o: { vtepIp: string; hostPool: string; publicIp?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { id, vtepIp: o.vtepIp, hostPoolId: o.hostPool, publicIp: o.publicIp };
      const res = await api.call<Hypervisor__Output>((md, opts, cb) => api.hypervisors.RegisterHypervisor(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, hypervisorColumns);
    });

  hypervisor
    .command('list')
    .description('list hypervisors with their agents: alive, last seen, applied position, version')
    .option('--limit <n>', 'page size', positiveInt)
    .option('--after <token>', 'continue after this page token', '')
    .action(async (o: { limit?: number; after: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const page = await api.call<ListHypervisorsResponse__Output>((md, opts, cb) => api.hypervisors.ListHypervisors(o, md, opts, cb));
      const agents = await agentStatuses(api, cli);
      const items = page.items.map((h) => withAgent(h, agents?.get(h.id)));
      printPage(cli.io, cli.format(cmd), { items, next: page.next }, hypervisorColumns);
    });

  hypervisor
    .command('show')
    .description('show one hypervisor and its agent')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      const h = await api.call<Hypervisor__Output>((md, opts, cb) => api.hypervisors.GetHypervisor({ id }, md, opts, cb));
      let agent: HypervisorStatus__Output | undefined;
      try {
        agent = await api.call<HypervisorStatus__Output>((md, opts, cb) => api.status.GetHypervisorStatus({ id }, md, opts, cb));
      } catch (err) {
        if (!isServiceError(err)) throw err;
        // NOT_FOUND: its agent never reported; anything else: the status service cannot say now.
        if (err.code !== status.NOT_FOUND) cli.io.err(`agent status unavailable: ${statusName(err.code)}: ${err.details}`);
      }
      printOne(cli.io, cli.format(cmd), withAgent(h, agent), hypervisorColumns);
    });

  deleteCommand(
    hypervisor,
    cli,
    'hypervisor',
    (api, id) =>
      api.call<DeregisterHypervisorResponse__Output>((md, opts, cb) => api.hypervisors.DeregisterHypervisor({ id }, md, opts, cb)),
    'deregister',
  );
}
