/**
 * Networks, subnets and ports over the wire: the real Neutron HTTP service
 * (the REST core with these modules), Keystone-style tokens, the NATS user
 * `neutron`, and the real services (startNeutronStack, plus hostview for
 * the status service). What a Neutron client sees: the representation,
 * `fields`, filters (`fixed_ips=ip_address=…`), sorting, pagination, bulk
 * create all or nothing, If-Match, and Neutron's errors — each refusal
 * checked to write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, type ManagedProcess } from '@strata/lab';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from '../test/stack.js';

let stack: NeutronStack;
let hostview: ManagedProcess;
let alice: StackLogin;
let bob: StackLogin;
let reader: StackLogin;

const HOSTVIEW_MAIN = join(dirname(createRequire(import.meta.url).resolve('@strata/hostview')), 'main.js');

beforeAll(async () => {
  stack = await startNeutronStack();
  const cp = stack.controlPlane;
  // The status service answers a port's status from hostview's positions.
  hostview = startProcess('hostview', [process.execPath, HOSTVIEW_MAIN], {
    env: { NATS_URL: cp.natsUrl, NATS_USER: 'hostview', NATS_PASSWORD: cp.passwords['hostview']!, STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info', STRATA_SERVICE_NAME: 'hostview' },
  });
  await hostview.ready;
  alice = await stack.login('project-a', 'alice', 'member');
  bob = await stack.login('project-b', 'bob', 'member');
  reader = await stack.login('project-a', 'rita', 'reader');
}, 180_000);

afterAll(async () => {
  await hostview?.stop();
  await stack?.stop();
});

const as = (who: StackLogin) => ({
  get: (path: string) => stack.request('GET', `/v2.0/${path}`, { token: who.token }),
  post: (path: string, body: unknown) => stack.request('POST', `/v2.0/${path}`, { token: who.token, body }),
  put: (path: string, body: unknown, headers: Record<string, string> = {}) => stack.request('PUT', `/v2.0/${path}`, { token: who.token, body, headers }),
  del: (path: string) => stack.request('DELETE', `/v2.0/${path}`, { token: who.token }),
});

/** A refused request: Neutron's status and type, and not one event written. */
async function refused(call: () => Promise<StackResponse>, status: number, type: string): Promise<any> {
  const before = await stack.lastSeq();
  const r = await call();
  expect({ status: r.status, type: r.body?.NeutronError?.type }).toEqual({ status, type });
  expect(await stack.writtenBy(r, before)).toEqual([]);
  return r.body.NeutronError;
}

