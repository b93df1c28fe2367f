/**
 * Secgroup's commands over NATS against a real IPAM: every invalid input is
 * refused with its code and writes no event, and the three-tier example
 * (web/app/db) can be built and its membership set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { defaultSecurityGroupId, type PortView, type SecgroupCommandInput, type SecgroupCommandName } from '@strata/contracts';
import { JetStreamEventStore } from '@strata/eventlog';
import type { ManagedProcess } from '@strata/lab';
import { startProvisionedNats } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { expectRefusedWithoutEvents } from '@strata/testing/refusals';
import { ADMIN, IpamClient, SecgroupClient, startIpam, startSecgroup, type Principal } from './test/support.js';

const tenantA: Principal = { tenant: 'tenant-a', admin: false };
const tenantB: Principal = { tenant: 'tenant-b', admin: false };
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('secgroup commands', () => {
  let nats: StrataNats;
  let ipam: ManagedProcess;
  let secgroup: ManagedProcess;
  let ipamClient: IpamClient;
  let sg: SecgroupClient;
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let networkId: string;

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    secgroup = startSecgroup(nats.url, nats.env('secgroup'));
    await Promise.all([ipam.ready, secgroup.ready]);
    ipamClient = new IpamClient(await nats.connect('api'));
    sg = new SecgroupClient(await nats.connect('api'));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    networkId = (await ipamClient.command('network.create', { name: 'n' }, tenantA)).id;
    await ipamClient.command('subnet.create', { networkId, cidr: '10.0.0.0/24' }, tenantA);
  });

  afterAll(async () => {
    await ipamClient?.close();
    await sg?.close();
    await nc?.close();
    await secgroup?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  /** An IPAM port of tenant A, once the reactor has put it in the default group (so the log is quiet afterwards). */
  async function port(name: string): Promise<PortView> {
    const p = await ipamClient.command('port.create', { networkId, name }, tenantA);
    sg.observe(ipamClient.lastSeq);
    await waitFor(async () => (await sg.query('port.get', { portId: p.id }, tenantA)).groupIds.length > 0, {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: `default membership of ${p.id}`,
    });
    return p;
  }

  it('refuses every invalid input with its code and writes no event', async () => {
    const p = await port('vm');
    const web = await sg.command('group.create', { name: 'web' }, tenantA);
    const app = await sg.command('group.create', { name: 'app' }, tenantA);
    const theirs = await sg.command('group.create', { name: 'theirs' }, tenantB);
    await sg.command('rule.create', { groupId: web.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 443, portMax: 443 }, tenantA);
    await sg.command('port.setGroups', { portId: p.id, groupIds: [defaultSecurityGroupId('tenant-a'), web.id] }, tenantA);
    const many = await Promise.all(Array.from({ length: 17 }, (_, i) => sg.command('group.create', { name: `g${i}` }, tenantA)));

    const tcp = { groupId: web.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp' } as const;
    const cases: Array<[string, SecgroupCommandName, SecgroupCommandInput<SecgroupCommandName>, Principal, string, RegExp]> = [
      ['unknown group', 'rule.create', { ...tcp, groupId: MISSING }, tenantA, 'NOT_FOUND', /security group .* not found/],
      ['unknown remote group', 'rule.create', { ...tcp, remoteGroupId: MISSING }, tenantA, 'NOT_FOUND', new RegExp(`security group ${MISSING} not found`)],
      ['port range 0', 'rule.create', { ...tcp, portMin: 0, portMax: 10 }, tenantA, 'INVALID_ARGUMENT', /portMin/],
      ['port 65536', 'rule.create', { ...tcp, portMin: 1, portMax: 65536 }, tenantA, 'INVALID_ARGUMENT', /portMax/],
      ['min above max', 'rule.create', { ...tcp, portMin: 90, portMax: 80 }, tenantA, 'INVALID_ARGUMENT', /portMin 90 is above portMax 80/],
      ['bad CIDR', 'rule.create', { ...tcp, remoteCidr: '10.0.0.0/40' }, tenantA, 'INVALID_ARGUMENT', /remoteCidr/],
      ['CIDR with host bits', 'rule.create', { ...tcp, remoteCidr: '10.0.0.1/8' }, tenantA, 'INVALID_ARGUMENT', /did you mean 10.0.0.0\/8/],
      ['CIDR family mismatch', 'rule.create', { ...tcp, remoteCidr: '2001:db8::/48' }, tenantA, 'INVALID_ARGUMENT', /IPv6 prefix but the rule's ethertype is IPv4/],
      ["other tenant's remote group", 'rule.create', { ...tcp, remoteGroupId: theirs.id }, tenantA, 'NOT_FOUND', new RegExp(`security group ${theirs.id} not found`)],
      ['both remote kinds', 'rule.create', { ...tcp, remoteGroupId: app.id, remoteCidr: '10.0.0.0/8' }, tenantA, 'INVALID_ARGUMENT', /exclusive/],
      ['duplicate rule', 'rule.create', { ...tcp, portMin: 443 }, tenantA, 'ALREADY_EXISTS', /already has this rule/],
      ['icmp with IPv6', 'rule.create', { ...tcp, ethertype: 'IPv6', protocol: 'icmp' }, tenantA, 'INVALID_ARGUMENT', /icmpv6/],
      ['missing direction', 'rule.create', { groupId: web.id, ethertype: 'IPv4' } as never, tenantA, 'INVALID_ARGUMENT', /direction/],
      ["other tenant's group", 'rule.create', { ...tcp, groupId: theirs.id }, tenantA, 'NOT_FOUND', /not found/],
      ["other tenant's group in setGroups", 'port.setGroups', { portId: p.id, groupIds: [theirs.id] }, tenantA, 'NOT_FOUND', /not found/],
      ['17 groups', 'port.setGroups', { portId: p.id, groupIds: many.map((g) => g.id) }, tenantA, 'INVALID_ARGUMENT', /at most 16/],
      ["other tenant's port", 'port.setGroups', { portId: p.id, groupIds: [] }, tenantB, 'NOT_FOUND', /port .* not found/],
      ['unknown port', 'port.setSecurity', { portId: MISSING, enabled: false }, tenantA, 'NOT_FOUND', /port .* not found/],
      ['group with a member', 'group.delete', { id: web.id }, tenantA, 'FAILED_PRECONDITION', new RegExp(`member port\\(s\\): ${p.id}`)],
      ['default group while ports exist', 'group.delete', { id: defaultSecurityGroupId('tenant-a') }, ADMIN, 'FAILED_PRECONDITION', /still has 1 port/],
      ['default group by a member', 'group.delete', { id: defaultSecurityGroupId('tenant-a') }, tenantA, 'FAILED_PRECONDITION', /only an admin may delete it/],
      ['default group of another tenant', 'group.ensureDefault', { tenant: 'tenant-b' }, tenantA, 'PERMISSION_DENIED', /may not create/],
      ['group for another tenant', 'group.create', { name: 'x', tenant: 'tenant-b' }, tenantA, 'PERMISSION_DENIED', /may not create/],
      ['reserved name', 'group.create', { name: 'default' }, tenantA, 'INVALID_ARGUMENT', /reserved/],
      ['unknown rule', 'rule.delete', { groupId: web.id, ruleId: MISSING }, tenantA, 'NOT_FOUND', /not found/],
    ];
    for (const [what, op, body, who, code, message] of cases) {
      const before = await store.lastSeq();
      const err = await sg.command(op, body as never, who).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err, what).toBeDefined();
      expect(err!.code, what).toBe(code);
      expect(err!.message, what).toMatch(message);
      expect(await store.lastSeq(), `${what} wrote an event`).toBe(before);
    }
  });

  it('builds the three-tier example: any → web tcp/443, web → app tcp/9000, app → db tcp/5432', async () => {
    const web = await sg.command('group.create', { name: 'web', description: 'front end' }, tenantA);
    const app = await sg.command('group.create', { name: 'app', description: 'application servers' }, tenantA);
    const db = await sg.command('group.create', { name: 'db', description: 'database' }, tenantA);
    const tcp = (groupId: string, port: number, remoteGroupId?: string) =>
      sg.command('rule.create', { groupId, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: port, portMax: port, ...(remoteGroupId ? { remoteGroupId } : {}) }, tenantA);
    const r443 = await tcp(web.id, 443);
    const r9000 = await tcp(app.id, 9000, web.id);
    const r5432 = await tcp(db.id, 5432, app.id);
    expect(r443).toMatchObject({ protocol: 'tcp', portMin: 443, portMax: 443, remoteGroupId: null, remoteCidr: null });
    expect(r9000.remoteGroupId).toBe(web.id);
    expect(r5432.remoteGroupId).toBe(app.id);

    const [vWeb, vApp, vDb] = [await port('web-1'), await port('app-1'), await port('db-1')];
    for (const [vm, group] of [[vWeb, web], [vApp, app], [vDb, db]] as const) {
      const view = await sg.command('port.setGroups', { portId: vm.id, groupIds: [group.id] }, tenantA);
      expect(view).toEqual({ portId: vm.id, tenant: 'tenant-a', groupIds: [group.id], portSecurity: true, revision: 2 });
    }
    expect(await sg.query('group.get', { id: app.id }, tenantA)).toMatchObject({ name: 'app', rules: [{ id: r9000.id, remoteGroupId: web.id }] });
    const listed = await sg.query('group.list', {}, tenantA);
    expect(listed.items.map((g) => g.name)).toEqual(expect.arrayContaining(['default', 'web', 'app', 'db']));
    expect((await sg.query('group.list', {}, tenantB)).items.every((g) => g.tenant === 'tenant-b')).toBe(true);

    // web is referenced by app's rule and has a member: both block its deletion, naming what blocks.
    await expect(sg.command('group.delete', { id: web.id }, tenantA)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining(vWeb.id) });
    await sg.command('port.setGroups', { portId: vWeb.id, groupIds: [] }, tenantA);
    await expect(sg.command('group.delete', { id: web.id }, tenantA)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining(`${app.id} (app)`) });
    await sg.command('rule.delete', { groupId: app.id, ruleId: r9000.id }, tenantA);
    expect(await sg.command('group.delete', { id: web.id }, tenantA)).toEqual({ id: web.id });

    // Port security is anti-spoofing, on by default.
    expect(await sg.command('port.setSecurity', { portId: vDb.id, enabled: false }, tenantA)).toMatchObject({ portSecurity: false, groupIds: [db.id] });
  });

  it('updates a group and a port\'s security: revisions, only real changes write, stale or immutable refused without events', async () => {
    const web = await sg.command('group.create', { name: 'web', description: 'front end' }, tenantA);
    expect(web.revision).toBe(1);
    const renamed = await sg.command('group.update', { id: web.id, name: 'www', expectedRevision: 1 }, tenantA);
    expect(renamed).toMatchObject({ name: 'www', description: 'front end', revision: 2 });
    await sg.command('rule.create', { groupId: web.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 80 }, tenantA);
    expect((await sg.query('group.get', { id: web.id }, tenantA)).revision).toBe(3);
    const vm = await port('upd-1');
    const sec = await sg.query('port.get', { portId: vm.id }, tenantA);
    expect(sec.revision).toBe(1);

    // The current values again: answered as they are, nothing written.
    const before = await store.lastSeq();
    expect(await sg.command('group.update', { id: web.id, name: 'www', description: 'front end', expectedRevision: 3 }, tenantA)).toMatchObject({ revision: 3 });
    expect(await sg.command('port.setSecurity', { portId: vm.id, enabled: true, expectedRevision: 1 }, tenantA)).toMatchObject({ revision: 1 });
    expect(await store.lastSeq()).toBe(before);

    await expectRefusedWithoutEvents(store, [
      {
        what: 'stale group revision',
        attempt: () => sg.command('group.update', { id: web.id, name: 'w3', expectedRevision: 2 }, tenantA),
        code: 'FAILED_PRECONDITION',
        message: `security group ${web.id} is at revision 3, not the expected 2: read it again and retry`,
      },
      {
        what: 'stale port security revision',
        attempt: () => sg.command('port.setGroups', { portId: vm.id, groupIds: [web.id], expectedRevision: 7 }, tenantA),
        code: 'FAILED_PRECONDITION',
        message: `port security of port ${vm.id} is at revision 1, not the expected 7: read it again and retry`,
      },
      {
        what: 'tenant of a group',
        attempt: () => sg.command('group.update', { id: web.id, tenant: 'tenant-b' } as never, tenantA),
        code: 'INVALID_ARGUMENT',
        message: "invalid request: tenant: cannot be changed: a security group's tenant is fixed at creation",
      },
      { what: "other tenant's group", attempt: () => sg.command('group.update', { id: web.id, name: 'mine' }, tenantB), code: 'NOT_FOUND', message: /not found/ },
      { what: 'reserved name', attempt: () => sg.command('group.update', { id: web.id, name: 'default' }, tenantA), code: 'INVALID_ARGUMENT', message: /reserved/ },
    ]);
    const moved = await sg.command('port.setGroups', { portId: vm.id, groupIds: [web.id], expectedRevision: 1 }, tenantA);
    expect(moved).toMatchObject({ groupIds: [web.id], revision: 2 });
  });

  it("serves Neutron's needs: the default group on first use, a rule by its id alone, descriptions and egress rules", async () => {
    const tenantC: Principal = { tenant: 'tenant-c', admin: false };
    const first = await sg.command('group.ensureDefault', {}, tenantC);
    expect(first).toMatchObject({ id: defaultSecurityGroupId('tenant-c'), name: 'default', isDefault: true, revision: 1 });
    expect(first.rules).toHaveLength(4);
    const before = await store.lastSeq();
    expect(await sg.command('group.ensureDefault', {}, tenantC)).toEqual(first);
    expect(await store.lastSeq(), 'a second ensureDefault wrote').toBe(before);

    const web = await sg.command('group.create', { name: 'web', egressRules: true }, tenantC);
    expect(web.rules.map((r) => [r.direction, r.ethertype, r.protocol])).toEqual([['egress', 'IPv4', 'any'], ['egress', 'IPv6', 'any']]);
    const rule = await sg.command('rule.create', { groupId: web.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', portMin: 22, portMax: 22, description: 'ssh' }, tenantC);
    expect(rule).toMatchObject({ groupId: web.id, tenant: 'tenant-c', description: 'ssh', portMin: 22 });
    expect(await sg.query('rule.get', { id: rule.id }, tenantC)).toEqual(rule);
    await expect(sg.query('rule.get', { id: rule.id }, tenantA)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const untouched = await store.lastSeq();
    await expect(sg.command('rule.delete', { ruleId: rule.id }, tenantA)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `security group rule ${rule.id} not found` });
    expect(await store.lastSeq(), "another tenant's delete wrote").toBe(untouched);
    expect(await sg.command('rule.delete', { ruleId: rule.id }, tenantC)).toEqual({ id: rule.id });
    await expect(sg.query('rule.get', { id: rule.id }, tenantC)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `security group rule ${rule.id} not found` });
    expect((await sg.query('group.get', { id: web.id }, tenantC)).revision).toBe(3);
  });
});
