/**
 * `strata sfc function|group|classifier|chain create|list|show|update|delete`:
 * service chaining (docs/architecture.md, "Service chaining"). Tables show
 * the contract's spellings (l3, active-standby, IPv4, tcp); `-o json` prints
 * the API's messages as they are (enum names such as FUNCTION_MODE_L3).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  etherTypeFromProto,
  etherTypeToProto,
  functionModeFromProto,
  functionModeToProto,
  groupFallbackFromProto,
  groupFallbackToProto,
  groupSelectionFromProto,
  groupSelectionToProto,
  healthCheckProtocolFromProto,
  healthCheckProtocolToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  type Chain__Output,
  type ChainingResourceDeleted__Output,
  type FlowClassifier__Output,
  type FlowEndpoint__Output,
  type FunctionGroup__Output,
  type HealthCheckRequest,
  type ListChainsResponse__Output,
  type ListFlowClassifiersResponse__Output,
  type ListFunctionGroupsResponse__Output,
  type ListServiceFunctionsResponse__Output,
  type PortRange__Output,
  type ServiceFunction__Output,
} from '@strata/proto';
import { collect, portNumber, portRange, positiveInt } from '../args.js';
import type { CliContext } from '../context.js';
import { printOne, type Column } from '../output.js';
import { deleteCommand, listCommand, showCommand, namedUpdateCommand } from './common.js';
import { ETHERTYPES, RULE_PROTOCOLS } from './security-groups.js';

/** `N` (one port) or `MIN-MAX`. */
function ports(value: string): { min: number; max: number } {
  if (/^\d+$/.test(value)) {
    const n = portNumber(value);
    return { min: n, max: n };
  }
  try {
    return portRange(value);
  } catch {
    throw new InvalidArgumentError('must be a port N or a range MIN-MAX, e.g. 9000 or 1000-2000');
  }
}

const range = (r: PortRange__Output | null): string | undefined => (r === null ? undefined : r.min === r.max ? String(r.min) : `${r.min}-${r.max}`);
const endpoint = (e: FlowEndpoint__Output | null): string => (e?.groupId !== undefined ? `group ${e.groupId}` : (e?.cidr ?? 'any'));

/** A classifier's match as one line: `IPv4 tcp from group G to 10.0.1.0/24 port 9000`. */
export function matchLine(c: FlowClassifier__Output): string {
  const parts = [etherTypeFromProto(c.ethertype) || String(c.ethertype), ruleProtocolFromProto(c.protocol) || String(c.protocol), 'from', endpoint(c.source)];
  const sp = range(c.sourcePorts);
  if (sp) parts.push(`port ${sp}`);
  parts.push('to', endpoint(c.destination));
  const dp = range(c.destinationPorts);
  if (dp) parts.push(`port ${dp}`);
  return parts.join(' ');
}

export const functionColumns: Column<ServiceFunction__Output>[] = [
  { header: 'ID', value: (f) => f.id },
  { header: 'NAME', value: (f) => f.name },
  { header: 'TENANT', value: (f) => f.tenant },
  { header: 'MODE', value: (f) => functionModeFromProto(f.mode) || String(f.mode) },
  { header: 'INGRESS', value: (f) => f.ingressPortId },
  { header: 'EGRESS', value: (f) => (f.egressPortId === f.ingressPortId ? '(one-arm)' : f.egressPortId) },
  { header: 'VIRTUAL IP', value: (f) => f.virtualIp },
  {
    header: 'HEALTH CHECK',
    value: (f) => {
      const h = f.healthCheck;
      if (!h) return undefined;
      const proto = healthCheckProtocolFromProto(h.protocol) || String(h.protocol);
      return `${proto}${h.port === undefined ? '' : `/${h.port}`} every ${h.intervalMs} ms, timeout ${h.timeoutMs} ms, rise ${h.rise}, fall ${h.fall}`;
    },
  },
  { header: 'HEALTHY', value: (f) => (f.healthy ? 'yes' : 'no') },
  { header: 'DESCRIPTION', value: (f) => f.description },
  { header: 'REVISION', value: (f) => String(f.revision) },
];

