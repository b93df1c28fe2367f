import type { Command } from 'commander';
import type { DeleteRouterResponse__Output, ListRoutersResponse__Output, Router__Output } from '@strata/proto';
import { route } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, replacedList, showCommand, namedUpdateCommand } from './common.js';
import { gatewayColumn, withGateway } from './nat.js';

export const routerColumns: Column<Router__Output>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'NAME', value: (r) => r.name },
  { header: 'TENANT', value: (r) => r.tenant },
  { header: 'SUBNETS', value: (r) => r.interfaces.map((i) => i.subnetId).join('\n') },
  { header: 'CREATED', value: (r) => r.createdAt },
  { header: 'ROUTES', value: (r) => r.routes.map((x) => `${x.destination} via ${x.nexthop}`).join('\n') },
  { header: 'DESCRIPTION', value: (r) => r.description },
  { header: 'REVISION', value: (r) => r.revision },
];

type Route = { destination: string; nexthop: string };

/** Returns the `router` group, so the NAT command set-gateway joins it. */
export function registerRouterCommands(program: Command, cli: CliContext): Command {
  const router = program.command('router').description('tenant routers (routing between subnets, on every host)');

  router
    .command('create')
    .description('create a router')
    .option('--name <name>', 'display name', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .option('--description <text>', 'description', '')
    .action(async (o: { name: string; tenant?: string; description: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<Router__Output>((md, opts, cb) => api.routers.CreateRouter(o, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, routerColumns);
    });

  namedUpdateCommand(router, 'router')
    .option('--route <spec>', 'the new extra routes, destination=CIDR,nexthop=IP (inside one of its subnets); repeatable', route)
    .option('--no-routes', 'no extra routes')
    .action(async (id: string, o: { name?: string; description?: string; expectedRevision?: number; route?: Route[]; routes: boolean }, cmd: Command) => {
      const routes = replacedList(o.route, o.routes, 'route');
      const api = cli.connect(cmd);
      const req = { id, name: o.name, description: o.description, expectedRevision: o.expectedRevision, routes: routes && { routes } };
      const res = await api.call<Router__Output>((md, opts, cb) => api.routers.UpdateRouter(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, routerColumns);
    });

  for (const [verb, description] of [
    ['add-interface', 'join a subnet to the router'],
    ['remove-interface', 'take a subnet off the router'],
  ] as const) {
    router
      .command(verb)
      .description(description)
      .argument('<id>', 'router')
      .requiredOption('--subnet <id>', 'subnet')
      .action(async (id: string, o: { subnet: string }, cmd: Command) => {
        const api = cli.connect(cmd);
        const req = { id, subnetId: o.subnet };
        const res = await api.call<Router__Output>((md, opts, cb) =>
          verb === 'add-interface' ? api.routers.AddRouterInterface(req, md, opts, cb) : api.routers.RemoveRouterInterface(req, md, opts, cb),
        );
        printOne(cli.io, cli.format(cmd), res, routerColumns);
      });
  }

  listCommand(router, cli, 'list routers', routerColumns, (api, o) =>
    api.call<ListRoutersResponse__Output>((md, opts, cb) => api.routers.ListRouters(o, md, opts, cb)),
  );
  // With its external gateway (from the nat service); -o json adds it as `externalGateway`.
  showCommand(router, cli, 'router and its external gateway', [...routerColumns, gatewayColumn], async (api, id) =>
    withGateway(api, cli, await api.call<Router__Output>((md, opts, cb) => api.routers.GetRouter({ id }, md, opts, cb))),
  );
  deleteCommand(router, cli, 'router', (api, id) =>
    api.call<DeleteRouterResponse__Output>((md, opts, cb) => api.routers.DeleteRouter({ id }, md, opts, cb)),
  );
  return router;
}
