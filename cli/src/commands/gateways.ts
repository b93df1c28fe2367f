import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  gatewayDeviceKindFromProto,
  gatewayDeviceKindToProto,
  type DeleteGatewayBindingResponse__Output,
  type DeleteGatewayDeviceResponse__Output,
  type GatewayBinding__Output,
  type GatewayDevice__Output,
  type ListGatewayBindingsResponse__Output,
  type ListGatewayDevicesResponse__Output,
} from '@strata/proto';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';

const KINDS = ['evpn', 'ovsdb', 'host'] as const;

export const gatewayDeviceColumns: Column<GatewayDevice__Output>[] = [
  { header: 'ID', value: (d) => d.id },
  { header: 'NAME', value: (d) => d.name },
  { header: 'KIND', value: (d) => gatewayDeviceKindFromProto(d.kind) },
  { header: 'VTEP', value: (d) => d.vtepIp },
  { header: 'DRIVEN BY', value: (d) => (d.bgp ? `bgp ${d.bgp.address} AS ${d.bgp.remoteAs}` : d.ovsdb ? `ovsdb ${d.ovsdb.target}` : `host ${d.hostId ?? ''}`) },
  { header: 'PORTS', value: (d) => d.ports.map((p) => (p.tenant ? `${p.name} (${p.tenant})` : p.name)).join('\n') },
  { header: 'CREATED', value: (d) => d.createdAt },
];

export const gatewayBindingColumns: Column<GatewayBinding__Output>[] = [
  { header: 'ID', value: (b) => b.id },
  { header: 'TENANT', value: (b) => b.tenant },
  { header: 'DEVICE', value: (b) => b.deviceId },
  { header: 'PORT', value: (b) => b.port },
  { header: 'VLAN', value: (b) => b.vlan },
  { header: 'NETWORK', value: (b) => b.networkId },
  { header: 'VNI', value: (b) => b.vni },
  { header: 'REVISION', value: (b) => b.revision },
  { header: 'UPDATED', value: (b) => b.updatedAt },
];

/** `--port NAME[=TENANT]`: a physical port, optionally granted to one tenant. */
function gatewayPort(value: string, previous: Array<{ name: string; tenant?: string }> | undefined) {
  const [name, tenant, ...rest] = value.split('=');
  if (!name || rest.length > 0 || tenant === '') throw new InvalidArgumentError('must be NAME or NAME=TENANT, e.g. swp1=tenant-a');
  return [...(previous ?? []), { name, ...(tenant !== undefined ? { tenant } : {}) }];
}

/** `--vlan N`: 1-4094 is IPAM's rule; here only that it is a whole number. */
const vlanNumber = (value: string): number => positiveInt(value);

function registerDeviceCommands(program: Command, cli: CliContext): void {
  const device = program.command('gateway-device').description('gateway devices: EVPN or OVSDB switches and Strata gateway hosts (admin)');
  device
    .command('create')
    .description('create a gateway device')
    .addOption(new Option('--kind <kind>', 'how Strata drives it').choices(KINDS).makeOptionMandatory())
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'description', '')
    .option('--vtep-ip <ip>', 'evpn/ovsdb: the device VTEP')
    .option('--bgp-address <ip>', 'evpn: where the BGP gateway peers with it')
    .option('--remote-as <as>', 'evpn: its AS number', positiveInt)
    .option('--ovsdb-target <target>', 'ovsdb: e.g. tcp:198.18.0.40:6640')
    .option('--host <hostId>', 'host: the registered hypervisor acting as the gateway')
    .requiredOption('--port <name[=tenant]>', 'a physical port (a NIC of a host device), optionally granted to one tenant; repeatable', gatewayPort)
    .action(
      async (
        o: { kind: string; name: string; description: string; vtepIp?: string; bgpAddress?: string; remoteAs?: number; ovsdbTarget?: string; host?: string; port: Array<{ name: string; tenant?: string }> },
        cmd: Command,
      ) => {
        const api = cli.connect(cmd);
        const req = {
          kind: gatewayDeviceKindToProto(o.kind),
          name: o.name,
          description: o.description,
          vtepIp: o.vtepIp,
          bgp: o.bgpAddress !== undefined || o.remoteAs !== undefined ? { address: o.bgpAddress ?? '', remoteAs: o.remoteAs ?? 0 } : null,
          ovsdb: o.ovsdbTarget !== undefined ? { target: o.ovsdbTarget } : null,
          hostId: o.host,
          ports: o.port,
        };
        const res = await api.call<GatewayDevice__Output>((md, opts, cb) => api.gateways.CreateGatewayDevice(req, md, opts, cb));
        printOne(cli.io, cli.format(cmd), res, gatewayDeviceColumns);
      },
    );
  listCommand(device, cli, 'list gateway devices', gatewayDeviceColumns, (api, o) =>
    api.call<ListGatewayDevicesResponse__Output>((md, opts, cb) => api.gateways.ListGatewayDevices(o, md, opts, cb)),
  );
  showCommand(device, cli, 'gateway device', gatewayDeviceColumns, (api, id) =>
    api.call<GatewayDevice__Output>((md, opts, cb) => api.gateways.GetGatewayDevice({ id }, md, opts, cb)),
  );
  deleteCommand(device, cli, 'gateway device', (api, id) =>
    api.call<DeleteGatewayDeviceResponse__Output>((md, opts, cb) => api.gateways.DeleteGatewayDevice({ id }, md, opts, cb)),
  );
}

