import { Argument, Option, type Command } from 'commander';
import {
  etherTypeFromProto,
  etherTypeToProto,
  ruleDirectionFromProto,
  ruleDirectionToProto,
  ruleProtocolFromProto,
  ruleProtocolToProto,
  type CreateSecurityGroupRuleRequest,
  type DeleteSecurityGroupResponse__Output,
  type DeleteSecurityGroupRuleResponse__Output,
  type ListSecurityGroupsResponse__Output,
  type PortSecurity__Output,
  type SecurityGroup__Output,
  type SecurityGroupRule__Output,
} from '@strata/proto';
import { federationTag, icmpNumber, portNumber, portRange, positiveInt } from '../args.js';
import type { Api } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { printDeleted, printPage, renderJson, renderRecord, renderTable, type Column, type Format, type Io } from '../output.js';
import { deleteCommand, namedUpdateCommand, type Paging } from './common.js';

export const RULE_DIRECTIONS = ['ingress', 'egress'] as const;
export const ETHERTYPES = ['IPv4', 'IPv6'] as const;
export const RULE_PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'any'] as const;

/** Group id → a name to show for it. Ids without a usable name (none, or shared by several groups) are shown as ids. */
export type GroupNames = ReadonlyMap<string, string>;

export function groupNamesOf(groups: readonly SecurityGroup__Output[]): GroupNames {
  const count = new Map<string, number>();
  for (const g of groups) count.set(g.name, (count.get(g.name) ?? 0) + 1);
  return new Map(groups.filter((g) => g.name !== '' && count.get(g.name) === 1).map((g) => [g.id, g.name]));
}

/**
 * Every group the caller can see, for naming remote groups and memberships
 * in tables. Only decoration: if listing fails the ids are shown instead
 * (the command itself has succeeded and must not be reported as failed).
 */
async function fetchGroupNames(api: Api): Promise<GroupNames> {
  const all: SecurityGroup__Output[] = [];
  try {
    let after = '';
    do {
      const page = await api.call<ListSecurityGroupsResponse__Output>((md, opts, cb) => api.securityGroups.ListSecurityGroups({ after }, md, opts, cb));
      all.push(...page.items);
      after = page.next;
    } while (after !== '');
  } catch {
    return new Map();
  }
  return groupNamesOf(all);
}

/** A rule as one line a person reads: `ingress IPv4 tcp 443 from group web`, `egress IPv6 any to any`. */
export function ruleLine(r: SecurityGroupRule__Output, names: GroupNames = new Map()): string {
  const direction = ruleDirectionFromProto(r.direction) || String(r.direction);
  const parts = [direction, etherTypeFromProto(r.ethertype) || String(r.ethertype), ruleProtocolFromProto(r.protocol) || String(r.protocol)];
  if (r.portMin !== undefined || r.portMax !== undefined) {
    const min = r.portMin ?? r.portMax;
    const max = r.portMax ?? r.portMin;
    parts.push(min === max ? String(min) : `${min}-${max}`);
  }
  if (r.icmpType !== undefined) parts.push(`type ${r.icmpType}`);
  if (r.icmpCode !== undefined) parts.push(`code ${r.icmpCode}`);
  parts.push(direction === 'egress' ? 'to' : 'from');
  if (r.remoteGroupId !== undefined) parts.push(`group ${names.get(r.remoteGroupId) ?? r.remoteGroupId}`);
  else parts.push(r.remoteCidr ?? 'any');
  return parts.join(' ');
}

/** For `list`: one row per group, its rules as lines. */
export function securityGroupColumns(names: GroupNames = new Map()): Column<SecurityGroup__Output>[] {
  return [
    { header: 'ID', value: (g) => g.id },
    { header: 'NAME', value: (g) => g.name },
    { header: 'TENANT', value: (g) => g.tenant },
    { header: 'DEFAULT', value: (g) => (g.isDefault ? 'yes' : 'no') },
    { header: 'RULES', value: (g) => (g.rules.length === 0 ? 'none (allows nothing)' : g.rules.map((r) => ruleLine(r, names)).join('\n')) },
  ];
}

