/**
 * networking-sfc's resources over the wire: the Neutron REST service with
 * these modules, the real control plane behind it (startNeutronStack:
 * production NATS users, real IPAM, secgroup and chaining processes).
 * Representations exactly as networking-sfc's, the refusals of what Strata
 * lacks (400, writing nothing), networking-sfc's error types on the
 * service's refusals, updates with revisions, tenancy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainingClient, IpamClient, type Principal } from '@strata/lab';
import { CommandSigner } from '@strata/runtime';
import { startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from '../../test/stack.js';
import { SFC_RESOURCES } from './index.js';

const MISSING = '00000000-0000-4000-8000-00000000dead';

describe('networking-sfc over the Neutron API', () => {
  let stack: NeutronStack;
  let alice: StackLogin;
  let bob: StackLogin;
  let admin: StackLogin;
  const ids: Record<string, string> = {};

  const call = (who: StackLogin, method: string, path: string, body?: unknown): Promise<StackResponse> =>
    stack.request(method, `/v2.0/sfc/${path}`, { token: who.token, ...(body === undefined ? {} : { body }) });
  const create = async (who: StackLogin, collection: string, member: string, body: object) => {
    const r = await call(who, 'POST', collection, { [member]: body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body[member];
  };
  /** A refused request: its status and NeutronError type, and nothing written. */
  const refused = async (who: StackLogin, method: string, path: string, body?: unknown) => {
    const before = await stack.lastSeq();
    const r = await call(who, method, path, body);
    expect(await stack.writtenBy(r, before)).toEqual([]);
    return { status: r.status, type: r.body?.NeutronError?.type, message: r.body?.NeutronError?.message as string };
  };

  beforeAll(async () => {
    stack = await startNeutronStack({ resources: SFC_RESOURCES, agents: ['hv1', 'hv2'] });
    alice = await stack.login('project-a', 'alice', 'member');
    bob = await stack.login('project-b', 'bob', 'member');
    admin = await stack.login('sfc-ops', 'root', 'admin');
    // The appliances' network, subnet, router and ports, straight through IPAM's contract (the Neutron port modules are another helper's).
    const nc = await stack.connectAs('api');
    const signer = new CommandSigner(stack.controlPlane.commandKeys.signingKey);
    const ipam = new IpamClient(nc, 15_000, undefined, signer);
    const op: Principal = { tenant: 'admin', admin: true };
    const a: Principal = { tenant: alice.projectId, admin: false };
    const pool = await ipam.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, op);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']]) await ipam.command('hypervisor.register', { id: id!, vtepIp: vtepIp!, hostPoolId: pool.id }, op);
    const net = await ipam.command('network.create', { name: 'n' }, a);
    const subnet = await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, a);
    ids.router = (await ipam.command('router.create', { name: 'r' }, a)).id;
    await ipam.command('router.addInterface', { id: ids.router, subnetId: subnet.id }, a);
    ids.fw1 = (await ipam.command('port.create', { networkId: net.id, hostId: 'hv1' }, a)).id;
    ids.fw2 = (await ipam.command('port.create', { networkId: net.id, hostId: 'hv2' }, a)).id;
    const b: Principal = { tenant: bob.projectId, admin: false };
    const netB = await ipam.command('network.create', { name: 'b' }, b);
    await ipam.command('subnet.create', { networkId: netB.id, cidr: '10.0.0.0/24' }, b);
    ids.theirPort = (await ipam.command('port.create', { networkId: netB.id, hostId: 'hv2' }, b)).id;
    // Chaining decides against IPAM's ports: wait until it has applied them (read-your-writes through the same position).
    await new ChainingClient(nc, 15_000, ipam.seq, signer).query('function.list', {}, a);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists the sfc and flow_classifier extensions', async () => {
    const r = await stack.request('GET', '/v2.0/extensions', { token: alice.token });
    const aliases = (r.body.extensions as { alias: string }[]).map((e) => e.alias);
    expect(aliases).toEqual(expect.arrayContaining(['sfc', 'flow_classifier']));
    expect((await stack.request('GET', '/v2.0/extensions/sfc', { token: alice.token })).body.extension).toMatchObject({ name: 'Service Function Chaining' });
  });

  it('port pairs: created and shown exactly as networking-sfc\'s; what Strata lacks is a 400 that writes nothing', async () => {
    const pp1 = await create(alice, 'port_pairs', 'port_pair', { name: 'fw1', ingress: ids.fw1, egress: ids.fw1 });
    expect(pp1).toEqual({
      id: pp1.id,
      name: 'fw1',
      description: '',
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      revision_number: 1,
      ingress: ids.fw1,
      egress: ids.fw1,
      service_function_parameters: { correlation: null, weight: 1 },
    });
    ids.pp1 = pp1.id;
    ids.pp2 = (await create(alice, 'port_pairs', 'port_pair', { name: 'fw2', ingress: ids.fw2, egress: ids.fw2, service_function_parameters: { correlation: null, weight: 1 } })).id;
    expect((await call(alice, 'GET', `port_pairs/${ids.pp1}`)).body.port_pair).toEqual(pp1);
    const named = await call(alice, 'GET', 'port_pairs?name=fw2&fields=id&fields=ingress');
    expect(named.body).toEqual({ port_pairs: [{ id: ids.pp2, ingress: ids.fw2 }] });

    expect(await refused(alice, 'POST', 'port_pairs', { port_pair: { ingress: ids.fw1, egress: ids.fw1, service_function_parameters: { correlation: 'mpls' } } })).toMatchObject({
      status: 400,
      type: 'HTTPBadRequest',
      message: expect.stringContaining('without MPLS or NSH'),
    });
    expect(await refused(alice, 'POST', 'port_pairs', { port_pair: { ingress: ids.fw1, egress: ids.fw1, service_function_parameters: { weight: 3 } } })).toMatchObject({ status: 400, message: expect.stringContaining('weight') });
    expect(await refused(alice, 'POST', 'port_pairs', { port_pair: { ingress: ids.fw1 } })).toMatchObject({ status: 400, message: "Failed to parse request. Required attribute 'egress' not specified" });
    for (const port of [MISSING, ids.theirPort]) {
      expect(await refused(alice, 'POST', 'port_pairs', { port_pair: { ingress: port, egress: port } })).toMatchObject({ status: 404, type: 'PortPairPortNotFound' });
    }
    expect(await refused(alice, 'PUT', `port_pairs/${ids.pp1}`, { port_pair: { ingress: ids.fw2 } })).toMatchObject({ status: 400, message: 'Cannot update read-only attribute ingress' });
    expect(await refused(alice, 'GET', `port_pairs/${MISSING}`)).toMatchObject({ status: 404, type: 'PortPairNotFound', message: `Port Pair ${MISSING} not found.` });
  });

  it('port pair groups: flow-hash groups; lb_fields, n-tuple mappings, taps and empty groups refused', async () => {
    const ppg = await create(alice, 'port_pair_groups', 'port_pair_group', { name: 'fws', port_pairs: [ids.pp1, ids.pp2] });
    expect(ppg).toEqual({
      id: ppg.id,
      name: 'fws',
      description: '',
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      revision_number: 1,
      port_pairs: [ids.pp1, ids.pp2],
      port_pair_group_parameters: { lb_fields: [], ppg_n_tuple_mapping: { ingress_n_tuple: {}, egress_n_tuple: {} } },
      tap_enabled: false,
      group_id: null,
    });
    ids.ppg = ppg.id;
    for (const body of [
      { port_pairs: [ids.pp1], port_pair_group_parameters: { lb_fields: ['ip_src'] } },
      { port_pairs: [ids.pp1], port_pair_group_parameters: { ppg_n_tuple_mapping: { ingress_n_tuple: { source_ip_prefix: '10.0.0.0/24' } } } },
      { port_pairs: [ids.pp1], tap_enabled: true },
      { port_pairs: [] },
      {},
    ]) {
      expect(await refused(alice, 'POST', 'port_pair_groups', { port_pair_group: body })).toMatchObject({ status: 400, type: 'HTTPBadRequest' });
    }
    expect(await refused(alice, 'POST', 'port_pair_groups', { port_pair_group: { port_pairs: [MISSING] } })).toMatchObject({ status: 404, type: 'PortPairNotFound' });
    expect((await call(alice, 'GET', 'port_pair_groups?port_pairs=' + ids.pp2)).body.port_pair_groups.map((g: { id: string }) => g.id)).toEqual([ids.ppg]);
  });

  it('flow classifiers: networking-sfc\'s conversions; logical ports, L7 and unknown protocols refused', async () => {
    const fc = await create(alice, 'flow_classifiers', 'flow_classifier', {
      name: 'web',
      ethertype: 'IPv4',
      protocol: 'tcp',
      destination_ip_prefix: '10.0.1.0/24',
      destination_port_range_min: 80,
      destination_port_range_max: 80,
      source_port_range_min: 1024,
    });
    expect(fc).toEqual({
      id: fc.id,
      name: 'web',
      description: '',
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      revision_number: 1,
      ethertype: 'IPv4',
      protocol: 'tcp',
      source_port_range_min: 1024,
      source_port_range_max: 65535,
      destination_port_range_min: 80,
      destination_port_range_max: 80,
      source_ip_prefix: null,
      destination_ip_prefix: '10.0.1.0/24',
      logical_source_port: null,
      logical_destination_port: null,
      l7_parameters: {},
    });
    ids.fc = fc.id;
    expect(await refused(alice, 'POST', 'flow_classifiers', { flow_classifier: { logical_source_port: ids.fw1 } })).toMatchObject({ status: 400, message: expect.stringContaining('source_ip_prefix') });
    expect(await refused(alice, 'POST', 'flow_classifiers', { flow_classifier: { l7_parameters: { url: '/x' } } })).toMatchObject({ status: 400, type: 'FlowClassifierInvalidL7Parameter' });
    expect(await refused(alice, 'POST', 'flow_classifiers', { flow_classifier: { protocol: 'sctp' } })).toMatchObject({ status: 400, type: 'FlowClassifierInvalidProtocol' });
    expect(await refused(alice, 'POST', 'flow_classifiers', { flow_classifier: { protocol: 'tcp', source_port_range_min: 70000 } })).toMatchObject({ status: 400, type: 'FlowClassifierInvalidPortValue' });
    // The service's own rules, answered as neutron-lib's InvalidInput.
    expect(await refused(alice, 'POST', 'flow_classifiers', { flow_classifier: { protocol: 'tcp', destination_port_range_min: 90, destination_port_range_max: 80 } })).toMatchObject({
      status: 400,
      type: 'InvalidInput',
      message: expect.stringContaining('reversed'),
    });
    expect(await refused(alice, 'PUT', `flow_classifiers/${ids.fc}`, { flow_classifier: { protocol: 'udp' } })).toMatchObject({ status: 400, message: 'Cannot update read-only attribute protocol' });
  });

  it('port chains: on the router of the hops\' legs, asymmetric by default; clashes get networking-sfc\'s types', async () => {
    const pc = await create(alice, 'port_chains', 'port_chain', { name: 'web-chain', port_pair_groups: [ids.ppg], flow_classifiers: [ids.fc] });
    expect(pc).toEqual({
      id: pc.id,
      name: 'web-chain',
      description: '',
      tenant_id: alice.projectId,
      project_id: alice.projectId,
      revision_number: 1,
      port_pair_groups: [ids.ppg],
      flow_classifiers: [ids.fc],
      chain_parameters: { correlation: null, symmetric: false },
      chain_id: null,
    });
    ids.pc = pc.id;
    expect(await refused(alice, 'POST', 'port_chains', { port_chain: { port_pair_groups: [ids.ppg], flow_classifiers: [ids.fc] } })).toMatchObject({ status: 409, type: 'FlowClassifierInUse' });
    const twin = await create(alice, 'flow_classifiers', 'flow_classifier', { protocol: 'tcp', destination_ip_prefix: '10.0.1.0/24', destination_port_range_min: 80, destination_port_range_max: 80, source_port_range_min: 1024 });
    ids.twin = twin.id;
    expect(await refused(alice, 'POST', 'port_chains', { port_chain: { port_pair_groups: [ids.ppg], flow_classifiers: [ids.twin] } })).toMatchObject({ status: 409, type: 'PortChainFlowClassifierInConflict' });
    for (const body of [
      { port_pair_groups: [ids.ppg], flow_classifiers: [ids.twin], chain_parameters: { correlation: 'mpls' } },
      { port_pair_groups: [ids.ppg], flow_classifiers: [ids.twin], chain_id: 7 },
      { port_pair_groups: [ids.ppg] },
    ]) {
      expect(await refused(alice, 'POST', 'port_chains', { port_chain: body })).toMatchObject({ status: 400, type: 'HTTPBadRequest' });
    }
    expect(await refused(alice, 'POST', 'port_chains', { port_chain: { port_pair_groups: [], flow_classifiers: [ids.twin] } })).toMatchObject({ status: 400, type: 'PortPairGroupNotSpecified' });
    expect(await refused(alice, 'POST', 'port_chains', { port_chain: { port_pair_groups: [MISSING], flow_classifiers: [ids.twin] } })).toMatchObject({ status: 404, type: 'PortPairGroupNotFound' });
  });

  it('updates what networking-sfc lets one update, with If-Match; deleting what is in use is 409; other projects see nothing', async () => {
    const renamed = await stack.request('PUT', `/v2.0/sfc/port_pairs/${ids.pp1}`, { token: alice.token, body: { port_pair: { name: 'fw-one' } }, headers: { 'If-Match': 'revision_number=1' } });
    expect(renamed.body.port_pair).toMatchObject({ name: 'fw-one', revision_number: 2 });
    const stale = await stack.request('PUT', `/v2.0/sfc/port_pairs/${ids.pp1}`, { token: alice.token, body: { port_pair: { name: 'x' } }, headers: { 'If-Match': 'revision_number=1' } });
    expect([stale.status, stale.body.NeutronError.type]).toEqual([412, 'RevisionNumberConstraintFailed']);

    expect((await call(alice, 'PUT', `port_pair_groups/${ids.ppg}`, { port_pair_group: { port_pairs: [ids.pp2] } })).body.port_pair_group).toMatchObject({ port_pairs: [ids.pp2], revision_number: 2 });
    expect(await refused(alice, 'PUT', `port_pair_groups/${ids.ppg}`, { port_pair_group: { port_pairs: [] } })).toMatchObject({ status: 400 });
    const chain = await call(alice, 'PUT', `port_chains/${ids.pc}`, { port_chain: { name: 'chain-2', flow_classifiers: [ids.fc, ids.twin] } });
    expect(chain.body.port_chain).toMatchObject({ name: 'chain-2', flow_classifiers: [ids.fc, ids.twin], revision_number: 2 });

    expect(await refused(alice, 'DELETE', `port_pairs/${ids.pp2}`)).toMatchObject({ status: 409, type: 'PortPairInUse' });
    expect(await refused(alice, 'DELETE', `port_pair_groups/${ids.ppg}`)).toMatchObject({ status: 409, type: 'PortPairGroupInUse' });
    expect(await refused(alice, 'DELETE', `flow_classifiers/${ids.fc}`)).toMatchObject({ status: 409, type: 'FlowClassifierInUse' });

    expect((await call(bob, 'GET', 'port_chains')).body).toEqual({ port_chains: [] });
    expect(await refused(bob, 'GET', `port_chains/${ids.pc}`)).toMatchObject({ status: 404, type: 'PortChainNotFound' });
    expect(await refused(bob, 'DELETE', `port_chains/${ids.pc}`)).toMatchObject({ status: 404, type: 'PortChainNotFound' });
    expect((await call(admin, 'GET', 'port_chains')).body.port_chains.map((c: { id: string }) => c.id)).toEqual([ids.pc]);

    for (const [path, id] of [['port_chains', ids.pc], ['port_pair_groups', ids.ppg], ['port_pairs', ids.pp1], ['port_pairs', ids.pp2], ['flow_classifiers', ids.fc], ['flow_classifiers', ids.twin]]) {
      expect((await call(alice, 'DELETE', `${path}/${id}`)).status).toBe(204);
    }
    expect((await call(alice, 'GET', 'port_pairs')).body).toEqual({ port_pairs: [] });
  });
});