describe('networks, subnets and ports over the Neutron API', () => {
  let net: any;
  let subnet: any;
  let port: any;

  it('lists the extensions these modules implement', async () => {
    const r = await as(alice).get('extensions');
    const aliases = r.body.extensions.map((e: any) => e.alias);
    for (const alias of ['net-mtu', 'net-mtu-writable', 'external-net', 'port-security', 'allowed-address-pairs', 'binding', 'standard-attr-revisions', 'standard-attr-timestamp']) {
      expect(aliases).toContain(alias);
    }
    expect(aliases).not.toContain('extra_dhcp_opt');
  });

  it('creates a network and a subnet (201), shows and lists them', async () => {
    let r = await as(alice).post('networks', { network: { name: 'web', port_security_enabled: true } });
    expect(r.status).toBe(201);
    net = r.body.network;
    expect(net).toMatchObject({ name: 'web', project_id: alice.projectId, status: 'ACTIVE', 'router:external': false, shared: false, mtu: expect.any(Number) });
    r = await as(alice).post('subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.9.0.0/24', name: 'web-v4', allocation_pools: [{ start: '10.9.0.10', end: '10.9.0.99' }] } });
    expect(r.status).toBe(201);
    subnet = r.body.subnet;
    expect(subnet).toMatchObject({ cidr: '10.9.0.0/24', gateway_ip: '10.9.0.1', allocation_pools: [{ start: '10.9.0.10', end: '10.9.0.99' }], enable_dhcp: true });
    r = await as(alice).get(`networks/${net.id}`);
    expect(r.body.network.subnets).toEqual([subnet.id]);
    r = await as(alice).get(`subnets?network_id=${net.id}&fields=id&fields=cidr`);
    expect(r.body.subnets).toEqual([{ id: subnet.id, cidr: '10.9.0.0/24' }]);
  });

  it('400 for an invalid CIDR and for an IPv6 CIDR given as ip_version 4; nothing written', async () => {
    const e = await refused(() => as(alice).post('subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.9.1.0/33' } }), 400, 'InvalidInput');
    expect(e.message).toMatch(/cidr/i);
    await refused(() => as(alice).post('subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '2001:db8::/64' } }), 400, 'HTTPBadRequest');
    await refused(() => as(alice).post('subnets', { subnet: { network_id: net.id, cidr: '10.9.1.0/24' } }), 400, 'HTTPBadRequest');
  });

  it('creates a port in the default group, found by fixed_ips=ip_address=…', async () => {
    const r = await as(alice).post('ports', { port: { network_id: net.id, name: 'vm1', fixed_ips: [{ ip_address: '10.9.0.20' }], device_owner: 'compute:nova' } });
    expect(r.status).toBe(201);
    port = r.body.port;
    expect(port).toMatchObject({ fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.9.0.20' }], device_owner: 'compute:nova', port_security_enabled: true, status: 'DOWN' });
    expect(port.security_groups).toHaveLength(1);
    const found = await as(alice).get('ports?fixed_ips=ip_address%3D10.9.0.20');
    expect(found.body.ports.map((p: any) => p.id)).toEqual([port.id]);
    const none = await as(alice).get('ports?fixed_ips=ip_address%3D10.9.0.21');
    expect(none.body.ports).toEqual([]);
    const bySubnet = await as(alice).get(`ports?fixed_ips=subnet_id%3D${subnet.id}&device_owner=compute:nova`);
    expect(bySubnet.body.ports.map((p: any) => p.id)).toEqual([port.id]);
    // A filter value no port can have is an empty list, not an error (the service's hint is not used for it).
    const odd = await as(alice).get('ports?network_id=not-a-uuid');
    expect({ status: odd.status, ports: odd.body.ports }).toEqual({ status: 200, ports: [] });
    const byNet = await as(alice).get(`subnets?network_id=${net.id}&network_id=${subnet.id}`);
    expect(byNet.body.subnets.map((x: any) => x.id)).toEqual([subnet.id]);
  });

  it('409 IpAddressAlreadyAllocated for an address in use; bulk create is all or nothing', async () => {
    const inUse = await refused(() => as(alice).post('ports', { port: { network_id: net.id, fixed_ips: [{ ip_address: '10.9.0.20' }] } }), 409, 'IpAddressAlreadyAllocated');
    expect(inUse.message).toBe(`IP address 10.9.0.20 already allocated in subnet ${subnet.id}`);
    const macInUse = await refused(() => as(alice).post('ports', { port: { network_id: net.id, mac_address: port.mac_address } }), 409, 'MacAddressInUse');
    expect(macInUse.message).toBe(`Unable to complete operation for network ${net.id}. The mac address ${port.mac_address} is in use.`);
    const before = (await as(alice).get('ports')).body.ports.length;
    const r = await as(alice).post('ports', { ports: [{ network_id: net.id, fixed_ips: [{ ip_address: '10.9.0.30' }] }, { network_id: net.id, fixed_ips: [{ ip_address: '10.9.0.20' }] }] });
    expect({ status: r.status, type: r.body.NeutronError.type }).toEqual({ status: 409, type: 'IpAddressAlreadyAllocated' });
    expect((await as(alice).get('ports')).body.ports.length).toBe(before);
    const ok = await as(alice).post('ports', { ports: [{ network_id: net.id, name: 'b1' }, { network_id: net.id, name: 'b2' }] });
    expect(ok.status).toBe(201);
    const sorted = await as(alice).get(`ports?network_id=${net.id}&sort_key=name&sort_dir=desc&fields=name`);
    expect(sorted.body.ports.map((p: any) => p.name)).toEqual(['vm1', 'b2', 'b1']);
    for (const p of ok.body.ports) expect((await as(alice).del(`ports/${p.id}`)).status).toBe(204);
  });

  it("404 for another project's network and port; a reader may read but not write", async () => {
    await refused(() => as(bob).get(`networks/${net.id}`), 404, 'NetworkNotFound');
    await refused(() => as(bob).get(`ports/${port.id}`), 404, 'PortNotFound');
    await refused(() => as(bob).put(`ports/${port.id}`, { port: { name: 'mine' } }), 404, 'PortNotFound');
    await refused(() => as(bob).post('ports', { port: { network_id: net.id } }), 404, 'NetworkNotFound');
    expect((await as(reader).get(`ports/${port.id}`)).status).toBe(200);
    await refused(() => as(reader).post('networks', { network: { name: 'x' } }), 403, 'PolicyNotAuthorized');
  });

  it('updates a port under If-Match; 412 when stale; 409 turning port security off while it has groups', async () => {
    const rev = port.revision_number;
    let r = await as(alice).put(`ports/${port.id}`, { port: { fixed_ips: [{ ip_address: '10.9.0.21' }], name: 'vm1b' } }, { 'If-Match': `revision_number=${rev}` });
    expect(r.status).toBe(200);
    expect(r.body.port).toMatchObject({ name: 'vm1b', fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.9.0.21' }], revision_number: rev + 1 });
    await refused(() => as(alice).put(`ports/${port.id}`, { port: { name: 'late' } }, { 'If-Match': `revision_number=${rev}` }), 412, 'RevisionNumberConstraintFailed');
    await refused(() => as(alice).put(`ports/${port.id}`, { port: { port_security_enabled: false } }), 409, 'PortSecurityPortHasSecurityGroup');
    r = await as(alice).put(`ports/${port.id}`, { port: { port_security_enabled: false, security_groups: [] } });
    expect(r.body.port).toMatchObject({ port_security_enabled: false, security_groups: [] });
    await refused(() => as(alice).put(`ports/${port.id}`, { port: { mac_address: '02:00:00:00:00:99' } }), 400, 'HTTPBadRequest');
    // The binding is an admin's: a member may neither set nor see the host.
    await refused(() => as(alice).put(`ports/${port.id}`, { port: { 'binding:host_id': 'hv1' } }), 403, 'PolicyNotAuthorized');
    const shown = await as(alice).get(`ports/${port.id}`);
    expect(shown.body.port).not.toHaveProperty('binding:host_id');
    expect(shown.body.port['binding:vnic_type']).toBe('normal');
  });

  it('an IPv6 SLAAC subnet: the port gets the EUI-64 address of its MAC', async () => {
    const r = await as(alice).post('subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:9::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } });
    expect(r.status).toBe(201);
    expect(r.body.subnet).toMatchObject({ ip_version: 6, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', gateway_ip: '2001:db8:9::1' });
    const p = (await as(alice).post('ports', { port: { network_id: net.id, mac_address: '02:00:00:00:00:42', fixed_ips: [{ subnet_id: r.body.subnet.id }] } })).body.port;
    expect(p.fixed_ips).toEqual([{ subnet_id: r.body.subnet.id, ip_address: '2001:db8:9::ff:fe00:42' }]);
    expect((await as(alice).del(`ports/${p.id}`)).status).toBe(204);
    await refused(() => as(alice).put(`subnets/${r.body.subnet.id}`, { subnet: { ipv6_ra_mode: 'dhcpv6-stateful' } }), 400, 'HTTPBadRequest');
    expect((await as(alice).del(`subnets/${r.body.subnet.id}`)).status).toBe(204);
  });

  it('updates a network and a subnet; 409 NetworkInUse while ports remain; deletes', async () => {
    let r = await as(alice).put(`networks/${net.id}`, { network: { name: 'web2', port_security_enabled: false } });
    expect(r.body.network).toMatchObject({ name: 'web2', port_security_enabled: false, revision_number: 2 });
    r = await as(alice).put(`subnets/${subnet.id}`, { subnet: { dns_nameservers: ['10.9.0.53'] } });
    expect(r.body.subnet.dns_nameservers).toEqual(['10.9.0.53']);
    await refused(() => as(alice).put(`subnets/${subnet.id}`, { subnet: { gateway_ip: '10.9.0.2' } }), 400, 'HTTPBadRequest');
    await refused(() => as(alice).del(`networks/${net.id}`), 409, 'NetworkInUse');
    expect((await as(alice).del(`ports/${port.id}`)).status).toBe(204);
    expect((await as(alice).del(`networks/${net.id}`)).status).toBe(204);
    await refused(() => as(alice).get(`subnets/${subnet.id}`), 404, 'SubnetNotFound');
  });
});
