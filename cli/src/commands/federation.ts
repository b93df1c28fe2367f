/**
 * `strata federation …`: this zone's federation with other availability
 * zones (admin only; docs/architecture.md, "Availability zones"). The
 * configuration is nested (route reflectors, zones with prefixes and VNI
 * ranges), so `set` takes it whole as JSON, the shape `show --output json`
 * prints (without `revision`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Federation__Output, SetFederationRequest } from '@strata/proto';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';

const federationColumns: Column<Federation__Output>[] = [
  { header: 'ZONE', value: (f) => (f.localZone ? `${f.localZone.name} (${f.localZone.id})` : 'none') },
  { header: 'FEDERATION AS', value: (f) => f.federationAs },
  { header: 'ROUTE REFLECTORS', value: (f) => f.routeReflectors.map((r) => (r.passwordRef ? `${r.address} (md5 ${r.passwordRef})` : r.address)).join(', ') },
  {
    header: 'ZONES',
    value: (f) => f.zones.map((z) => `${z.name} (${z.id}): VTEPs ${z.vtepPrefixes.join(' ')}, VNIs ${z.vniRanges.map((r) => `${r.min}-${r.max}`).join(' ')}, max ${z.maxRoutes} routes`).join('; '),
  },
  { header: 'REVISION', value: (f) => f.revision },
];

function readConfig(path: string): SetFederationRequest {
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  try {
    return JSON.parse(text) as SetFederationRequest;
  } catch (e) {
    throw new Error(`${path}: not JSON: ${(e as Error).message}`);
  }
}

export function registerFederationCommands(program: Command, cli: CliContext): void {
  const federation = program.command('federation').description("this zone's federation with other availability zones over MP-BGP EVPN (admin)");
  federation
    .command('show')
    .description('show the federation configuration')
    .action(async (_o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      printOne(cli.io, cli.format(cmd), await api.call<Federation__Output>((md, opts, cb) => api.bgp.GetFederation({}, md, opts, cb)), federationColumns);
    });
  federation
    .command('set')
    .description('set the whole configuration from JSON: {localZone: {name, id}, federationAs, routeReflectors: [{address, passwordRef?}], zones: [{name, id, vtepPrefixes, vniRanges: [{min, max}], maxRoutes}]}')
    .requiredOption('--config <file>', "a JSON file ('-': standard input)")
    .action(async (o: { config: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = readConfig(o.config);
      printOne(cli.io, cli.format(cmd), await api.call<Federation__Output>((md, opts, cb) => api.bgp.SetFederation(req, md, opts, cb)), federationColumns);
    });
  federation
    .command('clear')
    .description('leave the federation: no route reflector sessions, routes learned from other zones withdrawn')
    .action(async (_o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      printOne(cli.io, cli.format(cmd), await api.call<Federation__Output>((md, opts, cb) => api.bgp.ClearFederation({}, md, opts, cb)), federationColumns);
    });
}