/** For `show` and `create`: the group's fields; its rules follow as their own table. */
export const securityGroupRecordColumns: Column<SecurityGroup__Output>[] = [
  { header: 'ID', value: (g) => g.id },
  { header: 'NAME', value: (g) => g.name },
  { header: 'DESCRIPTION', value: (g) => g.description },
  { header: 'TENANT', value: (g) => g.tenant },
  { header: 'DEFAULT', value: (g) => (g.isDefault ? 'yes' : 'no') },
  { header: 'FEDERATION TAG', value: (g) => (g.federationTag === undefined ? 'none' : String(g.federationTag)) },
  { header: 'CREATED', value: (g) => g.createdAt },
  { header: 'REVISION', value: (g) => String(g.revision) },
];

export function ruleColumns(names: GroupNames = new Map()): Column<SecurityGroupRule__Output>[] {
  return [
    { header: 'RULE ID', value: (r) => r.id },
    { header: 'RULE', value: (r) => ruleLine(r, names) },
  ];
}

export function portSecurityColumns(names: GroupNames = new Map()): Column<PortSecurity__Output>[] {
  return [
    { header: 'PORT', value: (p) => p.portId },
    { header: 'TENANT', value: (p) => p.tenant },
    {
      header: 'GROUPS',
      value: (p) =>
        p.groupIds.length === 0 ? 'none (not filtered)' : p.groupIds.map((id) => (names.has(id) ? `${names.get(id)} (${id})` : id)).join('\n'),
    },
    { header: 'PORT SECURITY', value: (p) => (p.portSecurity ? 'on' : 'off') },
    { header: 'REVISION', value: (p) => String(p.revision) },
  ];
}

/** A group for people: its fields, then one line per rule with the rule's id (needed by `rule delete`). */
export function renderSecurityGroup(g: SecurityGroup__Output, names: GroupNames = new Map()): string {
  return `${renderRecord(g, securityGroupRecordColumns)}\n${renderTable(g.rules, ruleColumns(names))}`;
}

export interface RuleOptions {
  direction: (typeof RULE_DIRECTIONS)[number];
  ethertype: (typeof ETHERTYPES)[number];
  protocol: (typeof RULE_PROTOCOLS)[number];
  port?: number;
  portRange?: { min: number; max: number };
  icmpType?: number;
  icmpCode?: number;
  remoteGroup?: string;
  remoteCidr?: string;
}

/** The CreateSecurityGroupRule request for `secgroup rule create <group>`; contradictions are usage errors, ranges the server's. */
export function ruleRequest(groupId: string, o: RuleOptions): CreateSecurityGroupRuleRequest {
  if (o.port !== undefined && o.portRange !== undefined) throw new UsageError('give --port or --port-range, not both');
  if (o.remoteGroup !== undefined && o.remoteCidr !== undefined) {
    throw new UsageError('give --remote-group or --remote-cidr, not both (neither: any peer)');
  }
  const req: CreateSecurityGroupRuleRequest = {
    groupId,
    direction: ruleDirectionToProto(o.direction),
    ethertype: etherTypeToProto(o.ethertype),
    protocol: ruleProtocolToProto(o.protocol),
  };
  const range = o.port !== undefined ? { min: o.port, max: o.port } : o.portRange;
  if (range !== undefined) {
    req.portMin = range.min;
    req.portMax = range.max;
  }
  if (o.icmpType !== undefined) req.icmpType = o.icmpType;
  if (o.icmpCode !== undefined) req.icmpCode = o.icmpCode;
  if (o.remoteGroup !== undefined) req.remoteGroupId = o.remoteGroup;
  if (o.remoteCidr !== undefined) req.remoteCidr = o.remoteCidr;
  return req;
}

/** `port set-groups`: the groups given, or none with --none (exactly one of the two). */
export function portGroupsRequest(portId: string, groups: readonly string[], none: boolean): { portId: string; groupIds: string[] } {
  if ((groups.length > 0) === none) throw new UsageError('give one or more security groups, or --none to take the port out of every group');
  return { portId, groupIds: [...groups] };
}

