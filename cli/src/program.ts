import { Command, Option } from 'commander';
import { reasonText } from './args.js';
import { registerApplicationPrefixCommands } from './commands/application-prefixes.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerEventCommands } from './commands/events.js';
import { registerFloatingIpCommands } from './commands/floating-ips.js';
import { registerHypervisorCommands } from './commands/hypervisors.js';
import { registerNatCommands } from './commands/nat.js';
import { registerBgpCommands } from './commands/bgp.js';
import { registerFederationCommands } from './commands/federation.js';
import { registerChainingCommands } from './commands/chaining.js';
import { registerNetworkCommands } from './commands/networks.js';
import { registerPoolCommands } from './commands/pools.js';
import { registerPortCommands } from './commands/ports.js';
import { registerRouterCommands } from './commands/routers.js';
import { registerGatewayCommands } from './commands/gateways.js';
import { registerPeeringCommands } from './commands/peering.js';
import { registerSecurityGroupCommands } from './commands/security-groups.js';
import { registerSubnetCommands } from './commands/subnets.js';
import { registerWaitCommands } from './commands/wait.js';
import { addWaitOptions } from './wait/after-write.js';
import { DEFAULT_SERVER, type CliContext } from './context.js';
import { EXIT_CODES_HELP } from './errors.js';
import { FORMATS } from './output.js';

/**
 * The whole `strata` command tree. Commander's own output goes through
 * `cli.io` so tests can capture it; subcommands inherit these settings
 * because they are made before any subcommand is added.
 */
export function buildProgram(cli: CliContext): Command {
  const program = new Command('strata')
    .description('Command-line client of the Strata virtual-network API')
    .addOption(new Option('--server <host:port>', `API address (env STRATA_SERVER, default ${DEFAULT_SERVER})`))
    .addOption(new Option('--token <token>', 'API bearer token (env STRATA_TOKEN)'))
    .addOption(new Option('--ca <file>', "CA certificate (PEM) the API's certificate must chain to (env STRATA_CA; default: the system's roots)"))
    .addOption(new Option('--cert <file>', 'client certificate (PEM) for an API that requires mutual TLS (env STRATA_CERT)'))
    .addOption(new Option('--key <file>', "the client certificate's key (PEM) (env STRATA_KEY)"))
    .addOption(new Option('--plaintext', 'no TLS: the token crosses in clear (a loopback API or a lab; env STRATA_PLAINTEXT=1)'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('table'))
    .addOption(new Option('--request-id <uuid>', 'x-request-id to send (reuse it to retry a command safely)'))
    .addOption(new Option('--reason <text>', 'why (x-reason): stored on every event the command causes, shown by `events list`').argParser(reasonText))
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => cli.io.out(s.trimEnd()), writeErr: (s) => cli.io.err(s.trimEnd()) })
    .exitOverride();
  registerNetworkCommands(program, cli);
  registerSubnetCommands(program, cli);
  const port = registerPortCommands(program, cli);
  registerHypervisorCommands(program, cli);
  registerPoolCommands(program, cli);
  const floatingIp = registerFloatingIpCommands(program, cli);
  registerApplicationPrefixCommands(program, cli);
  const router = registerRouterCommands(program, cli);
  registerNatCommands(floatingIp, router, cli);
  registerGatewayCommands(program, cli);
  registerPeeringCommands(program, cli);
  registerBgpCommands(program, cli);
  registerFederationCommands(program, cli);
  registerSecurityGroupCommands(program, port, cli);
  registerChainingCommands(program, cli);
  registerEventCommands(program, cli);
  registerAuditCommands(program, cli);
  registerWaitCommands(program, cli);
  // Last: --wait goes on every write command registered above.
  addWaitOptions(program, cli);
  return program;
}
