/**
 * Security groups and rules over the wire: the real Neutron HTTP server on
 * the production control plane (startNeutronStack), as the openstack CLI
 * drives it — the default group on a project's first listing, exactly
 * Neutron's keys, fields/filters, bulk rules all or nothing, If-Match,
 * tenancy (404), the reader (403), and each refusal's status and
 * NeutronError with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from '../../test/stack.js';
import { securityGroupResources } from './index.js';

const GROUP_KEYS = ['created_at', 'description', 'id', 'name', 'project_id', 'revision_number', 'security_group_rules', 'shared', 'stateful', 'tenant_id', 'updated_at'];
const RULE_KEYS = [
  'created_at',
  'description',
  'direction',
  'ethertype',
  'id',
  'normalized_cidr',
  'port_range_max',
  'port_range_min',
  'project_id',
  'protocol',
  'remote_address_group_id',
  'remote_group_id',
  'remote_ip_prefix',
  'revision_number',
  'security_group_id',
  'tenant_id',
  'updated_at',
];

describe('Neutron security groups over the wire', () => {
  let stack: NeutronStack;
  let alice: StackLogin;
  let bob: StackLogin;
  let reader: StackLogin;

  beforeAll(async () => {
    stack = await startNeutronStack({ resources: securityGroupResources });
    alice = await stack.login('project-a', 'alice', 'member');
    bob = await stack.login('project-b', 'bob', 'member');
    reader = await stack.login('project-a', 'rita', 'reader');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const get = (who: StackLogin, path: string) => stack.request('GET', `/v2.0/${path}`, { token: who.token });
  const post = (who: StackLogin, path: string, body: unknown) => stack.request('POST', `/v2.0/${path}`, { token: who.token, body });

  /** A refused request: its status and NeutronError, and nothing written. */
  async function refused(call: () => Promise<StackResponse>, status: number, type: string, message?: string): Promise<void> {
    const before = await stack.lastSeq();
    const r = await call();
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.NeutronError.type).toBe(type);
    if (message !== undefined) expect(r.body.NeutronError.message).toBe(message);
    expect(await stack.writtenBy(r, before), `${type} wrote`).toEqual([]);
  }

  it("declares the extensions it implements", async () => {
    const r = await get(alice, 'extensions');
    const aliases = (r.body.extensions as { alias: string }[]).map((e) => e.alias);
    expect(aliases).toEqual(expect.arrayContaining(['security-group', 'stateful-security-group', 'security-groups-normalized-cidr']));
    expect((await get(alice, 'extensions/stateful-security-group')).body.extension).toMatchObject({ name: 'Stateful security group' });
  });

  it("lists a new project's default group (made on that first use), with exactly Neutron's keys; fields gives exactly the named ones", async () => {
    const r = await get(alice, 'security-groups');
    expect(r.status).toBe(200);
    const [group] = r.body.security_groups;
    expect(r.body.security_groups).toHaveLength(1);
    expect(Object.keys(group).sort()).toEqual(GROUP_KEYS);
    expect(group).toMatchObject({ name: 'default', description: 'Default security group', tenant_id: alice.projectId, stateful: true, shared: false });
    expect(group.security_group_rules).toHaveLength(4);
    expect(Object.keys(group.security_group_rules[0]).sort()).toEqual(RULE_KEYS);
    expect(group.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const named = await get(alice, 'security-groups?fields=id&fields=name&name=default');
    expect(named.body.security_groups).toEqual([{ id: group.id, name: 'default' }]);
    // A reader's listing shows the same group; bob's project has its own.
    expect((await get(reader, 'security-groups')).body.security_groups.map((g: { id: string }) => g.id)).toEqual([group.id]);
    const bobs = (await get(bob, 'security-groups')).body.security_groups;
    expect(bobs.map((g: { name: string; tenant_id: string }) => [g.name, g.tenant_id])).toEqual([['default', bob.projectId]]);
  });

  it('creates a group and rules, filters rules, deletes a rule by its id, and hides them from other projects', async () => {
    const created = await post(alice, 'security-groups', { security_group: { name: 'web', description: 'front end' } });
    expect(created.status).toBe(201);
    const web = created.body.security_group;
    expect(Object.keys(web).sort()).toEqual(GROUP_KEYS);
    expect(web.security_group_rules.map((r: { direction: string; ethertype: string }) => `${r.direction}/${r.ethertype}`)).toEqual(['egress/IPv4', 'egress/IPv6']);

    const ssh = await post(alice, 'security-group-rules', {
      security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' },
    });
    expect(ssh.status, JSON.stringify(ssh.body)).toBe(201);
    const rule = ssh.body.security_group_rule;
    expect(Object.keys(rule).sort()).toEqual(RULE_KEYS);
    expect(rule).toMatchObject({ security_group_id: web.id, protocol: 'tcp', port_range_min: 22, port_range_max: 22, ethertype: 'IPv4', project_id: alice.projectId });
    expect((await get(alice, `security-group-rules/${rule.id}`)).body.security_group_rule).toEqual(rule);
    const ingress = await get(alice, `security-group-rules?security_group_id=${web.id}&direction=ingress`);
    expect(ingress.body.security_group_rules).toEqual([rule]);
    expect((await get(alice, `security-groups/${web.id}`)).body.security_group.revision_number).toBe(2);

    await refused(() => get(bob, `security-groups/${web.id}`), 404, 'SecurityGroupNotFound', `Security group ${web.id} does not exist`);
    await refused(() => get(bob, `security-group-rules/${rule.id}`), 404, 'SecurityGroupRuleNotFound', `Security group rule ${rule.id} does not exist`);
    await refused(() => stack.request('DELETE', `/v2.0/security-group-rules/${rule.id}`, { token: bob.token }), 404, 'SecurityGroupRuleNotFound');
    await refused(() => post(bob, 'security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'ingress' } }), 404, 'SecurityGroupNotFound');
    expect((await get(bob, `security-group-rules?security_group_id=${web.id}`)).body.security_group_rules).toEqual([]);

    await refused(
      () => post(alice, 'security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: '6', port_range_min: '22', port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' } }),
      409,
      'SecurityGroupRuleExists',
      `Security group rule already exists. Rule id is ${rule.id}.`,
    );

    // No remote prefix is the same peer as 0.0.0.0/0 (Neutron's duplicate check).
    await refused(
      () => post(alice, 'security-group-rules', { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 } }),
      409,
      'SecurityGroupRuleExists',
    );

    expect((await stack.request('DELETE', `/v2.0/security-group-rules/${rule.id}`, { token: alice.token })).status).toBe(204);
    await refused(() => get(alice, `security-group-rules/${rule.id}`), 404, 'SecurityGroupRuleNotFound');
  });

  it("listing a new project's rules is its first use: its default group's rules are there", async () => {
    const dave = await stack.login('project-d', 'dave', 'member');
    const rules = (await get(dave, 'security-group-rules')).body.security_group_rules;
    expect(rules.map((r: { direction: string; ethertype: string }) => `${r.direction}/${r.ethertype}`).sort()).toEqual(['egress/IPv4', 'egress/IPv6', 'ingress/IPv4', 'ingress/IPv6']);
    const before = await stack.lastSeq();
    const again = await get(dave, 'security-group-rules');
    expect(again.body.security_group_rules).toEqual(rules);
    expect(await stack.writtenBy(again, before), 'a second listing wrote').toEqual([]);
  });

  it("a project's first group comes with its default group", async () => {
    const carol = await stack.login('project-c', 'carol', 'member');
    const before = await stack.lastSeq();
    const first = await post(carol, 'security-groups', { security_group: { name: 'first' } });
    expect(first.status).toBe(201);
    // Two events: the default group, then the new one; the listing after it has nothing left to make.
    expect(await stack.writtenBy(first, before)).toHaveLength(2);
    const listing = await get(carol, 'security-groups');
    expect(listing.body.security_groups.map((g: { name: string }) => g.name).sort()).toEqual(['default', 'first']);
    expect(await stack.writtenBy(listing, before)).toEqual([]);
  });

  it('bulk-creates rules all or nothing', async () => {
    const g = (await post(alice, 'security-groups', { security_group: { name: 'bulk' } })).body.security_group;
    const tcp = (port: number) => ({ security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: port, port_range_max: port });
    const ok = await post(alice, 'security-group-rules', { security_group_rules: [tcp(80), tcp(443)] });
    expect(ok.status).toBe(201);
    expect(ok.body.security_group_rules.map((r: { port_range_min: number }) => r.port_range_min)).toEqual([80, 443]);
    const failed = await post(alice, 'security-group-rules', { security_group_rules: [tcp(8080), tcp(80)] });
    expect(failed.status).toBe(409);
    expect(failed.body.NeutronError.type).toBe('SecurityGroupRuleExists');
    const ports = (await get(alice, `security-group-rules?security_group_id=${g.id}&protocol=tcp`)).body.security_group_rules.map((r: { port_range_min: number }) => r.port_range_min);
    expect(ports.sort()).toEqual([443, 80]);
  });

  it('updates a group with If-Match (412 when stale); a reader writes nothing (403)', async () => {
    const g = (await post(alice, 'security-groups', { security_group: { name: 'upd' } })).body.security_group;
    const put = (body: unknown, headers: Record<string, string> = {}, who = alice) => stack.request('PUT', `/v2.0/security-groups/${g.id}`, { token: who.token, body, headers });
    const renamed = await put({ security_group: { name: 'upd2' } }, { 'If-Match': `revision_number=${g.revision_number}` });
    expect(renamed.status).toBe(200);
    expect(renamed.body.security_group).toMatchObject({ name: 'upd2', revision_number: g.revision_number + 1 });
    await refused(() => put({ security_group: { name: 'upd3' } }, { 'If-Match': `revision_number=${g.revision_number}` }), 412, 'RevisionNumberConstraintFailed');
    await refused(() => put({ security_group: { name: 'mine' } }, {}, reader), 403, 'PolicyNotAuthorized');
    await refused(() => post(reader, 'security-groups', { security_group: { name: 'r' } }), 403, 'PolicyNotAuthorized');
  });

  it("refuses invalid requests with Neutron's status and type", async () => {
    const g = (await post(alice, 'security-groups', { security_group: { name: 'bad' } })).body.security_group;
    const rule = (extra: object) => () => post(alice, 'security-group-rules', { security_group_rule: { security_group_id: g.id, direction: 'ingress', ...extra } });
    const defaultId = (await get(alice, 'security-groups?name=default')).body.security_groups[0].id;
    await refused(() => post(alice, 'security-group-rules', { security_group_rule: { security_group_id: g.id } }), 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'direction' not specified");
    await refused(rule({ remote_address_group_id: g.id }), 400, 'HTTPBadRequest', "Attribute 'remote_address_group_id' not allowed in POST");
    await refused(rule({ protocol: 'tcp', port_range_min: 90, port_range_max: 80 }), 400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    await refused(rule({ port_range_min: 22, port_range_max: 22 }), 400, 'SecurityGroupProtocolRequiredWithPorts');
    await refused(rule({ protocol: 'icmp', port_range_min: 256 }), 400, 'SecurityGroupInvalidIcmpValue');
    await refused(rule({ remote_ip_prefix: '2001:db8::/32' }), 400, 'SecurityGroupRuleParameterConflict', 'Conflicting value ethertype IPv4 for CIDR 2001:db8::/32');
    await refused(rule({ protocol: 'sctp' }), 400, 'SecurityGroupRuleInvalidProtocol');
    await refused(rule({ remote_group_id: '00000000-0000-4000-8000-00000000dead' }), 404, 'SecurityGroupNotFound');
    await refused(() => post(alice, 'security-groups', { security_group: { name: 'x', stateful: false } }), 400, 'InvalidInput');
    await refused(() => post(alice, 'security-groups', { security_group: { name: 'default' } }), 409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    await refused(() => stack.request('DELETE', `/v2.0/security-groups/${defaultId}`, { token: alice.token }), 409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
    await refused(() => stack.request('PUT', `/v2.0/security-groups/${defaultId}`, { token: alice.token, body: { security_group: { name: 'other' } } }), 409, 'SecurityGroupCannotUpdateDefault');
    const app = (await post(alice, 'security-groups', { security_group: { name: 'app' } })).body.security_group;
    expect((await rule({ remote_group_id: app.id })()).status).toBe(201);
    await refused(() => stack.request('DELETE', `/v2.0/security-groups/${app.id}`, { token: alice.token }), 409, 'SecurityGroupInUse', `Security Group ${app.id} in use.`);
    await refused(() => get(alice, 'security-groups/00000000-0000-4000-8000-00000000dead'), 404, 'SecurityGroupNotFound');
    // A name in an id's place is not found (the CLI then looks the name up), as in Neutron.
    await refused(() => get(alice, 'security-groups/default'), 404, 'SecurityGroupNotFound', 'Security group default does not exist');
    await refused(() => get(alice, 'security-group-rules/not-a-uuid'), 404, 'SecurityGroupRuleNotFound');
    await refused(() => stack.request('DELETE', '/v2.0/security-groups/web', { token: alice.token }), 404, 'SecurityGroupNotFound');
    await refused(rule({ remote_group_id: 'web' }), 404, 'SecurityGroupNotFound', 'Security group web does not exist');
    await refused(() => post(alice, 'security-group-rules', { security_group_rule: { security_group_id: 'web', direction: 'ingress' } }), 404, 'SecurityGroupNotFound');
    expect((await get(alice, 'security-group-rules?security_group_id=web')).body.security_group_rules).toEqual([]);
  });
});