export const groupColumns: Column<FunctionGroup__Output>[] = [
  { header: 'ID', value: (g) => g.id },
  { header: 'NAME', value: (g) => g.name },
  { header: 'TENANT', value: (g) => g.tenant },
  { header: 'SELECTION', value: (g) => groupSelectionFromProto(g.selection) || String(g.selection) },
  { header: 'FALLBACK', value: (g) => groupFallbackFromProto(g.fallback) || String(g.fallback) },
  // In order; the active member marked.
  { header: 'FUNCTIONS', value: (g) => g.functionIds.map((f) => (f === g.activeFunctionId ? `${f} (active)` : f)).join('\n') },
  { header: 'DESCRIPTION', value: (g) => g.description },
  { header: 'REVISION', value: (g) => String(g.revision) },
];

export const classifierColumns: Column<FlowClassifier__Output>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'TENANT', value: (c) => c.tenant },
  { header: 'MATCH', value: matchLine },
  { header: 'DESCRIPTION', value: (c) => c.description },
  { header: 'REVISION', value: (c) => String(c.revision) },
];

export const chainColumns: Column<Chain__Output>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'TENANT', value: (c) => c.tenant },
  { header: 'ROUTER', value: (c) => c.routerId },
  { header: 'HOPS', value: (c) => c.groupIds.map((g, i) => `${i + 1}. ${g}`).join('\n') },
  { header: 'CLASSIFIERS', value: (c) => c.classifierIds.join('\n') },
  { header: 'SYMMETRIC', value: (c) => (c.symmetric ? 'yes' : 'no') },
  { header: 'DESCRIPTION', value: (c) => c.description },
  { header: 'REVISION', value: (c) => String(c.revision) },
];

/** What every `sfc … update` takes: absent = unchanged. */
interface UpdateOptions {
  name?: string;
  description?: string;
  expectedRevision?: number;
}

/** The options every `sfc … update` has; the command adds its own. */
const sfcUpdateCommand = (group: Command, kind: string, what: string): Command =>
  namedUpdateCommand(group, kind, `change a ${kind}'s ${what} (options not given stay as they are)`);

const updateFields = (id: string, o: UpdateOptions) => ({ id, name: o.name, description: o.description, expectedRevision: o.expectedRevision });

interface FunctionOptions {
  name: string;
  description: string;
  tenant?: string;
  ingressPort: string;
  egressPort?: string;
  mode?: string;
  virtualIp?: string;
  healthCheck?: string;
  healthPort?: number;
  healthInterval?: number;
  healthTimeout?: number;
  healthRise?: number;
  healthFall?: number;
}

type HealthOptions = Pick<FunctionOptions, 'healthCheck' | 'healthPort' | 'healthInterval' | 'healthTimeout' | 'healthRise' | 'healthFall'>;

/** The health check asked for: any --health-* option asks for one (icmp unless --health-check tcp). */
function healthCheckOf(o: HealthOptions): HealthCheckRequest | undefined {
  const given = [o.healthCheck, o.healthPort, o.healthInterval, o.healthTimeout, o.healthRise, o.healthFall].some((v) => v !== undefined);
  if (!given) return undefined;
  return {
    protocol: healthCheckProtocolToProto(o.healthCheck ?? 'icmp'),
    port: o.healthPort,
    intervalMs: o.healthInterval,
    timeoutMs: o.healthTimeout,
    rise: o.healthRise,
    fall: o.healthFall,
  };
}

