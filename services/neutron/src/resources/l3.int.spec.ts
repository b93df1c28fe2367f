/**
 * Routers, floating IPs and external networks over the wire: the real
 * Neutron HTTP server (the core) serving the L3 modules, on the control
 * plane as production runs it (startNeutronStack). Every answer is checked
 * for Neutron's status, body and NeutronError type, and every refusal for
 * writing nothing (the event log does not move). Tenant networks, subnets
 * and ports are made through the server's own IPAM client (the networks
 * modules are another helper's), sharing its read-your-writes position.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestMeta } from '@strata/runtime';
import type { Json } from '../resource.js';
import { startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from '../test/stack.js';
import { NEUTRON_RESOURCES } from './index.js';
import { externalSubnetId } from './external-networks.js';

const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('Neutron routers, floating IPs and external networks against the real control plane', () => {
  let stack: NeutronStack;
  let alice: StackLogin;
  let bob: StackLogin;
  let rita: StackLogin;
  let pool: string;

  const meta = (tenant: string, admin = false): RequestMeta => {
    const id = randomUUID();
    return { actor: 'test', tenant, admin, requestId: id, correlationId: id, at: new Date().toISOString() };
  };
  const ipam = () => stack.server.clients.ipam;

  /** A tenant network with one IPv4 subnet and two ports on it. */
  async function network(who: StackLogin, cidr: string) {
    const net = await ipam().command('network.create', { name: `n-${cidr}` }, meta(who.projectId));
    const subnet = await ipam().command('subnet.create', { networkId: net.id, cidr }, meta(who.projectId));
    const port = await ipam().command('port.create', { networkId: net.id }, meta(who.projectId));
    const port2 = await ipam().command('port.create', { networkId: net.id }, meta(who.projectId));
    return { net, subnet, port, port2 };
  }

  const call = (method: string, path: string, who: StackLogin, body?: unknown): Promise<StackResponse> =>
    stack.request(method, path, { token: who.token, ...(body === undefined ? {} : { body }) });

  /** A refused request: its status and NeutronError type, and the log did not move. */
  async function refused(method: string, path: string, who: StackLogin, body?: unknown): Promise<{ status: number; type: string; message: string }> {
    const before = await stack.lastSeq();
    const r = await call(method, path, who, body);
    expect(await stack.writtenBy(r, before), `${method} ${path} wrote events`).toEqual([]);
    return { status: r.status, type: r.body?.NeutronError?.type, message: r.body?.NeutronError?.message };
  }

  beforeAll(async () => {
    // In this process: the test makes pools and ports through the server's own clients.
    stack = await startNeutronStack({ resources: NEUTRON_RESOURCES });
    alice = await stack.login('project-a', 'alice', 'member');
    rita = await stack.login('project-a', 'rita', 'reader');
    bob = await stack.login('project-b', 'bob', 'member');
    pool = (await ipam().command('pool.create', { name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, meta('ops', true))).id;
    await ipam().command('pool.create', { name: 'hosts', cidr: '198.51.100.0/24', purpose: 'host-ip' }, meta('ops', true));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('declares the L3 extensions, and only those that work', async () => {
    const r = await call('GET', '/v2.0/extensions', alice);
    const aliases = r.body.extensions.map((e: Json) => e['alias']);
    expect(aliases).toEqual(expect.arrayContaining(['router', 'external-net', 'extraroute', 'extraroute-atomic']));
    for (const no of ['ext-gw-mode', 'l3-ha', 'dvr', 'fip-port-details']) expect(aliases).not.toContain(no);
    expect((await call('GET', '/v2.0/extensions/extraroute', alice)).body.extension).toMatchObject({ alias: 'extraroute', name: 'Neutron Extra Route' });
  });

  it('presents each floating-IP pool, only those, as a shared external network with its subnet, which any project sees and none changes', async () => {
    const external = {
      id: pool,
      name: 'public',
      tenant_id: '',
      project_id: '',
      admin_state_up: true,
      status: 'ACTIVE',
      subnets: [externalSubnetId(pool)],
      shared: true,
      'router:external': true,
      mtu: 1500,
      port_security_enabled: true,
      description: 'floating-IP pool 203.0.113.0/24',
      revision_number: 1,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    };
    expect((await call('GET', '/v2.0/networks?router:external=true', bob)).body.networks).toEqual([external]);
    expect((await call('GET', `/v2.0/networks/${pool}`, alice)).body.network).toEqual(external);
    expect((await call('GET', '/v2.0/networks?name=hosts', alice)).body.networks).toEqual([]);
    const subnet = (await call('GET', `/v2.0/subnets/${externalSubnetId(pool)}`, bob)).body.subnet;
    expect(subnet).toMatchObject({ network_id: pool, cidr: '203.0.113.0/24', gateway_ip: null, enable_dhcp: false, allocation_pools: [{ start: '203.0.113.1', end: '203.0.113.254' }] });
    expect((await call('GET', `/v2.0/subnets?network_id=${pool}&fields=id`, bob)).body.subnets).toEqual([{ id: externalSubnetId(pool) }]);
    // Made only by an operator; not changed or deleted through Neutron.
    expect(await refused('POST', '/v2.0/networks', alice, { network: { name: 'ext', 'router:external': true } })).toMatchObject({ status: 400, message: /floating-IP pools/ });
    expect(await refused('PUT', `/v2.0/networks/${pool}`, alice, { network: { name: 'mine' } })).toMatchObject({ status: 404, type: 'NetworkNotFound' });
    expect(await refused('DELETE', `/v2.0/networks/${pool}`, alice)).toMatchObject({ status: 404, type: 'NetworkNotFound' });
    expect(await refused('DELETE', `/v2.0/subnets/${externalSubnetId(pool)}`, alice)).toMatchObject({ status: 404, type: 'SubnetNotFound' });
  });

  it('routers: create with a gateway, interfaces, extra routes, If-Match, tenancy, and the refusals Neutron gives', async () => {
    const { net, subnet } = await network(alice, '10.1.0.0/24');
    const created = await call('POST', '/v2.0/routers', alice, { router: { name: 'edge', external_gateway_info: { network_id: pool } } });
    expect(created.status).toBe(201);
    const r = created.body.router;
    expect(r).toEqual({
      id: expect.any(String),
      name: 'edge',
      description: '',
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      status: 'ACTIVE',
      admin_state_up: true,
      external_gateway_info: { network_id: pool, enable_snat: true, external_fixed_ips: [] },
      routes: [],
      revision_number: 1,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const path = `/v2.0/routers/${r.id}`;

    // What Strata's gateway cannot be, and gateways naming no external network: 400/404, no router made.
    expect(await refused('POST', '/v2.0/routers', alice, { router: { name: 'x', external_gateway_info: { network_id: net.id } } })).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad network request: Network ${net.id} is not an external network.`,
    });
    expect(await refused('POST', '/v2.0/routers', alice, { router: { name: 'x', external_gateway_info: { network_id: MISSING } } })).toMatchObject({ status: 404, type: 'NetworkNotFound' });
    expect(await refused('POST', '/v2.0/routers', alice, { router: { name: 'x', external_gateway_info: { network_id: pool, enable_snat: false } } })).toMatchObject({ status: 400, type: 'BadRequest' });
    expect(await refused('POST', '/v2.0/routers', alice, { router: { name: 'x', admin_state_up: false } })).toMatchObject({ status: 400, type: 'BadRequest' });
    expect(await refused('POST', '/v2.0/routers', alice, { router: { name: 'x', routes: [] } })).toMatchObject({ status: 400, type: 'HTTPBadRequest', message: "Attribute 'routes' not allowed in POST" });
    expect(await refused('POST', '/v2.0/routers', rita, { router: { name: 'x' } })).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });

    // Interfaces by subnet; Neutron's answer body; the refusals.
    const added = await call('PUT', `${path}/add_router_interface`, alice, { subnet_id: subnet.id });
    expect([added.status, added.body]).toEqual([200, { id: r.id, tenant_id: alice.projectId, project_id: alice.projectId, port_id: null, subnet_id: subnet.id, subnet_ids: [subnet.id], network_id: net.id }]);
    expect(await refused('PUT', `${path}/add_router_interface`, alice, { subnet_id: subnet.id })).toEqual({ status: 400, type: 'BadRequest', message: `Bad router request: Router already has a port on subnet ${subnet.id}.` });
    expect(await refused('PUT', `${path}/add_router_interface`, alice, { port_id: MISSING })).toMatchObject({ status: 400, type: 'BadRequest', message: /router interfaces are subnets, not ports/ });
    expect(await refused('PUT', `${path}/add_router_interface`, alice, { subnet_id: subnet.id, port_id: MISSING })).toMatchObject({ status: 400, message: 'Bad router request: Cannot specify both subnet-id and port-id.' });
    expect(await refused('PUT', `${path}/add_router_interface`, alice, {})).toMatchObject({ status: 400, message: 'Bad router request: Either subnet_id or port_id must be specified.' });
    const other = (await call('POST', '/v2.0/routers', alice, { router: { name: 'other' } })).body.router;
    expect(await refused('PUT', `/v2.0/routers/${other.id}/add_router_interface`, alice, { subnet_id: subnet.id })).toMatchObject({ status: 409, type: 'IpAddressAlreadyAllocated' });
    const theirs = await network(bob, '10.1.0.0/24');
    expect(await refused('PUT', `${path}/add_router_interface`, alice, { subnet_id: theirs.subnet.id })).toMatchObject({ status: 404, type: 'SubnetNotFound' });
    expect(await refused('PUT', `${path}/add_router_interface`, rita, { subnet_id: subnet.id })).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });

    // extraroute: IPAM decides the nexthop; If-Match is IPAM's revision check.
    expect(await refused('PUT', path, alice, { router: { routes: [{ destination: '192.0.2.0/24', nexthop: '10.9.0.5' }] } })).toMatchObject({ status: 400, type: 'InvalidRoutes' });
    const routed = await stack.request('PUT', path, { token: alice.token, headers: { 'If-Match': 'revision_number=2' }, body: { router: { routes: [{ destination: '192.0.2.0/24', nexthop: '10.1.0.5' }] } } });
    expect([routed.status, routed.body.router.routes, routed.body.router.revision_number]).toEqual([200, [{ destination: '192.0.2.0/24', nexthop: '10.1.0.5' }], 3]);
    const before = await stack.lastSeq();
    const stale = await stack.request('PUT', path, { token: alice.token, headers: { 'If-Match': 'revision_number=2' }, body: { router: { name: 'late' } } });
    expect([stale.status, stale.body.NeutronError.type]).toEqual([412, 'RevisionNumberConstraintFailed']);
    expect(await stack.writtenBy(stale, before)).toEqual([]);
    const extra = await call('PUT', `${path}/add_extraroutes`, alice, { router: { routes: [{ destination: '198.51.100.0/24', nexthop: '10.1.0.6' }] } });
    expect(extra.body.router.routes).toEqual([
      { destination: '192.0.2.0/24', nexthop: '10.1.0.5' },
      { destination: '198.51.100.0/24', nexthop: '10.1.0.6' },
    ]);
    expect((await call('PUT', `${path}/remove_extraroutes`, alice, { router: { routes: [{ destination: '198.51.100.0/24', nexthop: '10.1.0.6' }] } })).body.router.routes).toHaveLength(1);

    // The gateway goes and comes back; filters, fields; another project sees nothing.
    expect((await call('PUT', path, alice, { router: { external_gateway_info: {} } })).body.router.external_gateway_info).toBeNull();
    expect((await call('PUT', path, alice, { router: { external_gateway_info: { network_id: pool } } })).body.router.external_gateway_info).toMatchObject({ network_id: pool });
    expect((await call('GET', `/v2.0/routers?name=edge&fields=id&fields=external_gateway_info`, alice)).body.routers).toEqual([{ id: r.id, external_gateway_info: { network_id: pool, enable_snat: true, external_fixed_ips: [] } }]);
    expect(await refused('GET', path, bob)).toEqual({ status: 404, type: 'RouterNotFound', message: `Router ${r.id} could not be found` });
    expect(await refused('PUT', path, bob, { router: { name: 'mine' } })).toMatchObject({ status: 404, type: 'RouterNotFound' });
    expect(await refused('PUT', `${path}/add_router_interface`, bob, { subnet_id: theirs.subnet.id })).toMatchObject({ status: 404, type: 'RouterNotFound' });
    expect((await call('GET', '/v2.0/routers', bob)).body.routers).toEqual([]);

    // In use: a route through the interface, then the interface itself.
    expect(await refused('PUT', `${path}/remove_router_interface`, alice, { subnet_id: subnet.id })).toMatchObject({ status: 409, type: 'RouterInterfaceInUseByRoute' });
    expect(await refused('DELETE', path, alice)).toMatchObject({ status: 409, type: 'RouterInUse' });
    expect(await refused('PUT', `${path}/remove_router_interface`, alice, { port_id: MISSING })).toMatchObject({ status: 404, type: 'RouterInterfaceNotFound' });
    await call('PUT', path, alice, { router: { routes: [] } });
    expect((await call('PUT', `${path}/remove_router_interface`, alice, { subnet_id: subnet.id })).body).toMatchObject({ subnet_id: subnet.id, network_id: net.id, port_id: null });
    expect(await refused('PUT', `${path}/remove_router_interface`, alice, { subnet_id: subnet.id })).toEqual({
      status: 404,
      type: 'RouterInterfaceNotFoundForSubnet',
      message: `Router ${r.id} has no interface on subnet ${subnet.id}`,
    });
    expect((await call('DELETE', path, alice)).status).toBe(204);
    expect(await refused('GET', path, alice)).toMatchObject({ status: 404, type: 'RouterNotFound' });
  });

  it('floating IPs: allocate and associate in one create, move, disassociate, If-Match, release, tenancy, and the refusals', async () => {
    const { net, subnet, port, port2 } = await network(alice, '10.2.0.0/24');
    const r = (await call('POST', '/v2.0/routers', alice, { router: { name: 'fip-router', external_gateway_info: { network_id: pool } } })).body.router;
    await call('PUT', `/v2.0/routers/${r.id}/add_router_interface`, alice, { subnet_id: subnet.id });

    const created = await call('POST', '/v2.0/floatingips', alice, { floatingip: { floating_network_id: pool, port_id: port.id, description: 'web' } });
    expect(created.status).toBe(201);
    const f = created.body.floatingip;
    expect(f).toEqual({
      id: expect.any(String),
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      floating_network_id: pool,
      floating_ip_address: expect.stringMatching(/^203\.0\.113\.\d+$/),
      port_id: port.id,
      fixed_ip_address: port.fixedIps[0]!.ip,
      router_id: r.id,
      // The port is bound to no hypervisor: not realised anywhere.
      status: 'DOWN',
      description: 'web',
      revision_number: 2,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    const path = `/v2.0/floatingips/${f.id}`;

    // The same fixed IP again: 409, and the address just allocated goes back (all or nothing).
    const count = (await call('GET', '/v2.0/floatingips', alice)).body.floatingips.length;
    const taken = await call('POST', '/v2.0/floatingips', alice, { floatingip: { floating_network_id: pool, port_id: port.id } });
    expect([taken.status, taken.body.NeutronError.type]).toEqual([409, 'FloatingIPPortAlreadyAssociated']);
    expect((await call('GET', '/v2.0/floatingips', alice)).body.floatingips.length).toBe(count);
    expect(await refused('POST', '/v2.0/floatingips', alice, { floatingip: { floating_network_id: net.id } })).toMatchObject({ status: 400, type: 'BadRequest', message: /is not an external network/ });
    expect(await refused('POST', '/v2.0/floatingips', alice, { floatingip: { floating_network_id: pool, floating_ip_address: f.floating_ip_address } })).toMatchObject({ status: 409, type: 'IpAddressAlreadyAllocated' });
    expect(await refused('POST', '/v2.0/floatingips', alice, { floatingip: { port_id: port.id } })).toMatchObject({ status: 400, message: "Failed to parse request. Required attribute 'floating_network_id' not specified" });
    expect(await refused('POST', '/v2.0/floatingips', alice, { floatingip: { floating_network_id: pool, port_id: MISSING } })).toMatchObject({ status: 404, type: 'PortNotFound' });

    // Moved in one update (NAT: disassociate, associate), then disassociated; a stale If-Match is 412.
    const moved = await stack.request('PUT', path, { token: alice.token, headers: { 'If-Match': 'revision_number=2' }, body: { floatingip: { port_id: port2.id } } });
    expect(moved.body.floatingip).toMatchObject({ port_id: port2.id, fixed_ip_address: port2.fixedIps[0]!.ip, revision_number: 4 });
    const stale = await stack.request('PUT', path, { token: alice.token, headers: { 'If-Match': 'revision_number=2' }, body: { floatingip: { port_id: null } } });
    expect([stale.status, stale.body.NeutronError.type]).toEqual([412, 'RevisionNumberConstraintFailed']);
    expect((await call('GET', `/v2.0/floatingips?port_id=${port2.id}&fields=id`, alice)).body.floatingips).toEqual([{ id: f.id }]);
    expect((await call('PUT', path, alice, { floatingip: { port_id: null } })).body.floatingip).toMatchObject({ port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', revision_number: 5 });
    expect(await refused('PUT', path, alice, { floatingip: { description: 'changed' } })).toMatchObject({ status: 400, type: 'BadRequest' });
    expect(await refused('PUT', path, alice, { floatingip: { floating_network_id: pool } })).toMatchObject({ status: 400, message: 'Cannot update read-only attribute floating_network_id' });

    // Another project: not found; a reader: 403; then released.
    expect(await refused('GET', path, bob)).toEqual({ status: 404, type: 'FloatingIPNotFound', message: `Floating IP ${f.id} could not be found` });
    expect(await refused('PUT', path, bob, { floatingip: { port_id: null } })).toMatchObject({ status: 404, type: 'FloatingIPNotFound' });
    expect(await refused('DELETE', path, rita)).toMatchObject({ status: 403, type: 'PolicyNotAuthorized' });
    expect((await call('DELETE', path, alice)).status).toBe(204);
    expect(await refused('GET', path, alice)).toMatchObject({ status: 404, type: 'FloatingIPNotFound' });
    expect(await refused('DELETE', path, alice)).toMatchObject({ status: 404, type: 'FloatingIPNotFound' });
  });
});
