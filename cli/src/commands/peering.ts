import type { Command } from 'commander';
import type {
  DeletePeeringSegmentResponse__Output,
  DetachPeeringResponse__Output,
  ListPeeringSegmentsResponse__Output,
  PeeringAttachment__Output,
  PeeringRoute__Output,
  PeeringRoutesResponse__Output,
  PeeringSegment__Output,
} from '@strata/proto';
import type { CliContext } from '../context.js';
import { printOne, printPage, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand } from './common.js';

export const peeringSegmentColumns: Column<PeeringSegment__Output>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'OWNER', value: (s) => s.tenant },
  { header: 'NAME', value: (s) => s.name },
  { header: 'CIDR', value: (s) => s.cidr },
  { header: 'VNI', value: (s) => s.vni },
  { header: 'GRANTS', value: (s) => s.grants.join('\n') },
  { header: 'ATTACHMENTS', value: (s) => s.attachments.map((a) => `${a.id} router ${a.routerId} ${a.ip}`).join('\n') },
  { header: 'PEERS', value: (s) => s.peers.map((p) => `${p.ip} ${p.prefixes.join(' ')}`).join('\n') },
  { header: 'REVISION', value: (s) => s.revision },
];

export const peeringAttachmentColumns: Column<PeeringAttachment__Output>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'SEGMENT', value: (a) => a.segmentId },
  { header: 'ROUTER', value: (a) => a.routerId },
  { header: 'IP', value: (a) => a.ip },
  { header: 'MAC', value: (a) => a.mac },
];

const routeColumns: Column<PeeringRoute__Output & { id: string }>[] = [
  { header: 'DESTINATION', value: (r) => r.destination },
  { header: 'NEXTHOP', value: (r) => r.nexthop },
  { header: 'SEGMENT', value: (r) => r.segmentId },
];

/** `strata peering-segment …`: the owner creates, grants, revokes and deletes; a router's tenant attaches and detaches its router. */
export function registerPeeringCommands(program: Command, cli: CliContext): void {
  const seg = program.command('peering-segment').description('VPC peering: tenant routers on one segment reach each other’s prefixes');
  seg
    .command('create')
    .description('create a peering segment (you own it; IPAM gives it a VNI)')
    .requiredOption('--cidr <cidr>', 'transit subnet, IPv4 /16 to /29')
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'description', '')
    .option('--tenant <tenant>', 'owner (admin only)')
    .action(async (o: { cidr: string; name: string; description: string; tenant?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<PeeringSegment__Output>((md, opts, cb) => api.peering.CreatePeeringSegment(o, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, peeringSegmentColumns);
    });
  for (const verb of ['grant', 'revoke'] as const) {
    seg
      .command(verb)
      .description(verb === 'grant' ? 'invite a tenant to attach its routers (owner)' : 'stop inviting a tenant (owner; its routers are detached first)')
      .argument('<id>', 'peering segment')
      .requiredOption('--tenant <tenant>', 'the tenant')
      .action(async (id: string, o: { tenant: string }, cmd: Command) => {
        const api = cli.connect(cmd);
        const req = { id, tenant: o.tenant };
        const res = await api.call<PeeringSegment__Output>((md, opts, cb) =>
          verb === 'grant' ? api.peering.GrantPeeringSegment(req, md, opts, cb) : api.peering.RevokePeeringSegment(req, md, opts, cb),
        );
        printOne(cli.io, cli.format(cmd), res, peeringSegmentColumns);
      });
  }
  seg
    .command('attach')
    .description('attach your router to a segment you own or were granted')
    .argument('<id>', 'peering segment')
    .requiredOption('--router <id>', 'your router')
    .option('--ip <ip>', 'its transit address (default: the lowest free one)')
    .action(async (segmentId: string, o: { router: string; ip?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { segmentId, routerId: o.router, ip: o.ip };
      const res = await api.call<PeeringAttachment__Output>((md, opts, cb) => api.peering.AttachPeering(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, peeringAttachmentColumns);
    });
  deleteCommand(seg, cli, 'peering attachment', (api, id) => api.call<DetachPeeringResponse__Output>((md, opts, cb) => api.peering.DetachPeering({ id }, md, opts, cb)), 'detach');
  seg
    .command('routes')
    .description("a router's routes across its peering segments")
    .requiredOption('--router <id>', 'router')
    .action(async (o: { router: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<PeeringRoutesResponse__Output>((md, opts, cb) => api.peering.ListPeeringRoutes({ routerId: o.router }, md, opts, cb));
      printPage(cli.io, cli.format(cmd), { items: res.routes.map((r) => ({ ...r, id: r.destination })), next: '' }, routeColumns);
    });
  listCommand(seg, cli, 'list peering segments', peeringSegmentColumns, (api, o) =>
    api.call<ListPeeringSegmentsResponse__Output>((md, opts, cb) => api.peering.ListPeeringSegments(o, md, opts, cb)),
  );
  showCommand(seg, cli, 'peering segment', peeringSegmentColumns, (api, id) =>
    api.call<PeeringSegment__Output>((md, opts, cb) => api.peering.GetPeeringSegment({ id }, md, opts, cb)),
  );
  deleteCommand(seg, cli, 'peering segment', (api, id) =>
    api.call<DeletePeeringSegmentResponse__Output>((md, opts, cb) => api.peering.DeletePeeringSegment({ id }, md, opts, cb)),
  );
}