/** The --health-* options of `function create` and `function update`. */
function healthOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--health-check <protocol>', 'health-check protocol (any --health-* option enables the check; default icmp)').choices(['icmp', 'tcp']))
    .option('--health-port <n>', 'tcp check: the port connected to', portNumber)
    .option('--health-interval <ms>', 'between probes (default 2000)', positiveInt)
    .option('--health-timeout <ms>', 'per probe (default 1000)', positiveInt)
    .option('--health-rise <n>', 'successes that bring it back (default 2)', positiveInt)
    .option('--health-fall <n>', 'failures that take it out (default 3)', positiveInt);
}

/** `sfc function update`: the health check is replaced by the --health-* options given, or removed with --no-health-check. */
export function functionUpdateRequest(id: string, o: UpdateOptions & HealthOptions & { removeHealthCheck?: boolean }) {
  const healthCheck = healthCheckOf(o);
  if (healthCheck !== undefined && o.removeHealthCheck) throw new UsageError('give --health-* options or --remove-health-check, not both');
  return { ...updateFields(id, o), healthCheck, removeHealthCheck: o.removeHealthCheck === true };
}

/** A list an update replaces: not given = unchanged. */
const replaced = (ids: string[] | undefined): string[] => ids ?? [];

function registerFunctionCommands(sfc: Command, cli: CliContext): void {
  const fn = sfc.command('function').description('service functions: an appliance\'s legs (ports), mode, virtual IP and health check');
  const create = fn
    .command('create')
    .description('create a service function of your appliance VM\'s port(s)')
    .requiredOption('--ingress-port <id>', 'the leg traffic enters by')
    .option('--egress-port <id>', 'the leg traffic leaves by (default: the ingress port, one-arm)')
    .addOption(new Option('--mode <mode>', 'l3: a routed next hop; wire: transparent (two legs)').choices(['l3', 'wire']))
    .option('--virtual-ip <ip>', 'address a redundant pair shares (an allowed address pair of the ingress port)')
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'what it is for', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant');
  healthOptions(create).action(async (o: FunctionOptions, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = {
        tenant: o.tenant,
        name: o.name,
        description: o.description,
        ingressPortId: o.ingressPort,
        egressPortId: o.egressPort,
        mode: o.mode === undefined ? undefined : functionModeToProto(o.mode),
        virtualIp: o.virtualIp,
        healthCheck: healthCheckOf(o),
      };
      const res = await api.call<ServiceFunction__Output>((md, opts, cb) => api.chaining.CreateServiceFunction(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, functionColumns);
    });
  listCommand(fn, cli, 'list service functions', functionColumns, (api, o) =>
    api.call<ListServiceFunctionsResponse__Output>((md, opts, cb) => api.chaining.ListServiceFunctions(o, md, opts, cb)),
  );
  showCommand(fn, cli, 'service function', functionColumns, (api, id) => api.call<ServiceFunction__Output>((md, opts, cb) => api.chaining.GetServiceFunction({ id }, md, opts, cb)));
  healthOptions(sfcUpdateCommand(fn, 'service function', 'name, description or health check (legs, mode and virtual IP are fixed)'))
    .option('--remove-health-check', 'remove the health check (the function then counts as healthy)')
    .action(async (id: string, o: UpdateOptions & HealthOptions & { removeHealthCheck?: boolean }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = functionUpdateRequest(id, o);
      const res = await api.call<ServiceFunction__Output>((md, opts, cb) => api.chaining.UpdateServiceFunction(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, functionColumns);
    });
  deleteCommand(fn, cli, 'service function', (api, id) => api.call<ChainingResourceDeleted__Output>((md, opts, cb) => api.chaining.DeleteServiceFunction({ id }, md, opts, cb)));
}

function registerGroupCommands(sfc: Command, cli: CliContext): void {
  const group = sfc.command('group').description('function groups: the functions that can serve one hop');
  group
    .command('create')
    .description('create a function group')
    .requiredOption('--function <id>', 'a member, repeat in order (active-standby takes the first healthy one)', collect)
    .addOption(new Option('--selection <selection>', 'how a member is chosen (default active-standby)').choices(['active-standby', 'flow-hash']))
    .addOption(new Option('--fallback <fallback>', 'when no member is usable (default fail-closed)').choices(['fail-closed', 'fail-open']))
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'what it is for', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .action(async (o: { function: string[]; selection?: string; fallback?: string; name: string; description: string; tenant?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = {
        tenant: o.tenant,
        name: o.name,
        description: o.description,
        functionIds: o.function,
        selection: o.selection === undefined ? undefined : groupSelectionToProto(o.selection),
        fallback: o.fallback === undefined ? undefined : groupFallbackToProto(o.fallback),
      };
      const res = await api.call<FunctionGroup__Output>((md, opts, cb) => api.chaining.CreateFunctionGroup(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, groupColumns);
    });
  listCommand(group, cli, 'list function groups', groupColumns, (api, o) =>
    api.call<ListFunctionGroupsResponse__Output>((md, opts, cb) => api.chaining.ListFunctionGroups(o, md, opts, cb)),
  );
  showCommand(group, cli, 'function group', groupColumns, (api, id) => api.call<FunctionGroup__Output>((md, opts, cb) => api.chaining.GetFunctionGroup({ id }, md, opts, cb)));
  sfcUpdateCommand(group, 'function group', 'name, description or members (selection and fallback are fixed)')
    .option('--function <id>', 'the new members, repeat in order (replaces them all)', collect)
    .action(async (id: string, o: UpdateOptions & { function?: string[] }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { ...updateFields(id, o), functionIds: replaced(o.function) };
      const res = await api.call<FunctionGroup__Output>((md, opts, cb) => api.chaining.UpdateFunctionGroup(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, groupColumns);
    });
  deleteCommand(group, cli, 'function group', (api, id) => api.call<ChainingResourceDeleted__Output>((md, opts, cb) => api.chaining.DeleteFunctionGroup({ id }, md, opts, cb)));
}

interface ClassifierOptions {
  name: string;
  description: string;
  tenant?: string;
  ethertype?: string;
  protocol?: string;
  sourceGroup?: string;
  sourceCidr?: string;
  destinationGroup?: string;
  destinationCidr?: string;
  sourcePorts?: { min: number; max: number };
  destinationPorts?: { min: number; max: number };
}

function registerClassifierCommands(sfc: Command, cli: CliContext): void {
  const classifier = sfc.command('classifier').description('flow classifiers: which flows a chain takes');
  classifier
    .command('create')
    .description('create a flow classifier (a security group or a CIDR per end; neither: any address)')
    .addOption(new Option('--ethertype <ethertype>', 'default IPv4').choices(ETHERTYPES))
    .addOption(new Option('--protocol <protocol>', 'default any').choices(RULE_PROTOCOLS))
    .option('--source-group <id>', 'flows from this security group\'s members')
    .option('--source-cidr <cidr>', 'flows from this prefix')
    .option('--destination-group <id>', 'flows to this security group\'s members')
    .option('--destination-cidr <cidr>', 'flows to this prefix')
    .option('--source-ports <N|MIN-MAX>', 'tcp/udp source ports', ports)
    .option('--destination-ports <N|MIN-MAX>', 'tcp/udp destination ports', ports)
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'what it is for', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .action(async (o: ClassifierOptions, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = {
        tenant: o.tenant,
        name: o.name,
        description: o.description,
        ethertype: o.ethertype === undefined ? undefined : etherTypeToProto(o.ethertype),
        protocol: o.protocol === undefined ? undefined : ruleProtocolToProto(o.protocol),
        source: { groupId: o.sourceGroup, cidr: o.sourceCidr },
        destination: { groupId: o.destinationGroup, cidr: o.destinationCidr },
        sourcePorts: o.sourcePorts,
        destinationPorts: o.destinationPorts,
      };
      const res = await api.call<FlowClassifier__Output>((md, opts, cb) => api.chaining.CreateFlowClassifier(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, classifierColumns);
    });
  listCommand(classifier, cli, 'list flow classifiers', classifierColumns, (api, o) =>
    api.call<ListFlowClassifiersResponse__Output>((md, opts, cb) => api.chaining.ListFlowClassifiers(o, md, opts, cb)),
  );
  showCommand(classifier, cli, 'flow classifier', classifierColumns, (api, id) =>
    api.call<FlowClassifier__Output>((md, opts, cb) => api.chaining.GetFlowClassifier({ id }, md, opts, cb)),
  );
  sfcUpdateCommand(classifier, 'flow classifier', 'name or description (its match is fixed: create another classifier)').action(
    async (id: string, o: UpdateOptions, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<FlowClassifier__Output>((md, opts, cb) => api.chaining.UpdateFlowClassifier(updateFields(id, o), md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, classifierColumns);
    },
  );
  deleteCommand(classifier, cli, 'flow classifier', (api, id) =>
    api.call<ChainingResourceDeleted__Output>((md, opts, cb) => api.chaining.DeleteFlowClassifier({ id }, md, opts, cb)),
  );
}

function registerChainCommands(sfc: Command, cli: CliContext): void {
  const chain = sfc.command('chain').description('chains: ordered function groups and classifiers on a tenant router');
  chain
    .command('create')
    .description('create a chain')
    .option('--router <id>', "the tenant router (routing domain) it applies on; default: the tenant's one router on every hop leg's network")
    .requiredOption('--group <id>', 'a hop (function group), repeat in hop order', collect)
    .requiredOption('--classifier <id>', 'a flow classifier, repeatable', collect)
    .option('--no-symmetric', 'do not steer return traffic through the same members')
    .option('--name <name>', 'display name', '')
    .option('--description <text>', 'what it is for', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .action(async (o: { router?: string; group: string[]; classifier: string[]; symmetric: boolean; name: string; description: string; tenant?: string }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { tenant: o.tenant, name: o.name, description: o.description, routerId: o.router ?? '', groupIds: o.group, classifierIds: o.classifier, symmetric: o.symmetric };
      const res = await api.call<Chain__Output>((md, opts, cb) => api.chaining.CreateChain(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, chainColumns);
    });
  listCommand(chain, cli, 'list chains', chainColumns, (api, o) => api.call<ListChainsResponse__Output>((md, opts, cb) => api.chaining.ListChains(o, md, opts, cb)));
  showCommand(chain, cli, 'chain', chainColumns, (api, id) => api.call<Chain__Output>((md, opts, cb) => api.chaining.GetChain({ id }, md, opts, cb)));
  sfcUpdateCommand(chain, 'chain', 'name, description, hops or classifiers (router and symmetry are fixed)')
    .option('--group <id>', 'the new hops, repeat in hop order (replaces them all)', collect)
    .option('--classifier <id>', 'the new classifiers, repeatable (replaces them all)', collect)
    .action(async (id: string, o: UpdateOptions & { group?: string[]; classifier?: string[] }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { ...updateFields(id, o), groupIds: replaced(o.group), classifierIds: replaced(o.classifier) };
      const res = await api.call<Chain__Output>((md, opts, cb) => api.chaining.UpdateChain(req, md, opts, cb));
      printOne(cli.io, cli.format(cmd), res, chainColumns);
    });
  deleteCommand(chain, cli, 'chain', (api, id) => api.call<ChainingResourceDeleted__Output>((md, opts, cb) => api.chaining.DeleteChain({ id }, md, opts, cb)));
}

export function registerChainingCommands(program: Command, cli: CliContext): void {
  const sfc = program.command('sfc').description('service chaining: steer classified flows through appliance VMs');
  registerFunctionCommands(sfc, cli);
  registerGroupCommands(sfc, cli);
  registerClassifierCommands(sfc, cli);
  registerChainCommands(sfc, cli);
}

