/**
 * NAT commands, added to the `floatingip` and `router` groups (the floating
 * IP itself is IPAM's: create/list/show/delete; its association is the NAT
 * service's): `floatingip associate|disassociate`, `router set-gateway`, and
 * the association / gateway state shown beside IPAM's fields.
 */
import { Option, type Command } from 'commander';
import type {
  FloatingIp__Output,
  FloatingIpAssociation__Output,
  ListFloatingIpAssociationsResponse__Output,
  Router__Output,
  RouterGateway__Output,
} from '@strata/proto';
import type { Api } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printOne, type Column } from '../output.js';
import type { Paging } from './common.js';

/** IPAM's floating IP with its association (absent when the nat service did not answer). */
export type FloatingIpWithAssociation = FloatingIp__Output & { association?: FloatingIpAssociation__Output };
export type RouterWithGateway = Router__Output & { externalGateway?: boolean };

export const associationColumns: Column<FloatingIpAssociation__Output>[] = [
  { header: 'FLOATING IP', value: (a) => a.floatingIpId },
  { header: 'ADDRESS', value: (a) => a.address },
  { header: 'PORT', value: (a) => a.portId ?? 'not associated' },
  { header: 'FIXED IP', value: (a) => a.fixedIp },
  { header: 'NETWORK', value: (a) => a.networkId },
  { header: 'HOST', value: (a) => a.hostId },
];

/** The association columns that add to IPAM's floating IP columns. */
export const associatedColumns: Column<FloatingIpWithAssociation>[] = [
  { header: 'PORT', value: (f) => (f.association ? (f.association.portId ?? 'not associated') : 'unknown') },
  { header: 'FIXED IP', value: (f) => f.association?.fixedIp },
  { header: 'HOST', value: (f) => f.association?.hostId },
];

export const routerGatewayColumns: Column<RouterGateway__Output>[] = [
  { header: 'ROUTER', value: (r) => r.routerId },
  { header: 'TENANT', value: (r) => r.tenant },
  { header: 'EXTERNAL GATEWAY', value: (r) => (r.externalGateway ? 'enabled' : 'disabled') },
];

export const gatewayColumn: Column<RouterWithGateway> = {
  header: 'EXTERNAL GATEWAY',
  value: (r) => (r.externalGateway === undefined ? 'unknown' : r.externalGateway ? 'enabled' : 'disabled'),
};

/**
 * Decoration from a second service: if the nat service does not answer, the
 * IPAM result is still printed (that call succeeded), with a note on stderr.
 */
async function decoration<T>(cli: CliContext, what: string, fetch: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fetch();
  } catch (e) {
    cli.io.err(`note: ${what} unknown: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

export async function withAssociation(api: Api, cli: CliContext, f: FloatingIp__Output): Promise<FloatingIpWithAssociation> {
  const association = await decoration(cli, 'association', () =>
    api.call<FloatingIpAssociation__Output>((md, opts, cb) => api.nat.GetFloatingIpAssociation({ floatingIpId: f.id }, md, opts, cb)),
  );
  return association ? { ...f, association } : f;
}

/** A page of IPAM's floating IPs with their associations: one nat list call over the same page. */
export async function pageWithAssociations(api: Api, cli: CliContext, page: { items: FloatingIp__Output[]; next: string }, o: Paging) {
  if (page.items.length === 0) return page;
  // Both services page by id over the same floating IPs (and answer at the same read-your-writes position): same page.
  const found = await decoration(cli, 'associations', () =>
    api.call<ListFloatingIpAssociationsResponse__Output>((md, opts, cb) => api.nat.ListFloatingIpAssociations({ after: o.after, limit: page.items.length }, md, opts, cb)),
  );
  const byId = new Map((found?.items ?? []).map((a) => [a.floatingIpId, a]));
  return { items: page.items.map((f) => (byId.has(f.id) ? { ...f, association: byId.get(f.id)! } : f)), next: page.next };
}

export async function withGateway(api: Api, cli: CliContext, r: Router__Output): Promise<RouterWithGateway> {
  const gw = await decoration(cli, 'external gateway', () => api.call<RouterGateway__Output>((md, opts, cb) => api.nat.GetRouterGateway({ routerId: r.id }, md, opts, cb)));
  return gw ? { ...r, externalGateway: gw.externalGateway } : r;
}

export function registerNatCommands(fip: Command, router: Command, cli: CliContext): void {
  fip
    .command('associate')
    .description('translate a floating IP 1:1 to a port (on the port’s hypervisor)')
    .argument('<floating-ip>', 'floating IP id')
    .argument('<port>', 'port id (same tenant, with an IPv4 address)')
    .option('--fixed-ip <ip>', 'which IPv4 fixed IP of the port (default: its first)')
    .action(async (floatingIpId: string, portId: string, o: { fixedIp?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { floatingIpId, portId, fixedIp: o.fixedIp };
      const res = await api.call<FloatingIpAssociation__Output>((md, opts, cb) => api.nat.AssociateFloatingIp(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, associationColumns);
    });

  fip
    .command('disassociate')
    .description('end a floating IP’s association (inbound to it stops at once)')
    .argument('<floating-ip>', 'floating IP id')
    .action(async (floatingIpId: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<FloatingIpAssociation__Output>((md, opts, cb) => api.nat.DisassociateFloatingIp({ floatingIpId }, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, associationColumns);
    });

  router
    .command('set-gateway')
    .description('turn a router’s external gateway (outbound access via each hypervisor’s H-IP) on or off')
    .argument('<router>', 'router id')
    .addOption(new Option('--enable', 'give its networks outbound access').conflicts('disable'))
    .addOption(new Option('--disable', 'take it away').conflicts('enable'))
    .action(async (routerId: string, o: { enable?: boolean; disable?: boolean }, cmd: Command) => {
      if (!o.enable && !o.disable) throw new UsageError('say --enable or --disable');
      const api = cli.connect(cmd);
      const res = await api.call<RouterGateway__Output>((md, opts, cb) => api.nat.SetRouterGateway({ routerId, enabled: o.enable === true }, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, routerGatewayColumns);
    });
}
