/**
 * The L3 resources against the real services: IPAM and NAT processes on a
 * nats-server with the production users, called through the same contract
 * clients the REST core gives them. Each Neutron operation is checked for
 * its representation, and each refusal for its code, Neutron type and that
 * nothing was written. (The HTTP layer is the core's: its wire tests cover
 * routing, bodies and status codes.)
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { ipamContract, natContract, statusContract } from '@strata/contracts';
import { ErrorCode, type StrataError } from '@strata/errors';
import { JetStreamEventStore } from '@strata/eventlog';
import type { Identity } from '@strata/identity';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { commandSignerFrom, ContractClient, NatsRequester, ReadYourWrites } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import type { Json, NeutronClients, NeutronContext } from '../resource.js';
import { externalNetworks, externalSubnetId, externalSubnets } from './external-networks.js';
import { floatingips } from './floatingips.js';
import { routers } from './routers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('routers, floating IPs and external networks over the real IPAM and NAT', () => {
  let nats: StrataNats;
  const procs: ManagedProcess[] = [];
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let clients: NeutronClients;
  let pool: string;

  const ctxOf = (project: string, role: Identity['role']): NeutronContext => {
    const identity: Identity = { userId: `${project}-u`, userName: `${project}-user`, projectId: project, projectName: project, role, keystoneRoles: [role], expiresAt: Date.now() + 3600_000, auditId: 'a' };
    const requestId = randomUUID();
    return {
      identity,
      meta: { actor: `keystone:${identity.userName}`, tenant: project, admin: role === 'admin', requestId, correlationId: requestId, at: new Date().toISOString() },
      clients,
    };
  };
  const a = () => ctxOf('proj-a', 'member');
  const b = () => ctxOf('proj-b', 'member');
  const admin = () => ctxOf('ops', 'admin');

  /** The refusal `work` ended with, and that the log did not move. */
  async function refused(work: () => Promise<unknown>): Promise<{ code: string; type: unknown; message: string }> {
    const before = await store.lastSeq();
    const err = (await work().then(
      () => undefined,
      (e: unknown) => e,
    )) as StrataError | undefined;
    if (!err) throw new Error('expected a refusal');
    expect(await store.lastSeq()).toBe(before);
    return { code: err.code, type: err.details?.['neutronType'], message: err.message };
  }

  beforeAll(async () => {
    nats = await startProvisionedNats();
    const env = (user: string) => ({ ...nats.env(user), STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info' });
    procs.push(startProcess('ipam', [process.execPath, `${ROOT}services/ipam/dist/main.js`], { env: env('ipam') }));
    procs.push(startProcess('nat', [process.execPath, `${ROOT}services/nat/dist/main.js`], { env: env('nat') }));
    await Promise.all(procs.map((p) => p.ready));
    nc = await nats.connect('api');
    store = await JetStreamEventStore.open(nc);
    const rw = new ReadYourWrites();
    const requester = (timeoutMs: number) => new NatsRequester(nc, { timeoutMs, signer: commandSignerFrom() });
    const client = <C extends Parameters<typeof ContractClient>[0]>(c: C, timeoutMs = 15_000) => new ContractClient(c, requester(timeoutMs), rw, { checkReplies: true });
    // No status service here (it needs hostview): a floating IP's status then reads DOWN, as for any unrealised port.
    clients = { ipam: client(ipamContract), nat: client(natContract), status: client(statusContract, 300) } as unknown as NeutronClients;
    pool = (await clients.ipam.command('pool.create', { name: 'public', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, admin().meta)).id;
    await clients.ipam.command('pool.create', { name: 'hosts', cidr: '198.51.100.0/24', purpose: 'host-ip' }, admin().meta);
  });

  afterAll(async () => {
    await nc?.close();
    for (const p of procs.reverse()) await p.stop();
    await nats?.stop();
  });

  /** A tenant network with one IPv4 subnet and a port on it. */
  async function network(ctx: () => NeutronContext, cidr: string) {
    const net = await clients.ipam.command('network.create', { name: `n-${cidr}` }, ctx().meta);
    const subnet = await clients.ipam.command('subnet.create', { networkId: net.id, cidr }, ctx().meta);
    const port = await clients.ipam.command('port.create', { networkId: net.id }, ctx().meta);
    return { net, subnet, port };
  }

  it('lists each floating-IP pool (only those) as an external network with its subnet, for every project', async () => {
    const nets = await externalNetworks(b());
    expect(nets).toEqual([expect.objectContaining({ id: pool, name: 'public', 'router:external': true, shared: true, subnets: [externalSubnetId(pool)] })]);
    expect(await externalSubnets(a())).toEqual([expect.objectContaining({ id: externalSubnetId(pool), network_id: pool, cidr: '203.0.113.0/24' })]);
  });

  it('routers: create with a gateway, interfaces, extra routes, If-Match, and the refusals Neutron gives', async () => {
    const { net, subnet } = await network(a, '10.1.0.0/24');
    const r = await routers.create!(a(), { name: 'edge', external_gateway_info: { network_id: pool } });
    expect(r).toMatchObject({ name: 'edge', tenant_id: 'proj-a', status: 'ACTIVE', external_gateway_info: { network_id: pool, enable_snat: true, external_fixed_ips: [] }, routes: [], revision_number: 1 });
    const id = r['id'] as string;

    // A gateway naming no external network: 400 for a tenant network, 404 for an unknown id; no router is made.
    expect(await refused(() => routers.create!(a(), { name: 'x', external_gateway_info: { network_id: net.id } }))).toMatchObject({ code: ErrorCode.InvalidArgument, message: `Network ${net.id} is not an external network` });
    expect(await refused(() => routers.create!(a(), { name: 'x', external_gateway_info: { network_id: MISSING } }))).toMatchObject({ code: ErrorCode.NotFound, type: 'NetworkNotFound' });
    expect(await refused(() => routers.create!(a(), { name: 'x', admin_state_up: false }))).toMatchObject({ code: ErrorCode.InvalidArgument, type: 'BadRequest' });

    expect(await routers.actions!['add_router_interface']!(a(), id, { subnet_id: subnet.id })).toEqual({
      id,
      tenant_id: 'proj-a',
      project_id: 'proj-a',
      port_id: null,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
      network_id: net.id,
    });
    expect(await refused(() => routers.actions!['add_router_interface']!(a(), id, { subnet_id: subnet.id }))).toMatchObject({ code: ErrorCode.InvalidArgument, message: `Router already has a port on subnet ${subnet.id}` });
    expect(await refused(() => routers.actions!['add_router_interface']!(a(), id, { port_id: MISSING }))).toMatchObject({ code: ErrorCode.InvalidArgument, message: /router interfaces are subnets, not ports/ });
    const other = await routers.create!(a(), { name: 'other' });
    expect(await refused(() => routers.actions!['add_router_interface']!(a(), other['id'] as string, { subnet_id: subnet.id }))).toMatchObject({ code: ErrorCode.AlreadyExists, type: 'IpAddressAlreadyAllocated' });
    const theirs = await network(b, '10.1.0.0/24');
    expect(await refused(() => routers.actions!['add_router_interface']!(a(), id, { subnet_id: theirs.subnet.id }))).toMatchObject({ code: ErrorCode.NotFound, type: 'SubnetNotFound' });

    // extraroute: the nexthop must be on one of the router's subnets (IPAM decides), If-Match is IPAM's revision check.
    expect(await refused(() => routers.update!(a(), id, { routes: [{ destination: '192.0.2.0/24', nexthop: '10.9.0.5' }] }, undefined))).toMatchObject({ code: ErrorCode.InvalidArgument, type: 'InvalidRoutes' });
    const routed = await routers.update!(a(), id, { routes: [{ destination: '192.0.2.0/24', nexthop: '10.1.0.5' }] }, 2);
    expect(routed).toMatchObject({ routes: [{ destination: '192.0.2.0/24', nexthop: '10.1.0.5' }], revision_number: 3 });
    expect(await refused(() => routers.update!(a(), id, { name: 'late' }, 2))).toMatchObject({ code: ErrorCode.FailedPrecondition, message: /is at revision 3, not the expected 2/ });
    const added = await routers.actions!['add_extraroutes']!(a(), id, { router: { routes: [{ destination: '198.51.100.0/24', nexthop: '10.1.0.6' }] } });
    expect((added['router'] as Json)['routes']).toEqual([
      { destination: '192.0.2.0/24', nexthop: '10.1.0.5' },
      { destination: '198.51.100.0/24', nexthop: '10.1.0.6' },
    ]);
    await routers.actions!['remove_extraroutes']!(a(), id, { router: { routes: [{ destination: '198.51.100.0/24', nexthop: '10.1.0.6' }] } });

    // The gateway goes and comes back by update; another project sees no such router.
    expect(await routers.update!(a(), id, { external_gateway_info: {} }, undefined)).toMatchObject({ external_gateway_info: null });
    expect(await routers.update!(a(), id, { external_gateway_info: { network_id: pool } }, undefined)).toMatchObject({ external_gateway_info: { network_id: pool } });
    expect(await refused(() => routers.show(b(), id))).toMatchObject({ code: ErrorCode.NotFound, type: 'RouterNotFound' });
    expect((await routers.list(b(), new Map())).map((x) => x['id'])).not.toContain(id);
    expect((await routers.list(a(), new Map())).find((x) => x['id'] === id)).toMatchObject({ external_gateway_info: { network_id: pool } });

    // In use: a route through the interface, then the interface itself.
    expect(await refused(() => routers.actions!['remove_router_interface']!(a(), id, { subnet_id: subnet.id }))).toMatchObject({ code: ErrorCode.FailedPrecondition, type: 'RouterInterfaceInUseByRoute' });
    expect(await refused(() => routers.delete!(a(), id))).toMatchObject({ code: ErrorCode.FailedPrecondition, type: 'RouterInUse' });
    expect(await refused(() => routers.actions!['remove_router_interface']!(a(), id, { port_id: MISSING }))).toMatchObject({ code: ErrorCode.NotFound, type: 'RouterInterfaceNotFound' });
    await routers.update!(a(), id, { routes: [] }, undefined);
    expect(await routers.actions!['remove_router_interface']!(a(), id, { subnet_id: subnet.id })).toMatchObject({ subnet_id: subnet.id, network_id: net.id });
    expect(await refused(() => routers.actions!['remove_router_interface']!(a(), id, { subnet_id: subnet.id }))).toMatchObject({ code: ErrorCode.NotFound, type: 'RouterInterfaceNotFoundForSubnet' });
    await routers.delete!(a(), id);
    expect(await refused(() => routers.show(a(), id))).toMatchObject({ code: ErrorCode.NotFound, type: 'RouterNotFound' });
  });

  it('floating IPs: allocate and associate in one create, move, disassociate, If-Match, release, and the refusals', async () => {
    const { net, subnet, port } = await network(a, '10.2.0.0/24');
    const second = await clients.ipam.command('port.create', { networkId: net.id }, a().meta);
    const r = await routers.create!(a(), { name: 'fip-router', external_gateway_info: { network_id: pool } });
    await routers.actions!['add_router_interface']!(a(), r['id'] as string, { subnet_id: subnet.id });

    const f = await floatingips.create!(a(), { floating_network_id: pool, port_id: port.id, description: 'web' });
    expect(f).toMatchObject({
      tenant_id: 'proj-a',
      floating_network_id: pool,
      floating_ip_address: expect.stringMatching(/^203\.0\.113\./),
      port_id: port.id,
      fixed_ip_address: port.fixedIps[0]!.ip,
      router_id: r['id'],
      status: 'DOWN',
      description: 'web',
      revision_number: 2,
    });
    const id = f['id'] as string;

    // The same fixed IP again: 409, and the address just allocated goes back (all or nothing).
    const before = (await floatingips.list(a(), new Map())).length;
    const taken = await refusedAllowingCompensation(() => floatingips.create!(a(), { floating_network_id: pool, port_id: port.id }));
    expect(taken).toMatchObject({ code: ErrorCode.AlreadyExists, type: 'FloatingIPPortAlreadyAssociated' });
    expect((await floatingips.list(a(), new Map())).length).toBe(before);
    expect(await refused(() => floatingips.create!(a(), { floating_network_id: net.id }))).toMatchObject({ code: ErrorCode.InvalidArgument, message: /is not an external network/ });
    expect(await refused(() => floatingips.create!(a(), { floating_network_id: pool, floating_ip_address: f['floating_ip_address'] }))).toMatchObject({ code: ErrorCode.AlreadyExists, type: 'IpAddressAlreadyAllocated' });

    // Moved in one update (NAT: disassociate, associate), then disassociated; stale If-Match refused.
    expect(await floatingips.update!(a(), id, { port_id: second.id }, 2)).toMatchObject({ port_id: second.id, fixed_ip_address: second.fixedIps[0]!.ip, revision_number: 4 });
    expect(await refused(() => floatingips.update!(a(), id, { port_id: null }, 2))).toMatchObject({ code: ErrorCode.FailedPrecondition, message: /is at revision 4, not the expected 2/ });
    expect(await floatingips.update!(a(), id, { port_id: null }, 4)).toMatchObject({ port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', revision_number: 5 });
    expect(await refused(() => floatingips.update!(a(), id, { description: 'changed' }, undefined))).toMatchObject({ code: ErrorCode.InvalidArgument });
    expect((await floatingips.list(a(), new Map([['port_id', [second.id]]]))).map((x) => x['id'])).toEqual([]);

    // Another project: not found; then released.
    expect(await refused(() => floatingips.show(b(), id))).toMatchObject({ code: ErrorCode.NotFound, type: 'FloatingIPNotFound' });
    expect(await refused(() => floatingips.update!(b(), id, { port_id: port.id }, undefined))).toMatchObject({ code: ErrorCode.NotFound, type: 'FloatingIPNotFound' });
    await floatingips.delete!(a(), id);
    expect(await refused(() => floatingips.show(a(), id))).toMatchObject({ code: ErrorCode.NotFound, type: 'FloatingIPNotFound' });
    expect(await refused(() => floatingips.delete!(a(), id))).toMatchObject({ code: ErrorCode.NotFound, type: 'FloatingIPNotFound' });
  });

  /** A refusal after which the log holds the allocation and its release (a compensated create), nothing live. */
  async function refusedAllowingCompensation(work: () => Promise<unknown>): Promise<{ code: string; type: unknown }> {
    const err = (await work().then(
      () => undefined,
      (e: unknown) => e,
    )) as StrataError | undefined;
    if (!err) throw new Error('expected a refusal');
    return { code: err.code, type: err.details?.['neutronType'] };
  }
});