function registerBindingCommands(program: Command, cli: CliContext): void {
  const binding = program.command('gateway-binding').description('VLANs of gateway device ports carrying tenant networks');
  binding
    .command('create')
    .description("bind a VLAN of a device's port to a network (a tenant: its own network, on a port granted to it)")
    .requiredOption('--device <id>', 'gateway device')
    .requiredOption('--port <name>', 'the physical port')
    .requiredOption('--vlan <n>', 'VLAN id, 1-4094', vlanNumber)
    .requiredOption('--network <id>', 'network')
    .option('--description <text>', 'description', '')
    .action(async (o: { device: string; port: string; vlan: number; network: string; description: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { deviceId: o.device, port: o.port, vlan: o.vlan, networkId: o.network, description: o.description };
      const res = await api.call<GatewayBinding__Output>((md, opts, cb) => api.gateways.CreateGatewayBinding(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, gatewayBindingColumns);
    });
  binding
    .command('move')
    .description('move a binding to another device, port or VLAN (admin)')
    .argument('<id>', 'binding')
    .requiredOption('--device <id>', 'gateway device')
    .requiredOption('--port <name>', 'the physical port')
    .option('--vlan <n>', 'VLAN id (default: unchanged)', vlanNumber)
    .action(async (id: string, o: { device: string; port: string; vlan?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { id, deviceId: o.device, port: o.port, vlan: o.vlan };
      const res = await api.call<GatewayBinding__Output>((md, opts, cb) => api.gateways.MoveGatewayBinding(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, gatewayBindingColumns);
    });
  listCommand(binding, cli, 'list gateway bindings', gatewayBindingColumns, (api, o: { limit?: number; after: string; device?: string; network?: string }) =>
    api.call<ListGatewayBindingsResponse__Output>((md, opts, cb) =>
      api.gateways.ListGatewayBindings({ limit: o.limit, after: o.after, deviceId: o.device, networkId: o.network }, md, opts, cb),
    ),
  )
    .option('--device <id>', 'only this device')
    .option('--network <id>', 'only this network');
  showCommand(binding, cli, 'gateway binding', gatewayBindingColumns, (api, id) =>
    api.call<GatewayBinding__Output>((md, opts, cb) => api.gateways.GetGatewayBinding({ id }, md, opts, cb)),
  );
  deleteCommand(binding, cli, 'gateway binding', (api, id) =>
    api.call<DeleteGatewayBindingResponse__Output>((md, opts, cb) => api.gateways.DeleteGatewayBinding({ id }, md, opts, cb)),
  );
}

export function registerGatewayCommands(program: Command, cli: CliContext): void {
  registerDeviceCommands(program, cli);
  registerBindingCommands(program, cli);
}
