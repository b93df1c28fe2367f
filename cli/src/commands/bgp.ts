/**
 * `strata bgp …`: the BGP gateway's configuration (settings, fabric peers,
 * appliance peer groups, which appliance may announce which application
 * prefix) and what it learned and advertises. Admin token needed.
 */
import { Option, type Command } from 'commander';
import type {
  ApplianceAssignment__Output,
  BgpAdvertisement__Output,
  BgpPeer__Output,
  BgpPeerGroup__Output,
  BgpRoute__Output,
  BgpSettings__Output,
  DeleteBgpPeerGroupResponse__Output,
  DeleteBgpPeerResponse__Output,
  ListApplianceAssignmentsResponse__Output,
  ListBgpAdvertisementsResponse__Output,
  ListBgpPeerGroupsResponse__Output,
  ListBgpPeersResponse__Output,
  ListBgpRoutesResponse__Output,
  UnassignAppliancePrefixResponse__Output,
} from '@strata/proto';
import { positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { printDeleted, printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand, updateCommand } from './common.js';

const settingsColumns: Column<BgpSettings__Output>[] = [
  { header: 'LOCAL AS', value: (s) => (s.localAs === undefined ? '-' : String(s.localAs)) },
  { header: 'ROUTER ID', value: (s) => s.routerId ?? '-' },
  { header: 'LISTEN PORT', value: (s) => String(s.listenPort) },
];
const peerColumns: Column<BgpPeer__Output>[] = [
  { header: 'ID', value: (p) => p.id },
  { header: 'NAME', value: (p) => p.name },
  { header: 'ADDRESS', value: (p) => p.address },
  { header: 'REMOTE AS', value: (p) => String(p.remoteAs) },
  { header: 'MD5 SECRET', value: (p) => p.passwordRef ?? '-' },
  { header: 'REVISION', value: (p) => String(p.revision) },
];
const groupColumns: Column<BgpPeerGroup__Output>[] = [
  { header: 'ID', value: (g) => g.id },
  { header: 'NAME', value: (g) => g.name },
  { header: 'LISTEN RANGE', value: (g) => g.listenRange },
  { header: 'REMOTE AS', value: (g) => String(g.remoteAs) },
  { header: 'MD5 SECRET', value: (g) => g.passwordRef ?? '-' },
  { header: 'MAX PREFIXES', value: (g) => String(g.maxPrefixes) },
  { header: 'DEFAULT ROUTE', value: (g) => (g.sendDefault ? 'yes' : 'no') },
  { header: 'REVISION', value: (g) => String(g.revision) },
];

/** What `peer update` and `peergroup update` share: absent = unchanged. */
interface PeerUpdateOptions {
  name?: string;
  remoteAs?: number;
  passwordRef?: string;
  removePasswordRef?: boolean;
  expectedRevision?: number;
}

/** The options both updates have; each adds its own. */
function peerUpdateCommand(group: Command, kind: string, fixed: string): Command {
  return updateCommand(group, kind, `change the ${kind}'s settings (options not given stay as they are; ${fixed} is fixed). A new AS, secret or limit resets its sessions`)
    .option('--name <name>', 'new name')
    .option('--remote-as <asn>', 'new AS number', asNumber)
    .option('--password-ref <name>', 'name of the new TCP-MD5 secret in the gateway configuration; never the password')
    .option('--remove-password-ref', 'no TCP-MD5 any more');
}
const assignmentColumns: Column<ApplianceAssignment__Output>[] = [
  { header: 'PREFIX ID', value: (a) => a.prefixId },
  { header: 'PREFIX', value: (a) => a.prefix },
  { header: 'APPLIANCE', value: (a) => a.deviceId },
  { header: 'TENANT', value: (a) => a.tenant },
];
const routeColumns: Column<BgpRoute__Output>[] = [
  { header: 'PREFIX', value: (r) => r.prefix },
  { header: 'PEER', value: (r) => r.peer },
  { header: 'NEXT HOP', value: (r) => r.nextHop },
  { header: 'AS PATH', value: (r) => r.asPath.join(' ') },
  { header: 'STATUS', value: (r) => (r.reason ? `${r.status} (${r.reason})` : r.status) },
  { header: 'APPLIANCE', value: (r) => r.deviceId ?? '-' },
  { header: 'SINCE', value: (r) => r.since },
];
const advertisementColumns: Column<BgpAdvertisement__Output>[] = [
  { header: 'PREFIX', value: (a) => a.prefix },
  { header: 'NEXT HOP', value: (a) => a.nextHop },
  { header: 'KIND', value: (a) => a.kind },
  { header: 'FOR', value: (a) => a.sourceId },
];

const asNumber = (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 4294967295) throw new Error(`"${v}" is not an AS number (1-4294967295)`);
  return n;
};

