/**
 * Security groups end to end: `strata` CLI → gRPC api → NATS → the real
 * secgroup service (and real IPAM for the ports), as child processes on a
 * real nats-server. The three-tier example, tenant isolation, and what a
 * user sees for invalid rules.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSecurityGroupId } from '@strata/contracts';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { waitFor, type StrataNats } from '@strata/testing';
import { startApi, type ApiHarness } from '../support/api.js';
import { startIpam, type IpamProcess } from '../support/ipam.js';

const SECGROUP_MAIN = fileURLToPath(new URL('../../services/secgroup/dist/main.js', import.meta.url));
const MISSING = '00000000-0000-4000-8000-00000000dead';

interface Group {
  id: string;
  tenant: string;
  name: string;
  description: string;
  isDefault: boolean;
  rules: Rule[];
  createdAt: string;
  revision: number;
}
interface Rule {
  id: string;
  direction: string;
  ethertype: string;
  protocol: string;
  portMin?: number;
  portMax?: number;
  remoteGroupId?: string;
  remoteCidr?: string;
}
interface PortSecurity {
  portId: string;
  tenant: string;
  groupIds: string[];
  portSecurity: boolean;
}

/** A secgroup instance; short reactor timings as in the service's own suites. */
function startSecgroup(natsEnv: Record<string, string>): ManagedProcess {
  return startProcess('secgroup', [process.execPath, SECGROUP_MAIN], {
    env: {
      ...natsEnv,
      STRATA_LOG_LEVEL: 'info',
      STRATA_HTTP_PORT: '0',
      SECGROUP_REACTOR_ACK_WAIT_MS: '2000',
      SECGROUP_REACTOR_RETRY_MS: '200',
    },
  });
}

