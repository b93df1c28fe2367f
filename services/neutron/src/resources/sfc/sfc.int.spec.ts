/**
 * The networking-sfc resources against the real chaining service (and the
 * IPAM and secgroup services it checks against) on a nats-server with the
 * production users: each resource module's list/show/create/update/delete
 * as the REST core calls them, the representations networking-sfc gives,
 * the refusals of what Strata lacks, and networking-sfc's error types on the
 * service's refusals. The HTTP layer is the core's (tested there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { auditContract, chainingContract, ipamContract, natContract, secgroupContract, statusContract } from '@strata/contracts';
import { StrataError } from '@strata/errors';
import type { Identity } from '@strata/identity';
import { IpamClient, startProcess, startProvisionedNats, type ManagedProcess, type Principal } from '@strata/lab';
import { commandSignerFrom, ContractClient, NatsRequester, ReadYourWrites } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import type { NeutronContext } from '../../resource.js';
import { flowClassifiers, portChains, portPairGroups, portPairs, sfcExtensions, sfcResources } from './index.js';

// Keystone project ids: a Keystone project is a Strata tenant.
const A = 'a1'.repeat(16);
const B = 'b2'.repeat(16);
const MISSING = '00000000-0000-4000-8000-00000000dead';
const SERVICES = fileURLToPath(new URL('../../../../', import.meta.url));

const service = (name: string, natsUrl: string, env: Record<string, string>): ManagedProcess =>
  startProcess(name, [process.execPath, `${SERVICES}${name}/dist/main.js`], { env: { NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', ...env } });

/** What the refusal was: the service's code and the NeutronError type the core will answer. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; type: unknown; message: string }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    return { code: err.code, type: err.details.neutronType, message: err.message };
  }
  throw new Error('expected a refusal, got success');
}

describe('networking-sfc resources on the chaining service', () => {
  let nats: StrataNats;
  const procs: ManagedProcess[] = [];
  let ipam: IpamClient;
  let clients: NeutronContext['clients'];
  const ids: Record<string, string> = {};

  /** A request's context as the core makes it: the Keystone identity and a fresh request id. */
  const as = (project: string, role: Identity['role'] = 'member'): NeutronContext => {
    const who: Principal = { tenant: project, admin: role === 'admin', actor: `keystone:${project}-user` };
    const identity: Identity = { userId: `${project}-user`, userName: `${project}-user`, projectId: project, projectName: project, role, keystoneRoles: [role], expiresAt: Date.now() + 3_600_000, auditId: randomUUID() };
    return { identity, meta: ipam.meta(who), clients };
  };
  const a = () => as(A);

  beforeAll(async () => {
    nats = await startProvisionedNats({ agents: ['hv1', 'hv2'] });
    for (const name of ['ipam', 'secgroup', 'chaining']) procs.push(service(name, nats.url, nats.env(name)));
    await Promise.all(procs.map((p) => p.ready));
    const nc = await nats.connect('api');
    ipam = new IpamClient(nc);
    const requester = new NatsRequester(nc, { signer: commandSignerFrom() });
    const ryw = new ReadYourWrites();
    const client = <C extends Parameters<typeof ContractClient>[0]>(c: C) => new ContractClient(c, requester, ryw, { checkReplies: true });
    clients = {
      ipam: client(ipamContract),
      secgroup: client(secgroupContract),
      nat: client(natContract),
      chaining: client(chainingContract),
      status: client(statusContract),
      audit: client(auditContract),
    };
    const admin: Principal = { tenant: 'admin', admin: true };
    const pool = await ipam.command('pool.create', { name: 'h', cidr: '198.51.100.0/24', purpose: 'host-ip' }, admin);
    for (const [id, vtepIp] of [['hv1', '198.18.0.11'], ['hv2', '198.18.0.12']]) await ipam.command('hypervisor.register', { id: id!, vtepIp: vtepIp!, hostPoolId: pool.id }, admin);
    const ta: Principal = { tenant: A, admin: false };
    const net = await ipam.command('network.create', { name: 'n' }, ta);
    const subnet = await ipam.command('subnet.create', { networkId: net.id, cidr: '10.0.0.0/24' }, ta);
    ids.router = (await ipam.command('router.create', { name: 'r' }, ta)).id;
    await ipam.command('router.addInterface', { id: ids.router, subnetId: subnet.id }, ta);
    ids.fw1 = (await ipam.command('port.create', { networkId: net.id, hostId: 'hv1' }, ta)).id;
    ids.fw2 = (await ipam.command('port.create', { networkId: net.id, hostId: 'hv2' }, ta)).id;
    const tb: Principal = { tenant: B, admin: false };
    const netB = await ipam.command('network.create', { name: 'b' }, tb);
    await ipam.command('subnet.create', { networkId: netB.id, cidr: '10.0.0.0/24' }, tb);
    ids.theirPort = (await ipam.command('port.create', { networkId: netB.id, hostId: 'hv2' }, tb)).id;
  }, 90_000);

  afterAll(async () => {
    await ipam?.close();
    for (const p of [...procs].reverse()) await p.stop();
    await nats?.stop();
  });

  it('declares the sfc and flow_classifier extensions and serves the four collections under sfc/', () => {
    expect(sfcExtensions.map((e) => e.alias)).toEqual(['flow_classifier', 'sfc']);
    expect(sfcResources.map((r) => [r.path, r.collection, r.member, r.notFound])).toEqual([
      ['sfc/port_pairs', 'port_pairs', 'port_pair', 'PortPairNotFound'],
      ['sfc/port_pair_groups', 'port_pair_groups', 'port_pair_group', 'PortPairGroupNotFound'],
      ['sfc/flow_classifiers', 'flow_classifiers', 'flow_classifier', 'FlowClassifierNotFound'],
      ['sfc/port_chains', 'port_chains', 'port_chain', 'PortChainNotFound'],
    ]);
  });

  it('creates port pairs exactly as networking-sfc shows them, and refuses what Strata lacks, writing nothing', async () => {
    const pp1 = await portPairs.create!(a(), { name: 'fw1', ingress: ids.fw1, egress: ids.fw1 });
    expect(pp1).toEqual({
      id: pp1.id,
      name: 'fw1',
      description: '',
      tenant_id: A,
      project_id: A,
      revision_number: 1,
      ingress: ids.fw1,
      egress: ids.fw1,
      service_function_parameters: { correlation: null, weight: 1 },
    });
    ids.pp1 = pp1.id as string;
    ids.pp2 = (await portPairs.create!(a(), { name: 'fw2', ingress: ids.fw2, egress: ids.fw2, service_function_parameters: { correlation: null, weight: 1 } })).id as string;
    expect(Object.keys(await portPairs.show(a(), ids.pp1)).sort()).toEqual(Object.keys(portPairs.attributes).sort());

    expect(await refusal(portPairs.create!(a(), { ingress: ids.fw1, egress: ids.fw1, service_function_parameters: { correlation: 'mpls' } }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      type: 'InvalidInput',
      message: expect.stringContaining('without MPLS or NSH'),
    });
    expect(await refusal(portPairs.create!(a(), { ingress: ids.fw1, egress: ids.fw1, service_function_parameters: { weight: 3 } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('weight') });
    expect(await refusal(portPairs.create!(a(), { ingress: ids.fw1, egress: ids.fw1, service_function_parameters: { colour: 'red' } }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('colour') });
    expect(await refusal(portPairs.create!(a(), { ingress: ids.fw1 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('egress') });
    // A missing port and another project's port alike: networking-sfc's PortPairPortNotFound.
    for (const port of [MISSING, ids.theirPort]) {
      expect(await refusal(portPairs.create!(a(), { ingress: port, egress: port }))).toMatchObject({ code: 'NOT_FOUND', type: 'PortPairPortNotFound' });
    }
    // A member naming another project is refused by the service; an admin may.
    expect(await refusal(portPairs.create!(a(), { tenant_id: B, ingress: ids.theirPort, egress: ids.theirPort }))).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await portPairs.create!(as(A, 'admin'), { tenant_id: B, ingress: ids.theirPort, egress: ids.theirPort })).tenant_id).toBe(B);
    expect((await portPairs.list(a(), new Map())).map((p) => p.id).sort()).toEqual([ids.pp1, ids.pp2].sort());
  });

  it('creates a port pair group as a flow-hash group and refuses lb_fields, n-tuple mappings, taps and empty groups', async () => {
    const ppg = await portPairGroups.create!(a(), { name: 'fws', port_pairs: [ids.pp1, ids.pp2] });
    expect(ppg).toEqual({
      id: ppg.id,
      name: 'fws',
      description: '',
      tenant_id: A,
      project_id: A,
      revision_number: 1,
      port_pairs: [ids.pp1, ids.pp2],
      port_pair_group_parameters: { lb_fields: [], ppg_n_tuple_mapping: { ingress_n_tuple: {}, egress_n_tuple: {} } },
      tap_enabled: false,
      group_id: null,
    });
    ids.ppg = ppg.id as string;
    expect((await clients.chaining.query('group.get', { id: ids.ppg }, a().meta)).selection).toBe('flow-hash');

    const refusals = [
      { port_pairs: [ids.pp1], port_pair_group_parameters: { lb_fields: ['ip_src'] } },
      { port_pairs: [ids.pp1], port_pair_group_parameters: { ppg_n_tuple_mapping: { ingress_n_tuple: { source_ip_prefix: '10.0.0.0/24' } } } },
      { port_pairs: [ids.pp1], tap_enabled: true },
      { port_pairs: [] },
      {},
    ];
    for (const body of refusals) expect(await refusal(portPairGroups.create!(a(), body))).toMatchObject({ code: 'INVALID_ARGUMENT', type: 'InvalidInput' });
    expect(await refusal(portPairGroups.create!(a(), { port_pairs: [MISSING] }))).toMatchObject({ code: 'NOT_FOUND', type: 'PortPairNotFound' });
    // The defaults, given explicitly, are fine.
    const explicit = await portPairGroups.create!(a(), { port_pairs: [ids.pp2], tap_enabled: false, port_pair_group_parameters: { lb_fields: [], ppg_n_tuple_mapping: {} } });
    await portPairGroups.delete!(a(), explicit.id as string);
  });

  it('creates flow classifiers with networking-sfc\'s conversions and refuses ports, L7 and unknown protocols', async () => {
    const fc = await flowClassifiers.create!(a(), {
      name: 'web',
      ethertype: 'ipv4',
      protocol: 'TCP',
      destination_ip_prefix: '10.0.1.0/24',
      destination_port_range_min: '80',
      destination_port_range_max: 80,
      source_port_range_min: 1024,
    });
    expect(fc).toEqual({
      id: fc.id,
      name: 'web',
      description: '',
      tenant_id: A,
      project_id: A,
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
    ids.fc = fc.id as string;
    const any = await flowClassifiers.create!(a(), { ethertype: 'IPv6', protocol: null });
    expect(any).toMatchObject({ ethertype: 'IPv6', protocol: null, source_ip_prefix: null, source_port_range_min: null });
    await flowClassifiers.delete!(a(), any.id as string);

    expect(await refusal(flowClassifiers.create!(a(), { logical_source_port: ids.fw1 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('source_ip_prefix') });
    expect(await refusal(flowClassifiers.create!(a(), { logical_destination_port: ids.fw1 }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await refusal(flowClassifiers.create!(a(), { l7_parameters: { url: '/x' } }))).toMatchObject({ type: 'FlowClassifierInvalidL7Parameter' });
    expect(await refusal(flowClassifiers.create!(a(), { protocol: 'sctp' }))).toMatchObject({ type: 'FlowClassifierInvalidProtocol' });
    expect(await refusal(flowClassifiers.create!(a(), { ethertype: 'ARP' }))).toMatchObject({ type: 'FlowClassifierInvalidEthertype' });
    expect(await refusal(flowClassifiers.create!(a(), { protocol: 'tcp', source_port_range_min: 70000 }))).toMatchObject({ type: 'FlowClassifierInvalidPortValue' });
    // The service's own rules: a reversed range, ports without tcp/udp, a prefix of the other family.
    expect(await refusal(flowClassifiers.create!(a(), { protocol: 'tcp', destination_port_range_min: 90, destination_port_range_max: 80 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('reversed') });
    expect(await refusal(flowClassifiers.create!(a(), { protocol: 'icmp', destination_port_range_min: 80 }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('tcp and udp only') });
    expect(await refusal(flowClassifiers.create!(a(), { ethertype: 'IPv6', source_ip_prefix: '10.0.0.0/8' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('creates a port chain on the router its hops\' legs are on, asymmetric by default, and maps clashes to networking-sfc\'s types', async () => {
    const pc = await portChains.create!(a(), { name: 'web-chain', port_pair_groups: [ids.ppg], flow_classifiers: [ids.fc] });
    expect(pc).toEqual({
      id: pc.id,
      name: 'web-chain',
      description: '',
      tenant_id: A,
      project_id: A,
      revision_number: 1,
      port_pair_groups: [ids.ppg],
      flow_classifiers: [ids.fc],
      chain_parameters: { correlation: null, symmetric: false },
      chain_id: null,
    });
    ids.pc = pc.id as string;
    expect(await clients.chaining.query('chain.get', { id: ids.pc }, a().meta)).toMatchObject({ routerId: ids.router, symmetric: false });

    expect(await refusal(portChains.create!(a(), { port_pair_groups: [ids.ppg], flow_classifiers: [ids.fc] }))).toMatchObject({ code: 'ALREADY_EXISTS', type: 'FlowClassifierInUse' });
    const twin = await flowClassifiers.create!(a(), { protocol: 'tcp', destination_ip_prefix: '10.0.1.0/24', destination_port_range_min: 80, destination_port_range_max: 80, source_port_range_min: 1024 });
    expect(await refusal(portChains.create!(a(), { port_pair_groups: [ids.ppg], flow_classifiers: [twin.id] }))).toMatchObject({ code: 'ALREADY_EXISTS', type: 'PortChainFlowClassifierInConflict' });
    ids.twin = twin.id as string;
    for (const body of [
      { port_pair_groups: [ids.ppg], flow_classifiers: [ids.twin], chain_parameters: { correlation: 'mpls' } },
      { port_pair_groups: [ids.ppg], flow_classifiers: [ids.twin], chain_id: 7 },
      { port_pair_groups: [ids.ppg] },
    ]) {
      expect(await refusal(portChains.create!(a(), body))).toMatchObject({ code: 'INVALID_ARGUMENT', type: 'InvalidInput' });
    }
    expect(await refusal(portChains.create!(a(), { flow_classifiers: [ids.twin] }))).toMatchObject({ type: 'PortPairGroupNotSpecified' });
    expect(await refusal(portChains.create!(a(), { port_pair_groups: [MISSING], flow_classifiers: [ids.twin] }))).toMatchObject({ code: 'NOT_FOUND', type: 'PortPairGroupNotFound' });
    expect(await refusal(portChains.create!(a(), { port_pair_groups: [ids.ppg], flow_classifiers: [MISSING] }))).toMatchObject({ code: 'NOT_FOUND', type: 'FlowClassifierNotFound' });
  });

  it('updates what networking-sfc lets one update, with revisions, and refuses deleting what is in use', async () => {
    const renamed = await portPairs.update!(a(), ids.pp1, { name: 'fw-one', description: 'first' }, 1);
    expect(renamed).toMatchObject({ name: 'fw-one', description: 'first', revision_number: 2 });
    expect(await refusal(portPairs.update!(a(), ids.pp1, { name: 'stale' }, 1))).toMatchObject({ code: 'FAILED_PRECONDITION', type: undefined });

    expect(await portPairGroups.update!(a(), ids.ppg, { port_pairs: [ids.pp2] }, undefined)).toMatchObject({ port_pairs: [ids.pp2], revision_number: 2 });
    expect(await refusal(portPairGroups.update!(a(), ids.ppg, { port_pairs: [] }, undefined))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await flowClassifiers.update!(a(), ids.fc, { description: 'web traffic' }, undefined)).toMatchObject({ description: 'web traffic', revision_number: 2 });
    const chain = await portChains.update!(a(), ids.pc, { name: 'chain-2', flow_classifiers: [ids.fc, ids.twin] }, 1);
    expect(chain).toMatchObject({ name: 'chain-2', flow_classifiers: [ids.fc, ids.twin], revision_number: 2 });

    expect(await refusal(portPairs.delete!(a(), ids.pp2))).toMatchObject({ code: 'FAILED_PRECONDITION', type: 'PortPairInUse' });
    expect(await refusal(portPairGroups.delete!(a(), ids.ppg))).toMatchObject({ code: 'FAILED_PRECONDITION', type: 'PortPairGroupInUse' });
    expect(await refusal(flowClassifiers.delete!(a(), ids.fc))).toMatchObject({ code: 'FAILED_PRECONDITION', type: 'FlowClassifierInUse' });

    // Another project sees nothing of A's and changes nothing: not found, as Neutron answers.
    expect(await portChains.list(as(B), new Map())).toEqual([]);
    expect(await refusal(portChains.show(as(B), ids.pc))).toMatchObject({ code: 'NOT_FOUND', type: 'PortChainNotFound' });
    expect(await refusal(portChains.delete!(as(B), ids.pc))).toMatchObject({ code: 'NOT_FOUND', type: 'PortChainNotFound' });

    await portChains.delete!(a(), ids.pc);
    await portPairGroups.delete!(a(), ids.ppg);
    for (const id of [ids.pp1, ids.pp2]) await portPairs.delete!(a(), id);
    for (const id of [ids.fc, ids.twin]) await flowClassifiers.delete!(a(), id);
    expect(await refusal(portChains.show(a(), ids.pc))).toMatchObject({ code: 'NOT_FOUND', type: 'PortChainNotFound' });
    expect(await portPairs.list(a(), new Map())).toEqual([]);
  });
});

