import type { Command } from 'commander';
import type { DeletePortResponse__Output, ListPortsResponse__Output, Port__Output } from '@strata/proto';
import { addressPair, fixedIp } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, replacedList, showCommand, namedUpdateCommand, type Paging } from './common.js';

export const portColumns: Column<Port__Output>[] = [
  { header: 'ID', value: (p) => p.id },
  { header: 'NAME', value: (p) => p.name },
  { header: 'NETWORK', value: (p) => p.networkId },
  { header: 'MAC', value: (p) => p.mac },
  { header: 'FIXED IPS', value: (p) => p.fixedIps.map((f) => f.ip).join('\n') },
  { header: 'HOST', value: (p) => p.hostId ?? 'unbound' },
  { header: 'DEVICE', value: (p) => p.deviceId },
  { header: 'ALLOWED ADDRESS PAIRS', value: (p) => p.allowedAddressPairs.map((a) => `${a.ipAddress} ${a.macAddress ?? ''}`.trim()).join('\n') },
  { header: 'OWNS', value: (p) => p.ownedAddresses.join('\n') },
  { header: 'ADMIN STATE', value: (p) => (p.adminStateUp ? 'up' : 'down') },
  { header: 'DESCRIPTION', value: (p) => p.description },
  { header: 'REVISION', value: (p) => p.revision },
  { header: 'STATUS', value: (p) => portStatusText(p) },
];

/** ACTIVE, or the status with why it is not ACTIVE ("DOWN: not bound to a hypervisor"). */
export function portStatusText(p: Pick<Port__Output, 'status' | 'statusReason'>): string {
  return p.status === 'ACTIVE' || p.statusReason === '' ? p.status : `${p.status}: ${p.statusReason}`;
}

type PairSpec = Array<{ ipAddress: string; macAddress?: string }>;
const PAIR_HELP = 'ip=ADDR[/LEN][,mac=MAC]: an address the port may also use (default MAC: the port\'s); repeatable';

interface CreateOptions {
  network: string;
  name: string;
  mac?: string;
  fixedIp?: Array<{ subnetId?: string; ip?: string }>;
  /** false: --no-fixed-ips. */
  fixedIps: boolean;
  host?: string;
  device: string;
  deviceOwner: string;
  allowedAddressPair?: PairSpec;
  description: string;
  disable?: boolean;
}

interface UpdateOptions {
  name?: string;
  description?: string;
  expectedRevision?: number;
  enable?: boolean;
  disable?: boolean;
  fixedIp?: Array<{ subnetId?: string; ip?: string }>;
  /** false: --no-fixed-ips. */
  fixedIps: boolean;
  allowedAddressPair?: PairSpec;
  /** false: --no-allowed-address-pairs. */
  allowedAddressPairs: boolean;
  device?: string;
  deviceOwner?: string;
}