describe('security groups through the API and CLI', () => {
  let nats: StrataNats;
  let ipam: IpamProcess;
  let secgroup: ManagedProcess;
  let api: ApiHarness;
  let a: string;
  let b: string;
  const ports: Record<'web' | 'app' | 'db', string> = { web: '', app: '', db: '' };
  const groups: Record<'web' | 'app' | 'db', Group> = {} as never;

  /** The number of events in the log (as the admin sees it): a refused command must not change it. */
  async function eventCount(): Promise<number> {
    return (await api.json<{ events: unknown[] }>(api.tokens.admin, ['events', 'list', '--limit', '10000'])).events.length;
  }

  beforeAll(async () => {
    nats = await startProvisionedNats();
    ipam = startIpam(nats.url, nats.env('ipam'));
    secgroup = startSecgroup(nats.env('secgroup'));
    await Promise.all([ipam.ready, secgroup.ready]);
    api = await startApi(nats.options('api'), ['tenant-a', 'tenant-b']);
    a = api.tokens['tenant-a']!;
    b = api.tokens['tenant-b']!;

    const network = await api.json<{ id: string }>(a, ['network', 'create', '--name', 'three-tier']);
    await api.json(a, ['subnet', 'create', '--network', network.id, '--cidr', '10.0.0.0/24']);
    for (const tier of ['web', 'app', 'db'] as const) {
      ports[tier] = (await api.json<{ id: string }>(a, ['port', 'create', '--network', network.id, '--name', `${tier}-1`])).id;
    }
    // secgroup's reactor puts every new port into the tenant's default group; wait for it, so it cannot land later.
    for (const id of Object.values(ports)) {
      await waitFor(async () => (await api.json<PortSecurity>(a, ['port', 'security', id])).groupIds.length > 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: `default group membership of port ${id}`,
      });
    }
  });

  afterAll(async () => {
    await api?.stop();
    await secgroup?.stop();
    await ipam?.stop();
    await nats?.stop();
  });

  it('builds the three-tier example: any → web tcp/443, web → app tcp/9000, app → db tcp/5432', async () => {
    for (const [tier, description] of [['web', 'front end'], ['app', 'application servers'], ['db', 'database']] as const) {
      groups[tier] = await api.json<Group>(a, ['secgroup', 'create', '--name', tier, '--description', description]);
      expect(groups[tier]).toMatchObject({ tenant: 'tenant-a', name: tier, description, isDefault: false, rules: [] });
    }
    const { web, app, db } = groups;

    const tcp = (group: Group, port: number, from?: Group) =>
      api.json<Rule>(a, [
        'secgroup', 'rule', 'create', group.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', String(port),
        ...(from ? ['--remote-group', from.id] : []),
      ]);
    const r443 = await tcp(web, 443);
    const r9000 = await tcp(app, 9000, web);
    const r5432 = await tcp(db, 5432, app);
    // -o json is the API's message exactly: enum names, and no key for what does not apply.
    expect(r443).toEqual({ id: r443.id, direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: 443, portMax: 443 });
    expect(r9000).toEqual({ ...r443, id: r9000.id, portMin: 9000, portMax: 9000, remoteGroupId: web.id });
    expect(r5432).toMatchObject({ portMin: 5432, portMax: 5432, remoteGroupId: app.id });

    for (const tier of ['web', 'app', 'db'] as const) {
      const set = await api.json<PortSecurity>(a, ['port', 'set-groups', ports[tier], groups[tier].id]);
      // Revision 1 is the reactor's default-group membership; this is the port's second change.
      expect(set).toEqual({ portId: ports[tier], tenant: 'tenant-a', groupIds: [groups[tier].id], portSecurity: true, revision: 2 });
    }

    // Each rule change counts in the group's revision.
    expect(await api.json<Group>(a, ['secgroup', 'show', app.id])).toEqual({ ...app, rules: [r9000], revision: app.revision + 1 });

    // For people: rules as lines, remote groups by name.
    const showApp = await api.cli(a, ['secgroup', 'show', app.id]);
    expect(showApp.code).toBe(0);
    expect(showApp.out).toMatch(/│ NAME\s+│ app\s+│/);
    expect(showApp.out).toContain(`│ ${r9000.id} │ ingress IPv4 tcp 9000 from group web │`);
    expect((await api.cli(a, ['secgroup', 'show', db.id])).out).toContain('ingress IPv4 tcp 5432 from group app');
    expect((await api.cli(a, ['secgroup', 'show', web.id])).out).toContain('ingress IPv4 tcp 443 from any');

    const list = await api.cli(a, ['secgroup', 'list']);
    expect(list.code).toBe(0);
    for (const line of ['ingress IPv4 tcp 443 from any', 'ingress IPv4 tcp 9000 from group web', 'ingress IPv4 tcp 5432 from group app']) {
      expect(list.out).toContain(line);
    }
    // The default group (made by the reactor for the tenant's first port): all egress, ingress from itself.
    expect(list.out).toContain('egress IPv4 any to any');
    expect(list.out).toContain('ingress IPv6 any from group default');
    const listed = await api.json<{ items: Group[]; next: string }>(a, ['secgroup', 'list']);
    expect(listed.items.map((g) => g.name).sort()).toEqual(['app', 'db', 'default', 'web']);
    expect(listed.items.find((g) => g.isDefault)?.id).toBe(defaultSecurityGroupId('tenant-a'));

    const portWeb = await api.cli(a, ['port', 'security', ports.web]);
    expect(portWeb.out).toMatch(new RegExp(`│ GROUPS\\s+│ web \\(${web.id}\\)\\s+│`));
    expect(portWeb.out).toMatch(/│ PORT SECURITY │ on\s+│/);
  });

  it('turns port security off and on, and takes a port out of every group', async () => {
    const db = ports.db;
    expect(await api.json<PortSecurity>(a, ['port', 'set-security', db, 'off'])).toMatchObject({ portSecurity: false, groupIds: [groups.db.id] });
    expect((await api.cli(a, ['port', 'security', db])).out).toMatch(/│ PORT SECURITY │ off\s+│/);
    expect(await api.json<PortSecurity>(a, ['port', 'set-security', db, 'on'])).toMatchObject({ portSecurity: true });

    // Default group, db, security off, on, and now none: its fifth change.
    expect(await api.json<PortSecurity>(a, ['port', 'set-groups', db, '--none'])).toEqual({ portId: db, tenant: 'tenant-a', groupIds: [], portSecurity: true, revision: 5 });
    expect((await api.cli(a, ['port', 'security', db])).out).toMatch(/│ GROUPS\s+│ none \(not filtered\)\s+│/);
    await api.json(a, ['port', 'set-groups', db, groups.db.id]);
  });

  it("keeps tenants apart: another tenant's group or port is NOT_FOUND, for reading and for changing", async () => {
    const web = await api.json<Group>(a, ['secgroup', 'show', groups.web.id]);
    const before = await eventCount();
    const notFound = (what: string) => ({ code: 1, err: expect.stringContaining(`error: NOT_FOUND: ${what} not found`) });

    expect(await api.cli(b, ['secgroup', 'show', web.id])).toMatchObject(notFound(`security group ${web.id}`));
    expect(await api.cli(b, ['secgroup', 'delete', web.id])).toMatchObject(notFound(`security group ${web.id}`));
    const rule = ['--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp', '--port', '22'];
    expect(await api.cli(b, ['secgroup', 'rule', 'create', web.id, ...rule])).toMatchObject(notFound(`security group ${web.id}`));
    expect(await api.cli(b, ['secgroup', 'rule', 'delete', web.id, web.rules[0]!.id])).toMatchObject(notFound(`security group ${web.id}`));
    expect(await api.cli(b, ['port', 'security', ports.web])).toMatchObject(notFound(`port ${ports.web}`));
    expect(await api.cli(b, ['port', 'set-security', ports.web, 'off'])).toMatchObject(notFound(`port ${ports.web}`));
    expect(await api.cli(b, ['port', 'set-groups', ports.web, '--none'])).toMatchObject(notFound(`port ${ports.web}`));

    // Its own group may not name another tenant's group as peer, nor take its ports.
    const mine = await api.json<Group>(b, ['secgroup', 'create', '--name', 'mine']);
    expect(await api.cli(b, ['secgroup', 'rule', 'create', mine.id, ...rule, '--remote-group', web.id])).toMatchObject(notFound(`security group ${web.id}`));
    const listed = await api.json<{ items: Group[] }>(b, ['secgroup', 'list']);
    expect(listed.items.map((g) => g.id)).toEqual([mine.id]);
    // ... nor may the owner put its port into the other tenant's group.
    expect(await api.cli(a, ['port', 'set-groups', ports.web, mine.id])).toMatchObject(notFound(`security group ${mine.id}`));

    // Only `mine` was written; tenant A's things are as they were.
    expect(await eventCount()).toBe(before + 1);
    expect(await api.json<Group>(a, ['secgroup', 'show', web.id])).toEqual(web);
    expect(await api.json<PortSecurity>(a, ['port', 'security', ports.web])).toMatchObject({ groupIds: [web.id], portSecurity: true });
    // The admin sees every tenant's groups.
    expect(await api.json<Group>(api.tokens.admin, ['secgroup', 'show', web.id])).toMatchObject({ id: web.id, tenant: 'tenant-a' });
  });

  it('refuses invalid rules with the service’s message and a non-zero exit, writing nothing', async () => {
    const web = await api.json<Group>(a, ['secgroup', 'show', groups.web.id]);
    const base = ['secgroup', 'rule', 'create', web.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'tcp'];
    const before = await eventCount();
    const range = 'must be a port number from 1 to 65535';
    const cases: Array<[string, string[], number, string | RegExp]> = [
      ['port 0', ['--port', '0'], 2, `error: INVALID_ARGUMENT: invalid request: portMin: ${range}; portMax: ${range}`],
      ['port 65536', ['--port', '65536'], 2, `error: INVALID_ARGUMENT: invalid request: portMin: ${range}; portMax: ${range}`],
      ['range past 65535', ['--port-range', '1000-70000'], 2, `error: INVALID_ARGUMENT: invalid request: portMax: ${range}`],
      ['range upside down', ['--port-range', '2000-1000'], 2, 'error: INVALID_ARGUMENT: portMin 2000 is above portMax 1000'],
      ['bad CIDR', ['--remote-cidr', '10.0.0.0/40'], 2, /^error: INVALID_ARGUMENT: invalid request: remoteCidr: "10\.0\.0\.0\/40" has an invalid prefix length/],
      ['CIDR with host bits', ['--remote-cidr', '10.0.0.1/8'], 2, /^error: INVALID_ARGUMENT: invalid request: remoteCidr: .*did you mean 10\.0\.0\.0\/8\?$/],
      ['CIDR of the other family', ['--remote-cidr', '2001:db8::/32'], 2, "error: INVALID_ARGUMENT: remoteCidr 2001:db8::/32 is an IPv6 prefix but the rule's ethertype is IPv4"],
      ['unknown remote group', ['--remote-group', MISSING], 1, `error: NOT_FOUND: security group ${MISSING} not found`],
      ['remote group that is no id', ['--remote-group', 'web'], 2, /^error: INVALID_ARGUMENT: invalid request: remoteGroupId: must be a lowercase UUID/],
      ['duplicate rule', ['--port', '443'], 1, new RegExp(`^error: ALREADY_EXISTS: security group ${web.id} already has this rule: ${web.rules[0]!.id}$`)],
    ];
    for (const [what, args, exit, message] of cases) {
      const r = await api.cli(a, [...base, ...args]);
      expect(r.code, what).toBe(exit);
      expect(r.out, what).toBe('');
      // One line on stderr, nothing else.
      expect(r.err.endsWith('\n') && r.err.indexOf('\n') === r.err.length - 1, what).toBe(true);
      if (typeof message === 'string') expect(r.err.trimEnd(), what).toBe(message);
      else expect(r.err.trimEnd(), what).toMatch(message);
    }
    // icmp with a port: the service names the field.
    const icmp = await api.cli(a, ['secgroup', 'rule', 'create', web.id, '--direction', 'ingress', '--ethertype', 'IPv4', '--protocol', 'icmp', '--port', '1']);
    expect(icmp).toMatchObject({ code: 2, err: 'error: INVALID_ARGUMENT: portMin applies only to tcp and udp rules, not icmp\n' });
    expect(await eventCount()).toBe(before);
    expect((await api.json<Group>(a, ['secgroup', 'show', web.id])).rules).toHaveLength(1);
  });

  it('deletes rules and groups, refusing to delete a group still in use', async () => {
    const { web, app } = groups;
    const inUse = await api.cli(a, ['secgroup', 'delete', web.id]);
    expect(inUse.code).toBe(1);
    expect(inUse.err).toMatch(/^error: FAILED_PRECONDITION: .*/);
    expect(inUse.err).toContain(ports.web);

    await api.json(a, ['port', 'set-groups', ports.web, '--none']);
    const ruleId = (await api.json<Group>(a, ['secgroup', 'show', app.id])).rules[0]!.id;
    const del = await api.cli(a, ['secgroup', 'rule', 'delete', app.id, ruleId]);
    expect(del).toMatchObject({ code: 0, out: `deleted security group rule ${ruleId}\n` });
    expect(await api.json(a, ['secgroup', 'delete', web.id])).toEqual({ id: web.id });
    expect(await api.cli(a, ['secgroup', 'show', web.id])).toMatchObject({ code: 1, err: `error: NOT_FOUND: security group ${web.id} not found\n` });
  });
});