export function registerBgpCommands(program: Command, cli: CliContext): void {
  const bgp = program.command('bgp').description('BGP gateway: settings, fabric peers, appliance peer groups, routes');

  const settings = bgp.command('settings').description("the gateway's local AS and router id");
  settings
    .command('show')
    .description('show the settings')
    .action(async (_o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      printOne(cli.io, cli.format(cmd), await api.call<BgpSettings__Output>((md, opts, cb) => api.bgp.GetBgpSettings({}, md, opts, cb)), settingsColumns);
    });
  settings
    .command('set')
    .description('set local AS and router id')
    .requiredOption('--local-as <asn>', 'local AS number', asNumber)
    .requiredOption('--router-id <ipv4>', 'BGP identifier')
    .option('--listen-port <port>', 'TCP port for appliance sessions (default 179)', positiveInt)
    .action(async (o: { localAs: number; routerId: string; listenPort?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { localAs: o.localAs, routerId: o.routerId, listenPort: o.listenPort };
      printOne(cli.io, cli.format(cmd), await api.call<BgpSettings__Output>((md, opts, cb) => api.bgp.SetBgpSettings(req, md, opts, cb)), settingsColumns);
    });

  const peer = bgp.command('peer').description('fabric peers (ToR, border routers)');
  peer
    .command('create')
    .description('add a fabric peer')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--address <ip>', 'peer address')
    .requiredOption('--remote-as <asn>', 'peer AS number', asNumber)
    .option('--password-ref <name>', 'name of the TCP-MD5 secret in the gateway configuration (BGP_PASSWORD_<NAME>); never the password')
    .action(async (o: { name: string; address: string; remoteAs: number; passwordRef?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      printOne(cli.io, cli.format(cmd), await api.call<BgpPeer__Output>((md, opts, cb) => api.bgp.CreateBgpPeer(o, md, opts, cb)), peerColumns);
    });
  listCommand(peer, cli, 'list fabric peers', peerColumns, (api, o) => api.call<ListBgpPeersResponse__Output>((md, opts, cb) => api.bgp.ListBgpPeers(o, md, opts, cb)));
  showCommand(peer, cli, 'fabric peer', peerColumns, (api, id) => api.call<BgpPeer__Output>((md, opts, cb) => api.bgp.GetBgpPeer({ id }, md, opts, cb)));
  peerUpdateCommand(peer, 'fabric peer', 'its address').action(async (id: string, o: PeerUpdateOptions, cmd: Command) => {
    const api = cli.connect(cmd);
    printOne(cli.io, cli.format(cmd), await api.call<BgpPeer__Output>((md, opts, cb) => api.bgp.UpdateBgpPeer({ id, ...o }, md, opts, cb)), peerColumns);
  });
  deleteCommand(peer, cli, 'fabric peer', (api, id) => api.call<DeleteBgpPeerResponse__Output>((md, opts, cb) => api.bgp.DeleteBgpPeer({ id }, md, opts, cb)));

  const group = bgp.command('peergroup').description('appliance peer groups (route server)');
  group
    .command('create')
    .description('add an appliance peer group')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--listen-range <cidr>', 'appliance addresses (ports of routed networks inside it are neighbours)')
    .requiredOption('--remote-as <asn>', 'appliances AS number', asNumber)
    .option('--password-ref <name>', 'name of the TCP-MD5 secret in the gateway configuration')
    .option('--max-prefixes <n>', 'most prefixes accepted per appliance (default 16)', positiveInt)
    .option('--send-default', 'send the border default route to the appliances', false)
    .action(async (o: { name: string; listenRange: string; remoteAs: number; passwordRef?: string; maxPrefixes?: number; sendDefault: boolean }, cmd: Command) => {
      const api = cli.connect(cmd);
      printOne(cli.io, cli.format(cmd), await api.call<BgpPeerGroup__Output>((md, opts, cb) => api.bgp.CreateBgpPeerGroup(o, md, opts, cb)), groupColumns);
    });
  listCommand(group, cli, 'list appliance peer groups', groupColumns, (api, o) =>
    api.call<ListBgpPeerGroupsResponse__Output>((md, opts, cb) => api.bgp.ListBgpPeerGroups(o, md, opts, cb)),
  );
  showCommand(group, cli, 'appliance peer group', groupColumns, (api, id) => api.call<BgpPeerGroup__Output>((md, opts, cb) => api.bgp.GetBgpPeerGroup({ id }, md, opts, cb)));
  peerUpdateCommand(group, 'appliance peer group', 'its listen range')
    .option('--max-prefixes <n>', 'most prefixes accepted per appliance', positiveInt)
    .addOption(new Option('--send-default <on|off>', 'send the border default route to the appliances').choices(['on', 'off']))
    .action(async (id: string, o: PeerUpdateOptions & { maxPrefixes?: number; sendDefault?: 'on' | 'off' }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { id, ...o, sendDefault: o.sendDefault === undefined ? undefined : o.sendDefault === 'on' };
      printOne(cli.io, cli.format(cmd), await api.call<BgpPeerGroup__Output>((md, opts, cb) => api.bgp.UpdateBgpPeerGroup(req, md, opts, cb)), groupColumns);
    });
  deleteCommand(group, cli, 'appliance peer group', (api, id) =>
    api.call<DeleteBgpPeerGroupResponse__Output>((md, opts, cb) => api.bgp.DeleteBgpPeerGroup({ id }, md, opts, cb)),
  );

  const appliance = bgp.command('appliance').description('which appliance may announce which application prefix');
  appliance
    .command('assign')
    .description('let an appliance (the device id of its ports) announce an application prefix')
    .requiredOption('--prefix <id>', 'application prefix id')
    .requiredOption('--device <id>', 'appliance device id')
    .action(async (o: { prefix: string; device: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<ApplianceAssignment__Output>((md, opts, cb) => api.bgp.AssignAppliancePrefix({ prefixId: o.prefix, deviceId: o.device }, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, assignmentColumns);
    });
  appliance
    .command('unassign')
    .description('withdraw an appliance assignment')
    .argument('<prefix-id>')
    .action(async (prefixId: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      printDeleted(cli.io, cli.format(cmd), 'appliance assignment', await api.call<UnassignAppliancePrefixResponse__Output>((md, opts, cb) => api.bgp.UnassignAppliancePrefix({ prefixId }, md, opts, cb)));
    });
  listCommand(appliance, cli, 'list appliance assignments', assignmentColumns, (api, o) =>
    api.call<ListApplianceAssignmentsResponse__Output>((md, opts, cb) => api.bgp.ListApplianceAssignments(o, md, opts, cb)),
  );

  listCommand(bgp.command('route').description('routes peers announce (learned or rejected)'), cli, 'list announced routes', routeColumns, (api, o) =>
    api.call<ListBgpRoutesResponse__Output>((md, opts, cb) => api.bgp.ListBgpRoutes(o, md, opts, cb)),
  );
  listCommand(bgp.command('advertisement').description('routes the gateway advertises to the fabric'), cli, 'list advertisements', advertisementColumns, (api, o) =>
    api.call<ListBgpAdvertisementsResponse__Output>((md, opts, cb) => api.bgp.ListBgpAdvertisements(o, md, opts, cb)),
  );
}