/** Returns the `port` group, so other files can add the port operations of other services (security groups). */
export function registerPortCommands(program: Command, cli: CliContext): Command {
  const port = program.command('port').description('VM attachments to a network');

  port
    .command('create')
    .description('create a port')
    .requiredOption('--network <id>', 'network to attach to')
    .option('--name <name>', 'display name', '')
    .option('--mac <mac>', 'MAC address (default: generated)')
    .option('--fixed-ip <spec>', 'subnet=ID, ip=ADDR or subnet=ID,ip=ADDR; repeatable (default: one per subnet)', fixedIp)
    .option('--no-fixed-ips', 'no address at all')
    .option('--host <host>', 'bind it to this hypervisor')
    .option('--device <id>', 'owning device (e.g. the VM id)', '')
    .option('--device-owner <owner>', "what uses the port (Neutron's device_owner, e.g. compute:nova)", '')
    .option('--allowed-address-pair <spec>', PAIR_HELP, addressPair)
    .option('--description <text>', 'description', '')
    .option('--disable', 'create it administratively down (no traffic)')
    .action(async (o: CreateOptions, cmd: Command) => {
      if (!o.fixedIps && o.fixedIp) throw new UsageError('--fixed-ip cannot be combined with --no-fixed-ips');
      const api = cli.connect(cmd);
      const req = {
        networkId: o.network,
        name: o.name,
        mac: o.mac,
        fixedIps: o.fixedIp ?? [],
        noFixedIps: !o.fixedIps,
        hostId: o.host,
        deviceId: o.device,
        deviceOwner: o.deviceOwner,
        allowedAddressPairs: o.allowedAddressPair ?? [],
        description: o.description,
        adminStateUp: o.disable !== true,
      };
      const res = await api.call<Port__Output>((md, opts, cb) => api.ports.CreatePort(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, portColumns);
    });

  port
    .command('bind')
    .description('bind a port to a hypervisor, move it (migration) or unbind it')
    .argument('<id>')
    .option('--host <host>', 'hypervisor to bind to')
    .option('--unbind', 'unbind it from its hypervisor')
    .action(async (id: string, o: { host?: string; unbind?: boolean }, cmd: Command) => {
      if ((o.host === undefined) === (o.unbind === undefined)) throw new UsageError('give exactly one of --host <host> or --unbind');
      const api = cli.connect(cmd);
      const res = await api.call<Port__Output>((md, opts, cb) => api.ports.BindPort({ id, hostId: o.host }, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, portColumns);
    });

  namedUpdateCommand(port, 'port')
    .option('--enable', 'administratively up')
    .option('--disable', 'administratively down (no traffic)')
    .option('--fixed-ip <spec>', 'the new fixed IPs: subnet=ID (keeps its address there or takes one), ip=ADDR or both; repeatable', fixedIp)
    .option('--no-fixed-ips', 'no address at all')
    .option('--allowed-address-pair <spec>', `the new pairs: ${PAIR_HELP}`, addressPair)
    .option('--no-allowed-address-pairs', 'no allowed address pairs')
    .option('--device <id>', 'owning device (e.g. the VM id)')
    .option('--device-owner <owner>', "what uses the port (Neutron's device_owner)")
    .action(async (id: string, o: UpdateOptions, cmd: Command) => {
      if (o.enable && o.disable) throw new UsageError('give --enable or --disable, not both');
      const fixedIps = replacedList(o.fixedIp, o.fixedIps, 'fixed-ip');
      const pairs = replacedList(o.allowedAddressPair, o.allowedAddressPairs, 'allowed-address-pair');
      const api = cli.connect(cmd);
      const req = {
        id,
        name: o.name,
        description: o.description,
        expectedRevision: o.expectedRevision,
        adminStateUp: o.enable ? true : o.disable ? false : undefined,
        fixedIps: fixedIps && { fixedIps },
        allowedAddressPairs: pairs && { allowedAddressPairs: pairs },
        deviceId: o.device,
        deviceOwner: o.deviceOwner,
      };
      const res = await api.call<Port__Output>((md, opts, cb) => api.ports.UpdatePort(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, portColumns);
    });

  port
    .command('set')
    .description("replace a port's allowed address pairs (the same as update with only those)")
    .argument('<id>')
    .option('--allowed-address-pair <spec>', PAIR_HELP, addressPair)
    .option('--no-allowed-address-pairs', 'remove them all')
    .action(async (id: string, o: { allowedAddressPair?: PairSpec; allowedAddressPairs: boolean }, cmd: Command) => {
      if ((o.allowedAddressPair === undefined) === o.allowedAddressPairs) {
        throw new UsageError('give --allowed-address-pair (repeatable) or --no-allowed-address-pairs');
      }
      const api = cli.connect(cmd);
      const req = { id, allowedAddressPairs: o.allowedAddressPair ?? [] };
      const res = await api.call<Port__Output>((md, opts, cb) => api.ports.SetAllowedAddressPairs(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, portColumns);
    });

  listCommand(port, cli, 'list ports', portColumns, (api, o: Paging & { network?: string; host?: string }) =>
    api.call<ListPortsResponse__Output>((md, opts, cb) =>
      api.ports.ListPorts({ limit: o.limit, after: o.after, networkId: o.network, hostId: o.host }, md, opts, cb),
    ),
  )
    .option('--network <id>', 'only the ports of this network')
    .option('--host <host>', 'only the ports bound to this hypervisor');
  showCommand(port, cli, 'port', portColumns, (api, id) =>
    api.call<Port__Output>((md, opts, cb) => api.ports.GetPort({ id }, md, opts, cb)),
  );
  deleteCommand(port, cli, 'port', (api, id) =>
    api.call<DeletePortResponse__Output>((md, opts, cb) => api.ports.DeletePort({ id }, md, opts, cb)),
  );
  return port;
}