async function printGroup(io: Io, format: Format, api: Api, g: SecurityGroup__Output): Promise<void> {
  if (format === 'json') return io.out(renderJson(g));
  const names = g.rules.some((r) => r.remoteGroupId !== undefined) ? await fetchGroupNames(api) : new Map<string, string>();
  io.out(renderSecurityGroup(g, names));
}

async function printPortSecurity(io: Io, format: Format, api: Api, p: PortSecurity__Output): Promise<void> {
  if (format === 'json') return io.out(renderJson(p));
  const names = p.groupIds.length > 0 ? await fetchGroupNames(api) : new Map<string, string>();
  io.out(renderRecord(p, portSecurityColumns(names)));
}

/** `strata secgroup ...`, and the security operations on ports (`strata port set-groups|set-security|security`). */
export function registerSecurityGroupCommands(program: Command, port: Command, cli: CliContext): void {
  const sg = program.command('secgroup').description('security groups: stateful allow rules for the ports in them');

  sg.command('create')
    .description('create a security group (it has no rules: its members send and receive nothing until rules are added)')
    .requiredOption('--name <name>', 'display name ("default" is reserved)')
    .option('--description <text>', 'what it is for', '')
    .option('--tenant <tenant>', 'admin only: create it for this tenant')
    .option('--federation-tag <n>', "members in other zones whose routes carry this tag (1-65535, the same tenant's) are members too", federationTag)
    .action(async (o: { name: string; description: string; tenant?: string; federationTag?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<SecurityGroup__Output>((md, opts, cb) => api.securityGroups.CreateSecurityGroup(o, md, opts, cb));
      await printGroup(cli.io, cli.format(cmd), api, res);
    });

  // Not common.ts' listCommand: the rules name remote groups, and the page itself says what they are called.
  sg.command('list')
    .description('list security groups')
    .option('--limit <n>', 'page size', positiveInt)
    .option('--after <token>', 'continue after this page token', '')
    .action(async (o: Paging, cmd: Command) => {
      const api = cli.connect(cmd);
      const page = await api.call<ListSecurityGroupsResponse__Output>((md, opts, cb) => api.securityGroups.ListSecurityGroups(o, md, opts, cb));
      printPage(cli.io, cli.format(cmd), page, securityGroupColumns(groupNamesOf(page.items)));
    });

  sg.command('show')
    .description('show one security group and its rules')
    .argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<SecurityGroup__Output>((md, opts, cb) => api.securityGroups.GetSecurityGroup({ id }, md, opts, cb));
      await printGroup(cli.io, cli.format(cmd), api, res);
    });

  namedUpdateCommand(sg, 'security group', 'rename a security group, change its description or federation tag (rules: secgroup rule create/delete)')
    .option('--federation-tag <n>', 'a new federation tag (1-65535)', federationTag)
    .option('--no-federation-tag', 'remove its federation tag')
    .action(async (id: string, o: { name?: string; description?: string; expectedRevision?: number; federationTag?: number | false }, cmd: Command) => {
      const api = cli.connect(cmd);
      // The API removes the tag on 0 (proto3 has no null).
      const req = { id, ...o, federationTag: o.federationTag === false ? 0 : o.federationTag };
      const res = await api.call<SecurityGroup__Output>((md, opts, cb) => api.securityGroups.UpdateSecurityGroup(req, md, opts, cb));
      await printGroup(cli.io, cli.format(cmd), api, res);
    });

  deleteCommand(sg, cli, 'security group', (api, id) =>
    api.call<DeleteSecurityGroupResponse__Output>((md, opts, cb) => api.securityGroups.DeleteSecurityGroup({ id }, md, opts, cb)),
  );

  const rule = sg.command('rule').description('the allow rules of a security group');

  rule
    .command('create')
    .description('add an allow rule to a security group')
    .argument('<group>', 'security group id')
    .addOption(new Option('--direction <direction>', 'ingress: traffic members receive; egress: traffic they send').choices(RULE_DIRECTIONS).makeOptionMandatory())
    .addOption(new Option('--ethertype <ethertype>', 'IP version').choices(ETHERTYPES).makeOptionMandatory())
    .addOption(new Option('--protocol <protocol>', 'icmp is IPv4 only, icmpv6 IPv6 only').choices(RULE_PROTOCOLS).default('any'))
    .option('--port <port>', 'tcp/udp: this port only (default: every port)', portNumber)
    .option('--port-range <min-max>', 'tcp/udp: ports MIN to MAX, e.g. 1000-2000', portRange)
    .option('--icmp-type <n>', 'icmp/icmpv6: this type only (default: every type)', icmpNumber)
    .option('--icmp-code <n>', 'icmp/icmpv6: this code only; needs --icmp-type', icmpNumber)
    .option('--remote-group <id>', 'the peer is any port in this group (of the same tenant)')
    .option('--remote-cidr <cidr>', 'the peer is any address in this prefix (default: any peer)')
    .action(async (group: string, o: RuleOptions, cmd: Command) => {
      const req = ruleRequest(group, o);
      const api = cli.connect(cmd);
      const res = await api.call<SecurityGroupRule__Output>((md, opts, cb) => api.securityGroups.CreateSecurityGroupRule(req, md, opts, cb));
      if (cli.format(cmd) === 'json') return cli.io.out(renderJson(res));
      const names = res.remoteGroupId !== undefined ? await fetchGroupNames(api) : new Map<string, string>();
      const columns: Column<SecurityGroupRule__Output>[] = [
        { header: 'ID', value: (r) => r.id },
        { header: 'GROUP', value: () => group },
        { header: 'RULE', value: (r) => ruleLine(r, names) },
      ];
      cli.io.out(renderRecord(res, columns));
    });

  rule
    .command('delete')
    .description('remove a rule from a security group')
    .argument('<group>', 'security group id')
    .argument('<rule>', 'rule id (see secgroup show)')
    .action(async (groupId: string, ruleId: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<DeleteSecurityGroupRuleResponse__Output>((md, opts, cb) =>
        api.securityGroups.DeleteSecurityGroupRule({ groupId, ruleId }, md, opts, cb),
      );
      printDeleted(cli.io, cli.format(cmd), 'security group rule', res);
    });

  port
    .command('set-groups')
    .description("put a port into exactly these security groups (replacing its current ones)")
    .argument('<port>', 'port id')
    .argument('[groups...]', 'security group ids (at most 16)')
    .option('--none', 'take the port out of every group: it is then not filtered')
    .option('--expected-revision <n>', "refuse unless the port's security is still at this revision", positiveInt)
    .action(async (portId: string, groups: string[], o: { none?: boolean; expectedRevision?: number }, cmd: Command) => {
      const req = { ...portGroupsRequest(portId, groups, o.none === true), expectedRevision: o.expectedRevision };
      const api = cli.connect(cmd);
      const res = await api.call<PortSecurity__Output>((md, opts, cb) => api.securityGroups.SetPortSecurityGroups(req, md, opts, cb));
      await printPortSecurity(cli.io, cli.format(cmd), api, res);
    });

  port
    .command('set-security')
    .description('turn port security (anti-spoofing: only its own MAC and fixed IPs) on or off')
    .argument('<port>', 'port id')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .option('--expected-revision <n>', "refuse unless the port's security is still at this revision", positiveInt)
    .action(async (portId: string, state: 'on' | 'off', o: { expectedRevision?: number }, cmd: Command) => {
      const api = cli.connect(cmd);
      const req = { portId, enabled: state === 'on', expectedRevision: o.expectedRevision };
      const res = await api.call<PortSecurity__Output>((md, opts, cb) => api.securityGroups.SetPortSecurity(req, md, opts, cb));
      await printPortSecurity(cli.io, cli.format(cmd), api, res);
    });

  port
    .command('security')
    .description("show a port's security groups and port security")
    .argument('<port>', 'port id')
    .action(async (portId: string, _o: unknown, cmd: Command) => {
      const api = cli.connect(cmd);
      const res = await api.call<PortSecurity__Output>((md, opts, cb) => api.securityGroups.GetPortSecurity({ portId }, md, opts, cb));
      await printPortSecurity(cli.io, cli.format(cmd), api, res);
    });
}
