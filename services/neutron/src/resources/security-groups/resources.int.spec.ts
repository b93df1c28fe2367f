/**
 * The security-groups and security-group-rules resources against the real
 * secgroup service (and IPAM, which it follows) over a real nats-server:
 * the default group on first use, Neutron's representation, rules by id
 * alone, and every refusal in Neutron's type and status with nothing
 * written. (HTTP, the attribute map and the NeutronError body are the REST
 * core's; its wire tests cover them.)
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { chainingContract, defaultSecurityGroupId, ipamContract, natContract, secgroupContract, statusContract } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import type { Identity } from '@strata/identity';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { commandSignerFrom, ContractClient, NatsRequester, ReadYourWrites } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import type { Json, NeutronClients, NeutronContext } from '../../resource.js';
import { NeutronHttpError } from '../../errors.js';
import { stepMeta } from '../../request-meta.js';
import { securityGroupRules, securityGroups } from './index.js';

const require = createRequire(import.meta.url);
const mainOf = (pkg: string): string => join(dirname(require.resolve(pkg)), 'main.js');

const PROJECT_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PROJECT_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

describe('Neutron security groups and rules on the secgroup service', () => {
  let nats: StrataNats;
  let services: ManagedProcess[] = [];
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let clients: NeutronClients;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    const env = (user: string) => ({ NATS_URL: nats.url, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...nats.env(user) });
    services = [startProcess('ipam', [process.execPath, mainOf('@strata/ipam')], { env: env('ipam') }), startProcess('secgroup', [process.execPath, mainOf('@strata/secgroup')], { env: env('secgroup') })];
    await Promise.all(services.map((s) => s.ready));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    const requester = new NatsRequester(nc, { signer: commandSignerFrom() });
    const ryw = new ReadYourWrites();
    const client = <C extends Parameters<typeof ContractClient>[0]>(contract: C) => new ContractClient(contract, requester, ryw, { checkReplies: true });
    clients = { ipam: client(ipamContract), secgroup: client(secgroupContract), nat: client(natContract), chaining: client(chainingContract), status: client(statusContract) };
  });

  afterAll(async () => {
    await nc?.close();
    for (const s of services) await s.stop();
    await nats?.stop();
  });

  function as(projectId: string, role: Identity['role'] = 'member'): NeutronContext {
    const requestId = randomUUID();
    const identity: Identity = { userId: `u-${projectId}`, userName: `user-${projectId}`, projectId, projectName: projectId, role, keystoneRoles: [role], expiresAt: Date.now() + 3_600_000, auditId: 'a' };
    const meta = { actor: `keystone:${identity.userName}`, tenant: projectId, admin: role === 'admin', requestId, correlationId: requestId, at: new Date().toISOString() };
    return { identity, meta, clients, step: (step: string) => stepMeta(meta, step) };
  }
  const A = () => as(PROJECT_A);
  const B = () => as(PROJECT_B);

  /** The Neutron error a call answers, and that it wrote nothing. */
  async function refused(call: () => Promise<unknown>): Promise<{ status: number; type: string; message: string }> {
    const before = await store.lastSeq();
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'expected a refusal').toBeDefined();
    expect(await store.lastSeq(), 'a refused request wrote').toBe(before);
    expect(err, `not a Neutron error: ${String(err)}`).toBeInstanceOf(NeutronHttpError);
    const { status, type, message } = err as NeutronHttpError;
    return { status, type, message };
  }

  const rulesOf = (g: Json) => g.security_group_rules as Json[];

  it("makes a project's default group on first use, with Neutron's default rules, once", async () => {
    const before = await store.lastSeq();
    const listed = await securityGroups.list(A(), new Map());
    const id = defaultSecurityGroupId(PROJECT_A);
    expect(listed.map((g) => [g.id, g.name, g.tenant_id, g.project_id, g.stateful, g.shared])).toEqual([[id, 'default', PROJECT_A, PROJECT_A, true, false]]);
    expect(rulesOf(listed[0]!).map((r) => [r.direction, r.ethertype, r.protocol, r.remote_group_id, r.remote_ip_prefix, r.security_group_id])).toEqual([
      ['egress', 'IPv4', null, null, null, id],
      ['egress', 'IPv6', null, null, null, id],
      ['ingress', 'IPv4', null, id, null, id],
      ['ingress', 'IPv6', null, id, null, id],
    ]);
    expect(await store.lastSeq()).toBe(before + 1);
    expect(await securityGroups.list(A(), new Map())).toEqual(listed);
    expect(await store.lastSeq(), 'a second list wrote').toBe(before + 1);
    // Asking for a project's default group by its id is a first use too.
    expect(await securityGroups.show(B(), defaultSecurityGroupId(PROJECT_B))).toMatchObject({ name: 'default', tenant_id: PROJECT_B });
    expect(await refused(() => securityGroups.show(B(), id))).toMatchObject({ status: 404, type: 'SecurityGroupNotFound' });
    // An admin listing one project's groups is that project's first use.
    const projectC = 'cccccccccccccccccccccccccccccccc';
    const forC = await securityGroups.list(as(PROJECT_A, 'admin'), new Map([['project_id', [projectC]]]));
    expect(forC.filter((g) => g.tenant_id === projectC).map((g) => [g.id, g.name])).toEqual([[defaultSecurityGroupId(projectC), 'default']]);
  });

  it('creates a group with the two egress rules, shows, updates and deletes it', async () => {
    const web = await securityGroups.create!(A(), { name: 'web', description: 'front end' });
    expect(web).toMatchObject({ name: 'web', description: 'front end', tenant_id: PROJECT_A, stateful: true, revision_number: 1 });
    expect(rulesOf(web).map((r) => [r.direction, r.ethertype, r.protocol, r.remote_ip_prefix])).toEqual([
      ['egress', 'IPv4', null, null],
      ['egress', 'IPv6', null, null],
    ]);
    expect(await securityGroups.show(A(), web.id as string)).toEqual(web);
    const renamed = await securityGroups.update!(A(), web.id as string, { name: 'www' }, 1);
    expect(renamed).toMatchObject({ name: 'www', revision_number: 2 });
    expect(await refused(() => securityGroups.update!(A(), web.id as string, { stateful: false }, undefined))).toMatchObject({ status: 400, type: 'InvalidInput' });
    expect(await refused(() => securityGroups.update!(B(), web.id as string, { name: 'mine' }, undefined))).toMatchObject({ status: 404, type: 'SecurityGroupNotFound' });
    expect(await refused(() => securityGroups.delete!(B(), web.id as string))).toMatchObject({ status: 404, type: 'SecurityGroupNotFound' });
    await securityGroups.delete!(A(), web.id as string);
    expect(await refused(() => securityGroups.show(A(), web.id as string))).toEqual({ status: 404, type: 'SecurityGroupNotFound', message: `Security group ${web.id} does not exist` });
  });

  it('creates, shows, lists and deletes rules by their id alone', async () => {
    const web = await securityGroups.create!(A(), { name: 'rules' });
    const ssh = await securityGroupRules.create!(A(), { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', description: 'ssh' });
    expect(ssh).toMatchObject({ security_group_id: web.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', normalized_cidr: '0.0.0.0/0', description: 'ssh', tenant_id: PROJECT_A, revision_number: 0 });
    const ping = await securityGroupRules.create!(A(), { security_group_id: web.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', port_range_min: 128 });
    expect(ping).toMatchObject({ protocol: 'ipv6-icmp', port_range_min: 128, port_range_max: null });
    expect(await securityGroupRules.show(A(), ssh.id as string)).toEqual(ssh);
    const listed = await securityGroupRules.list(A(), new Map([['security_group_id', [web.id as string]]]));
    expect(listed.map((r) => r.id)).toEqual([...rulesOf(await securityGroups.show(A(), web.id as string)).map((r) => r.id)]);
    expect(listed).toHaveLength(4);
    expect((await securityGroupRules.list(B(), new Map([['security_group_id', [web.id as string]]])))).toEqual([]);
    expect((await securityGroupRules.list(A(), new Map())).some((r) => r.id === ssh.id)).toBe(true);

    expect(await refused(() => securityGroupRules.create!(A(), { security_group_id: web.id, direction: 'ingress', protocol: '6', port_range_min: 22, port_range_max: '22', remote_ip_prefix: '0.0.0.0/0' }))).toEqual({
      status: 409,
      type: 'SecurityGroupRuleExists',
      message: `Security group rule already exists. Rule id is ${ssh.id}.`,
    });
    expect(await refused(() => securityGroupRules.show(B(), ssh.id as string))).toEqual({ status: 404, type: 'SecurityGroupRuleNotFound', message: `Security group rule ${ssh.id} does not exist` });
    expect(await refused(() => securityGroupRules.delete!(B(), ssh.id as string))).toMatchObject({ status: 404, type: 'SecurityGroupRuleNotFound' });
    await securityGroupRules.delete!(A(), ssh.id as string);
    expect(await refused(() => securityGroupRules.show(A(), ssh.id as string))).toMatchObject({ status: 404, type: 'SecurityGroupRuleNotFound' });
    expect((await securityGroups.show(A(), web.id as string)).revision_number).toBe(4);
  });

  it("refuses invalid rules with Neutron's exception types, writing nothing", async () => {
    const g = (await securityGroups.create!(A(), { name: 'invalid' })).id;
    const theirs = (await securityGroups.create!(B(), { name: 'theirs' })).id;
    const rule = (extra: Json) => () => securityGroupRules.create!(A(), { security_group_id: g, direction: 'ingress', ...extra });
    const cases: [string, Json, number, string][] = [
      ['min above max', { protocol: 'tcp', port_range_min: 90, port_range_max: 80 }, 400, 'SecurityGroupInvalidPortRange'],
      ['one bound', { protocol: 'udp', port_range_min: 90 }, 400, 'SecurityGroupInvalidPortRange'],
      ['port 0', { protocol: 'tcp', port_range_min: 0, port_range_max: 10 }, 400, 'SecurityGroupInvalidPortValue'],
      ['port 65536', { protocol: 'tcp', port_range_min: 1, port_range_max: 65536 }, 400, 'SecurityGroupInvalidPortValue'],
      ['ports without protocol', { port_range_min: 22, port_range_max: 22 }, 400, 'SecurityGroupProtocolRequiredWithPorts'],
      ['icmp type 300', { protocol: 'icmp', port_range_min: 300 }, 400, 'SecurityGroupInvalidIcmpValue'],
      ['icmp code without type', { protocol: 'icmp', port_range_max: 3 }, 400, 'SecurityGroupMissingIcmpType'],
      ['ipv6-icmp in IPv4', { protocol: 'ipv6-icmp' }, 400, 'SecurityGroupEthertypeConflictWithProtocol'],
      ['both remotes', { remote_ip_prefix: '10.0.0.0/8', remote_group_id: g }, 400, 'SecurityGroupMultipleRemoteEntites'],
      ['CIDR of the other family', { remote_ip_prefix: '2001:db8::/32' }, 400, 'SecurityGroupRuleParameterConflict'],
      ['bad CIDR', { remote_ip_prefix: '10.0.0.0/40' }, 400, 'InvalidCIDR'],
      ['unsupported protocol', { protocol: 'gre' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      ['bad ethertype', { ethertype: 'IPv5' }, 400, 'SecurityGroupRuleInvalidEtherType'],
      ["another project's remote group", { remote_group_id: theirs }, 404, 'SecurityGroupNotFound'],
      ["another project's group", { security_group_id: theirs }, 404, 'SecurityGroupNotFound'],
    ];
    for (const [what, extra, status, type] of cases) {
      expect(await refused(rule(extra)), what).toMatchObject({ status, type });
    }
  });

  it("refuses the default group's deletion by a member, renaming it, its name, and deleting a group in use", async () => {
    const id = defaultSecurityGroupId(PROJECT_A);
    expect(await refused(() => securityGroups.delete!(A(), id))).toEqual({ status: 409, type: 'SecurityGroupCannotRemoveDefault', message: 'Insufficient rights for removing default security group.' });
    expect(await refused(() => securityGroups.update!(A(), id, { name: 'other' }, undefined))).toMatchObject({ status: 409, type: 'SecurityGroupCannotUpdateDefault' });
    expect(await refused(() => securityGroups.create!(A(), { name: 'default' }))).toMatchObject({ status: 409, type: 'SecurityGroupDefaultAlreadyExists' });
    const app = (await securityGroups.create!(A(), { name: 'app' })).id as string;
    const db = (await securityGroups.create!(A(), { name: 'db' })).id as string;
    await securityGroupRules.create!(A(), { security_group_id: db, direction: 'ingress', remote_group_id: app });
    expect(await refused(() => securityGroups.delete!(A(), app))).toEqual({ status: 409, type: 'SecurityGroupInUse', message: `Security Group ${app} in use.` });
  });
});
