import type { Command } from 'commander';
import type { DeregisterHypervisorResponse__Output, Hypervisor__Output, ListHypervisorsResponse__Output } from '@strata/proto';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';

export const hypervisorColumns: Column<Hypervisor__Output>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'VTEP IP', value: (h) => h.vtepIp },
  { header: 'PUBLIC IP', value: (h) => h.publicIp },
  { header: 'HOST POOL', value: (h) => h.hostPoolId },
  { header: 'REGISTERED', value: (h) => h.registeredAt },
];

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

  listCommand(hypervisor, cli, 'list hypervisors', hypervisorColumns, (api, o) =>
    api.call<ListHypervisorsResponse__Output>((md, opts, cb) => api.hypervisors.ListHypervisors(o, md, opts, cb)),
  );
  showCommand(hypervisor, cli, 'hypervisor', hypervisorColumns, (api, id) =>
    api.call<Hypervisor__Output>((md, opts, cb) => api.hypervisors.GetHypervisor({ id }, md, opts, cb)),
  );
  deleteCommand(
    hypervisor,
    cli,
    'hypervisor',
    (api, id) =>
      api.call<DeregisterHypervisorResponse__Output>((md, opts, cb) => api.hypervisors.DeregisterHypervisor({ id }, md, opts, cb)),
    'deregister',
  );
}
