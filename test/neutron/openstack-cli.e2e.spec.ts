/**
 * Issue 17, "Must show": the stock `openstack` CLI (Debian's
 * python3-openstackclient, `openstack sfc …` from python3-neutronclient)
 * drives Strata through its Neutron API, authenticating with a password
 * against a real Keystone whose catalog lists the Neutron service as
 * `network` (no endpoint override), with `-f json` output checked.
 *
 * The world: a namespace lab (two hypervisors with their agents, every
 * service, NAT for router gateways and floating IPs, chaining for sfc), a
 * Keystone (startKeystone), and the Neutron service as a process of the
 * lab (Lab.startNeutron: NATS user `neutron`, tokens validated with
 * Keystone under its own service user). A member of project `cli` creates, shows
 * and lists (by name and by id), updates and deletes every resource; an
 * admin binds the two ports to hv1 and hv2 as Nova would; VMs booted on
 * them reach each other with real packets and `openstack port show` says
 * ACTIVE. A name two networks share gives the CLI's own "More than one
 * network exists", an unknown id its "No Network found".
 *
 * The CLI costs 1-2 s a call: calls are few and grouped per resource.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortView } from '@strata/contracts';
import { ADMIN, Lab, type Vm } from '@strata/lab';
import { startKeystone, waitFor, type KeystoneHandle } from '@strata/testing';

const run = promisify(execFile);
type Json = Record<string, any>;

const PROJECT = 'cli';
const UUID_UNKNOWN = '6f1c2f5e-0b7e-4c59-9d5e-000000000404';

// The CLI costs 1-2 s a call on a quiet machine and 5 s or more on a loaded one (CI runs the lab beside it):
// a test's 20-odd calls get five minutes.
describe('the stock openstack CLI against Strata and Keystone', { timeout: 300_000 }, () => {
  let lab: Lab;
  let keystone: KeystoneHandle;
  let home: string;
  let alicePassword = '';
  const vms: Vm[] = [];

  /** `openstack …` as `user` (a member, or the admin), its stdout; throws with stderr on failure. */
  async function openstack(user: 'alice' | 'admin', args: string[]): Promise<string> {
    const creds =
      user === 'admin'
        ? { OS_USERNAME: keystone.admin.user, OS_PASSWORD: keystone.admin.password, OS_PROJECT_NAME: keystone.admin.project }
        : { OS_USERNAME: user, OS_PASSWORD: alicePassword, OS_PROJECT_NAME: PROJECT };
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      OS_AUTH_URL: `${keystone.url}/v3`,
      OS_IDENTITY_API_VERSION: '3',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
      OS_INTERFACE: 'public',
      ...creds,
    };
    const { stdout } = await run('/usr/bin/openstack', args, { env, timeout: 60_000 });
    return stdout;
  }
  const json = async <T = Json>(user: 'alice' | 'admin', args: string[]): Promise<T> => JSON.parse(await openstack(user, [...args, '-f', 'json'])) as T;
  const alice = <T = Json>(args: string[]): Promise<T> => json<T>('alice', args);
  /** A call that must fail: its stderr. */
  async function refused(args: string[]): Promise<string> {
    try {
      await openstack('alice', args);
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
    throw new Error(`openstack ${args.join(' ')} succeeded`);
  }
  /** Keys as the core commands print them (`id`, `port_pairs`): the sfc plugin prints display names (`ID`, `Port Pairs`). */
  const keys = (o: Json): Json => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase().replaceAll(' ', '_'), v]));
  /** Show by name and by id: the same resource; listed (optionally with list arguments): one row with its id and name. */
  async function showAndList(what: string[], name: string, id: string, listArgs: string[] = []): Promise<Json> {
    const byName = await alice([...what, 'show', name]);
    const byId = await alice([...what, 'show', id]);
    expect(keys(byName)['id']).toBe(id);
    expect(byId).toEqual(byName);
    const rows = await alice<Json[]>([...what, 'list', ...listArgs]);
    expect(rows.filter((r) => r['ID'] === id)).toEqual([expect.objectContaining({ ID: id, Name: name })]);
    return byId;
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'strata-osc-'));
    const started = Date.now();
    const step = (what: string): void => console.error(`[openstack-cli +${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);
    keystone = await startKeystone();
    step('Keystone up');
    lab = await Lab.start({ hypervisors: 2, nat: true, chaining: true });
    step('lab up');
    const service = await keystone.createServiceUser('neutron');
    const url = await lab.startNeutron({ keystoneUrl: keystone.url, serviceUser: service.user.name, servicePassword: service.password });
    step(`Neutron on ${url}`);
    await keystone.registerService('network', 'neutron', url);
    alicePassword = (await keystone.createProjectUser(PROJECT, 'alice', 'member')).password;
    // The operator's floating-IP pool: the external network tenants see.
    await lab.ipam.command('pool.create', { name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, ADMIN);
    step('ready');
  }, 1_200_000);

  afterAll(async () => {
    await lab?.destroy();
    await keystone?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const ids: Record<string, string> = {};

  it('networks: create, show and list by name and id, update; a shared name is "More than one", an unknown id "No Network found"', async () => {
    const net = await alice(['network', 'create', '--mtu', '1400', 'net1']);
    ids['net'] = net['id'];
    expect(net).toMatchObject({ name: 'net1', mtu: 1400, status: 'ACTIVE', admin_state_up: true });
    await showAndList(['network'], 'net1', net['id']);
    await openstack('alice', ['network', 'set', '--description', 'the web tier', net['id']]);
    expect((await alice(['network', 'show', 'net1']))['description']).toBe('the web tier');
    // Two networks named alike: the CLI's own ambiguity error.
    const twins = [await alice(['network', 'create', 'twin']), await alice(['network', 'create', 'twin'])];
    expect(await refused(['network', 'show', 'twin'])).toContain('More than one Network exists with the name \'twin\'');
    expect(await refused(['network', 'show', UUID_UNKNOWN])).toContain(`No Network found for ${UUID_UNKNOWN}`);
    await openstack('alice', ['network', 'delete', ...twins.map((t) => t['id'])]);
    expect((await alice<Json[]>(['network', 'list', '--name', 'twin']))).toEqual([]);
  });

  it('subnets: create, show and list by name and id, update', async () => {
    const sub = await alice(['subnet', 'create', '--network', 'net1', '--subnet-range', '10.1.0.0/24', '--dns-nameserver', '192.0.2.53', 'sub1']);
    ids['subnet'] = sub['id'];
    expect(sub).toMatchObject({ name: 'sub1', cidr: '10.1.0.0/24', ip_version: 4, network_id: ids['net'], gateway_ip: '10.1.0.1', enable_dhcp: true });
    ids['subnet'] = sub['id'];
    await showAndList(['subnet'], 'sub1', sub['id']);
    await openstack('alice', ['subnet', 'set', '--description', 'web', 'sub1']);
    expect(await refused(['subnet', 'show', UUID_UNKNOWN])).toContain(`No Subnet found for ${UUID_UNKNOWN}`);
  });

  it('security groups and rules: create, show and list by name and id, update', async () => {
    const sg = await alice(['security', 'group', 'create', '--description', 'ping between members', 'sg1']);
    ids['sg'] = sg['id'];
    await showAndList(['security', 'group'], 'sg1', sg['id']);
    const icmp = await alice(['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'icmp', 'sg1']);
    expect(icmp).toMatchObject({ direction: 'ingress', protocol: 'icmp', security_group_id: sg['id'] });
    const ssh = await alice(['security', 'group', 'rule', 'create', '--ingress', '--protocol', 'tcp', '--dst-port', '22', 'sg1']);
    expect((await alice(['security', 'group', 'rule', 'show', ssh['id']]))).toMatchObject({ port_range_min: 22, port_range_max: 22, protocol: 'tcp' });
    const rules = await alice<Json[]>(['security', 'group', 'rule', 'list', 'sg1']);
    expect(rules.map((r) => r['ID'])).toEqual(expect.arrayContaining([icmp['id'], ssh['id']]));
    await openstack('alice', ['security', 'group', 'rule', 'delete', ssh['id']]);
    await openstack('alice', ['security', 'group', 'set', '--name', 'sg-ping', 'sg1']);
    expect((await alice(['security', 'group', 'show', sg['id']]))['name']).toBe('sg-ping');
  });

  it('ports: created by the member, bound by the admin as Nova does; VMs on them reach each other and the ports are ACTIVE', async () => {
    const ports: Json[] = [];
    for (const [i, host] of ['hv1', 'hv2'].entries()) {
      const p = await alice(['port', 'create', '--network', 'net1', '--fixed-ip', `subnet=sub1,ip-address=10.1.0.${11 + i}`, '--security-group', 'sg-ping', '--device-owner', 'compute:nova', `p${i + 1}`]);
      expect(p).toMatchObject({ name: `p${i + 1}`, network_id: ids['net'], fixed_ips: [{ subnet_id: ids['subnet'], ip_address: `10.1.0.${11 + i}` }], security_group_ids: [ids['sg']] });
      await openstack('admin', ['port', 'set', '--host', host, p['id']]);
      ports.push(p);
    }
    await showAndList(['port'], 'p1', ports[0]!['id'], ['--network', 'net1']);
    await openstack('alice', ['port', 'set', '--description', 'web 1', 'p1']);
    for (const [i, p] of ports.entries()) {
      const view = { id: p['id'], mac: p['mac_address'], fixedIps: p['fixed_ips'].map((f: Json) => ({ subnetId: f['subnet_id'], ip: f['ip_address'] })) } as PortView;
      const vm = await lab.addVm(`p${i + 1}`, view, `hv${i + 1}`);
      await vm.configureStatic({ [ids['subnet']!]: { prefixLength: 24, gatewayIp: '10.1.0.1', mtu: 1400 } });
      vms.push(vm);
    }
    ids['p1'] = ports[0]!['id'];
    ids['p2'] = ports[1]!['id'];
    // Real packets between the two VMs across the hypervisors.
    await waitFor(() => vms[0]!.ns.ok(['ping', '-c', '1', '-W', '1', '10.1.0.12']), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'p1 pings p2',
    });
    expect(await vms[1]!.ns.ok(['ping', '-c', '1', '-W', '2', '10.1.0.11'])).toBe(true);
    for (const id of [ids['p1']!, ids['p2']!]) {
      const shown = await waitFor(async () => {
        const s = await alice(['port', 'show', id]);
        return s['status'] === 'ACTIVE' && s;
      }, { timeoutMs: 60_000, intervalMs: 500, message: `port ${id} ACTIVE` });
      expect(shown).toMatchObject({ status: 'ACTIVE', admin_state_up: true });
    }
    expect((await json('admin', ['port', 'show', ids['p2']!]))['binding_host_id']).toBe('hv2');
  }, 180_000);

  it('routers: an interface on the subnet, an extra route, a gateway to the external network; create, show and list by name and id, update', async () => {
    const r = await alice(['router', 'create', 'r1']);
    ids['router'] = r['id'];
    await openstack('alice', ['router', 'add', 'subnet', 'r1', 'sub1']);
    await openstack('alice', ['router', 'set', '--route', 'destination=10.20.0.0/24,gateway=10.1.0.11', 'r1']);
    const shown = await showAndList(['router'], 'r1', r['id']);
    expect(shown['routes']).toEqual([{ destination: '10.20.0.0/24', nexthop: '10.1.0.11' }]);
    await openstack('alice', ['router', 'set', '--no-route', '--description', 'edge', 'r1']);
    expect(await alice(['router', 'show', 'r1'])).toMatchObject({ routes: [], description: 'edge' });
  });

  it('routers: a gateway to the external network (the operator’s floating-IP pool `public`)', async () => {
    await openstack('alice', ['router', 'set', '--external-gateway', 'public', 'r1']);
    expect((await alice(['router', 'show', 'r1']))['external_gateway_info']).toMatchObject({ network_id: expect.any(String) });
  });

  it('floating IPs: created for a port from the external network, shown and listed by id, updated, deleted', async () => {
    const fip = await alice(['floating', 'ip', 'create', '--port', 'p1', 'public']);
    expect(fip).toMatchObject({ port_id: ids['p1'], fixed_ip_address: '10.1.0.11', router_id: ids['router'] });
    expect(fip['floating_ip_address']).toMatch(/^203\.0\.113\./);
    expect((await alice(['floating', 'ip', 'show', fip['id']]))['id']).toBe(fip['id']);
    expect((await alice(['floating', 'ip', 'show', fip['floating_ip_address']]))['id']).toBe(fip['id']);
    expect((await alice<Json[]>(['floating', 'ip', 'list', '--port', 'p1'])).map((f) => f['ID'])).toEqual([fip['id']]);
    await openstack('alice', ['floating', 'ip', 'unset', '--port', fip['id']]);
    expect((await alice(['floating', 'ip', 'show', fip['id']]))['port_id']).toBeNull();
    await openstack('alice', ['floating', 'ip', 'delete', fip['id']]);
    expect(await alice<Json[]>(['floating', 'ip', 'list'])).toEqual([]);
  });

  it('sfc: port pair, port pair group, flow classifier and port chain created, shown and listed by name and id, updated, deleted', async () => {
    // The sfc plugin prints display names ("Ingress Logical Port"): keys() makes them ingress_logical_port.
    const pp = keys(await alice(['sfc', 'port', 'pair', 'create', '--ingress', 'p2', '--egress', 'p2', 'pp1']));
    expect(pp).toMatchObject({ name: 'pp1', ingress_logical_port: ids['p2'], egress_logical_port: ids['p2'] });
    await showAndList(['sfc', 'port', 'pair'], 'pp1', pp['id']);
    const ppg = keys(await alice(['sfc', 'port', 'pair', 'group', 'create', '--port-pair', 'pp1', 'ppg1']));
    expect(JSON.stringify(ppg)).toContain(pp['id']);
    await showAndList(['sfc', 'port', 'pair', 'group'], 'ppg1', ppg['id']);
    // Strata classifies by address, not by Neutron port: the source is p1's address (logical_source_port is refused, 400).
    const fc = keys(await alice(['sfc', 'flow', 'classifier', 'create', '--source-ip-prefix', '10.1.0.11/32', '--protocol', 'tcp', '--destination-port', '80:80', 'fc1']));
    expect(JSON.stringify(fc)).toContain('10.1.0.11/32');
    await showAndList(['sfc', 'flow', 'classifier'], 'fc1', fc['id']);
    const pc = keys(await alice(['sfc', 'port', 'chain', 'create', '--port-pair-group', 'ppg1', '--flow-classifier', 'fc1', 'pc1']));
    expect(JSON.stringify(pc)).toContain(ppg['id']);
    expect(JSON.stringify(pc)).toContain(fc['id']);
    await showAndList(['sfc', 'port', 'chain'], 'pc1', pc['id']);
    await openstack('alice', ['sfc', 'port', 'chain', 'set', '--description', 'web through p2', 'pc1']);
    expect(keys(await alice(['sfc', 'port', 'chain', 'show', pc['id']]))['description']).toBe('web through p2');
    for (const what of [['port', 'chain', 'pc1'], ['flow', 'classifier', 'fc1'], ['port', 'pair', 'group', 'ppg1'], ['port', 'pair', 'pp1']]) {
      await openstack('alice', ['sfc', ...what.slice(0, -1), 'delete', what.at(-1)!]);
    }
    expect(await alice<Json[]>(['sfc', 'port', 'pair', 'list'])).toEqual([]);
  });

  it('deletes everything it created, the router interface first; nothing of project cli is left', async () => {
    await openstack('alice', ['router', 'unset', '--external-gateway', 'r1']);
    await openstack('alice', ['router', 'remove', 'subnet', 'r1', 'sub1']);
    await openstack('alice', ['router', 'delete', 'r1']);
    for (const vm of vms) await vm.detach();
    await openstack('alice', ['port', 'delete', 'p1', 'p2']);
    await openstack('alice', ['security', 'group', 'delete', 'sg-ping']);
    await openstack('alice', ['subnet', 'delete', 'sub1']);
    await openstack('alice', ['network', 'delete', 'net1']);
    expect(await refused(['network', 'show', ids['net']!])).toContain(`No Network found for ${ids['net']}`);
    expect(await alice<Json[]>(['port', 'list'])).toEqual([]);
    expect((await alice<Json[]>(['network', 'list'])).filter((n) => n['Name'] !== 'public')).toEqual([]);
    expect(await alice<Json[]>(['router', 'list'])).toEqual([]);
  });
});
