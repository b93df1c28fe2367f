import type { Command } from 'commander';
import type { DeleteNetworkResponse__Output, ListNetworksResponse__Output, Network__Output } from '@strata/proto';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand, namedUpdateCommand } from './common.js';

export const networkColumns: Column<Network__Output>[] = [
  { header: 'ID', value: (n) => n.id },
  { header: 'NAME', value: (n) => n.name },
  { header: 'TENANT', value: (n) => n.tenant },
  { header: 'VNI', value: (n) => n.vni },
  { header: 'MTU', value: (n) => n.mtu },
  { header: 'ROUTED', value: (n) => (n.routed ? 'yes' : 'no') },
  { header: 'CREATED', value: (n) => n.createdAt },
  { header: 'DESCRIPTION', value: (n) => n.description },
  { header: 'REVISION', value: (n) => n.revision },
  { header: 'FEDERATED', value: (n) => (n.federated ? 'yes' : 'no') },
];

export function registerNetworkCommands(program: Command, cli: CliContext): void {
  const network = program.command('network').description('tenant L2 segments (one VXLAN VNI each)');

  network
    .command('create')
    .description('create a network')
    .option('--name <name>', 'display name', '')
    .option('--mtu <bytes>', 'MTU (default: underlay MTU minus VXLAN overhead)', positiveInt)
    .option('--routed', 'advertise its subnets to the fabric instead of NAT', false)
    .option('--no-port-security', 'its new ports start without port security (the Neutron API applies it at port creation)')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .option('--description <text>', 'description', '')
    .option('--federated', "stretch it across the zones of this zone's federation", false)
    .option('--vni <vni>', "admin only: this VNI instead of an allocated one (join another zone's segment)", positiveInt)
    .action(async (o: { name: string; mtu?: number; routed: boolean; portSecurity: boolean; tenant?: string; description: string; federated: boolean; vni?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { name: o.name, mtu: o.mtu, routed: o.routed, portSecurityEnabled: o.portSecurity, tenant: o.tenant, description: o.description, federated: o.federated, vni: o.vni };
      const res = await api.call<Network__Output>((md, opts, cb) => api.networks.CreateNetwork(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, networkColumns);
    });

  namedUpdateCommand(network, 'network')
    .option('--mtu <bytes>', 'MTU (a VM takes it at its next DHCP renewal)', positiveInt)
    .option('--federated', "stretch it across the zones of this zone's federation")
    .option('--no-federated', 'stop stretching it (its routes are withdrawn from the other zones)')
    .action(async (id: string, o: { name?: string; description?: string; expectedRevision?: number; mtu?: number; federated?: boolean }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { id, name: o.name, description: o.description, expectedRevision: o.expectedRevision, mtu: o.mtu, federated: o.federated };
      const res = await api.call<Network__Output>((md, opts, cb) => api.networks.UpdateNetwork(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, networkColumns);
    });

  listCommand(network, cli, 'list networks', networkColumns, (api, o) =>
    api.call<ListNetworksResponse__Output>((md, opts, cb) => api.networks.ListNetworks(o, md, opts, cb)),
  );
  showCommand(network, cli, 'network', networkColumns, (api, id) =>
    api.call<Network__Output>((md, opts, cb) => api.networks.GetNetwork({ id }, md, opts, cb)),
  );
  deleteCommand(network, cli, 'network', (api, id) =>
    api.call<DeleteNetworkResponse__Output>((md, opts, cb) => api.networks.DeleteNetwork({ id }, md, opts, cb)),
  );
}
