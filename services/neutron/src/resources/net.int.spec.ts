/**
 * The networks, subnets and ports resources against the real IPAM,
 * secgroup, hostview and status services (processes, on a nats-server with the
 * production users), called as the REST core calls them: each with a
 * Keystone identity's context. What a client of the Neutron API gets:
 * Neutron's representation, the default security group, the network's
 * port security default, and Neutron's error types; a refused create
 * leaves nothing behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSecurityGroupId, ipamContract, secgroupContract, statusContract, type AuditContract, type ChainingContract, type NatContract } from '@strata/contracts';
import { fromStrataError } from '../errors.js';
import type { Identity, Role } from '@strata/identity';
import { startProcess, startProvisionedNats, type ManagedProcess } from '@strata/lab';
import { commandSignerFrom, ContractClient, createLogger, NatsRequester, ReadYourWrites, type RequestMeta } from '@strata/runtime';
import type { StrataNats } from '@strata/testing';
import type { NatsConnection } from 'nats';
import type { Json, NeutronClients, NeutronContext, ResourceDefinition } from '../resource.js';
import { netResources } from './net.js';

const PROJECT_A = 'a0000000000000000000000000000001';
const PROJECT_B = 'b0000000000000000000000000000002';
const logger = createLogger('neutron-net-test', 'silent');
const mainOf = (pkg: string): string => join(dirname(createRequire(import.meta.url).resolve(pkg)), 'main.js');

let nats: StrataNats;
let nc: NatsConnection;
const processes: ManagedProcess[] = [];
let clients: NeutronClients;
const [networks, subnets, ports] = netResources() as [ResourceDefinition, ResourceDefinition, ResourceDefinition];

function context(projectId: string, role: Role = 'member'): NeutronContext {
  const identity: Identity = { userId: `u-${projectId}`, userName: `user-${role}`, projectId, projectName: projectId, role, keystoneRoles: [role], expiresAt: Date.now() + 3_600_000, auditId: 'x' };
  const meta: RequestMeta = { actor: `keystone:${identity.userName}`, tenant: projectId, admin: role === 'admin', requestId: randomUUID(), correlationId: randomUUID(), at: new Date().toISOString() };
  const step = (s: string): RequestMeta => {
    const h = createHash('sha256').update(`${meta.requestId}/${s}`).digest('hex');
    return { ...meta, requestId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}` };
  };
  return { identity, meta, step, clients, logger };
}
const a = () => context(PROJECT_A);
const b = () => context(PROJECT_B);
const admin = () => context('ops', 'admin');

/** What a call throws, as the client gets it (the core's mapping of what is not already Neutron's). */
async function refusal(call: Promise<unknown>): Promise<{ status: number; type: string; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = fromStrataError(err);
    return { status: e.status, type: e.type, message: e.message };
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  nats = await startProvisionedNats();
  const env = (user: string) => ({ ...nats.env(user), STRATA_HTTP_PORT: '0', STRATA_LOG_LEVEL: 'info' });
  // The status service answers a port's status from hostview's positions.
  for (const [name, pkg] of [['ipam', '@strata/ipam'], ['secgroup', '@strata/secgroup'], ['hostview', '@strata/hostview'], ['status', '@strata/status']] as const) {
    processes.push(startProcess(name, [process.execPath, mainOf(pkg)], { env: env(name) }));
  }
  await Promise.all(processes.map((p) => p.ready));
  nc = await nats.connect('api');
  const requester = new NatsRequester(nc, { signer: commandSignerFrom() });
  const position = new ReadYourWrites();
  const unused = <C>() => ({}) as ContractClient<C & NatContract & ChainingContract & AuditContract>;
  clients = {
    ipam: new ContractClient(ipamContract, requester, position, { checkReplies: true }),
    secgroup: new ContractClient(secgroupContract, requester, position, { checkReplies: true }),
    status: new ContractClient(statusContract, requester, position, { checkReplies: true }),
    nat: unused(),
    chaining: unused(),
  } as NeutronClients;
}, 120_000);

afterAll(async () => {
  await nc?.close();
  for (const p of processes.reverse()) await p.stop();
  await nats?.stop();
});

describe('networks, subnets and ports through the real services', () => {
  let netId: string;
  let subnetId: string;

  it('creates a network and a subnet and shows them as Neutron does', async () => {
    const net = await networks.create!(a(), { name: 'web', mtu: 1400 });
    netId = net['id'] as string;
    expect(net).toMatchObject({ name: 'web', tenant_id: PROJECT_A, project_id: PROJECT_A, status: 'ACTIVE', mtu: 1400, port_security_enabled: true, 'router:external': false, subnets: [], revision_number: 1 });
    const sub = await subnets.create!(a(), { network_id: netId, ip_version: 4, cidr: '10.1.0.0/24', dns_nameservers: ['10.1.0.53'] });
    subnetId = sub['id'] as string;
    expect(sub).toMatchObject({ network_id: netId, cidr: '10.1.0.0/24', gateway_ip: '10.1.0.1', enable_dhcp: true, dns_nameservers: ['10.1.0.53'], subnetpool_id: null, ip_version: 4 });
    expect(await networks.show(a(), netId)).toMatchObject({ subnets: [subnetId] });
    expect((await networks.list(a(), new Map())).map((n) => n['id'])).toEqual([netId]);
  });

  it('400 InvalidInput for an invalid CIDR; 404 NetworkNotFound for another project\'s network', async () => {
    expect(await refusal(subnets.create!(a(), { network_id: netId, ip_version: 4, cidr: '10.1.300.0/24' }))).toMatchObject({ status: 400, type: 'InvalidInput' });
    expect(await refusal(networks.show(b(), netId))).toMatchObject({ status: 404, type: 'NetworkNotFound', message: `Network ${netId} could not be found.` });
    expect(await networks.list(b(), new Map())).toEqual([]);
  });

  let portId: string;

  it("a port without security groups is in its project's default group, with its address, owner and status", async () => {
    const port = await ports.create!(a(), { network_id: netId, name: 'vm1', device_owner: 'compute:nova', device_id: 'vm-1', fixed_ips: [{ ip_address: '10.1.0.10' }] });
    portId = port['id'] as string;
    expect(port).toMatchObject({
      name: 'vm1', network_id: netId, device_owner: 'compute:nova', device_id: 'vm-1', fixed_ips: [{ subnet_id: subnetId, ip_address: '10.1.0.10' }],
      security_groups: [defaultSecurityGroupId(PROJECT_A)], port_security_enabled: true, status: 'DOWN', admin_state_up: true, 'binding:vnic_type': 'normal',
    });
    expect(port).not.toHaveProperty('binding:host_id');
    // The default group exists now: the next port joins it at once.
    const second = await ports.create!(a(), { network_id: netId });
    expect(second['security_groups']).toEqual([defaultSecurityGroupId(PROJECT_A)]);
    await ports.delete!(a(), second['id'] as string);
  });

  it('409 IpAddressAlreadyAllocated for an address in use, and nothing is created', async () => {
    const before = (await ports.list(a(), new Map())).length;
    expect(await refusal(ports.create!(a(), { network_id: netId, fixed_ips: [{ ip_address: '10.1.0.10' }] }))).toMatchObject({ status: 409, type: 'IpAddressAlreadyAllocated' });
    expect(await ports.list(a(), new Map())).toHaveLength(before);
  });

  it('a port naming an unknown security group is refused (SecurityGroupNotFound) before anything is created', async () => {
    const before = (await ports.list(a(), new Map())).length;
    expect(await refusal(ports.create!(a(), { network_id: netId, security_groups: [randomUUID()] }))).toMatchObject({ status: 404, type: 'SecurityGroupNotFound' });
    expect(await ports.list(a(), new Map())).toHaveLength(before);
  });

  it('port security: the network default, groups refused without it, 409 turning it off while the port has groups', async () => {
    expect(await refusal(ports.create!(a(), { network_id: netId, port_security_enabled: false, security_groups: [defaultSecurityGroupId(PROJECT_A)] }))).toMatchObject({
      type: 'PortSecurityAndIPRequiredForSecurityGroups',
    });
    const open = await networks.create!(a(), { name: 'open', port_security_enabled: false });
    await subnets.create!(a(), { network_id: open['id'], ip_version: 4, cidr: '10.2.0.0/24' });
    const p = await ports.create!(a(), { network_id: open['id'] });
    expect(p).toMatchObject({ port_security_enabled: false, security_groups: [] });
    expect(await refusal(ports.update!(a(), portId, { port_security_enabled: false }, undefined))).toMatchObject({ type: 'PortSecurityPortHasSecurityGroup', status: 409 });
    const off = await ports.update!(a(), portId, { port_security_enabled: false, security_groups: [] }, undefined);
    expect(off).toMatchObject({ port_security_enabled: false, security_groups: [] });
    const on = await ports.update!(a(), portId, { port_security_enabled: true, security_groups: [defaultSecurityGroupId(PROJECT_A)] }, undefined);
    expect(on).toMatchObject({ port_security_enabled: true, security_groups: [defaultSecurityGroupId(PROJECT_A)] });
  });

  it('updates fixed IPs and the device owner under If-Match; a stale revision is the core\'s 412', async () => {
    const current = await ports.show(a(), portId);
    const moved = await ports.update!(a(), portId, { fixed_ips: [{ ip_address: '10.1.0.11' }], device_owner: 'network:dhcp' }, current['revision_number'] as number);
    expect(moved).toMatchObject({ fixed_ips: [{ subnet_id: subnetId, ip_address: '10.1.0.11' }], device_owner: 'network:dhcp', revision_number: (current['revision_number'] as number) + 1 });
    const stale = await refusal(ports.update!(a(), portId, { name: 'x' }, current['revision_number'] as number));
    expect(stale).toEqual({ status: 412, type: 'RevisionNumberConstraintFailed', message: `Constrained to ${current['revision_number']}, but current revision is ${(current['revision_number'] as number) + 1}` });
    expect(await ports.show(a(), portId)).toMatchObject({ name: 'vm1' });
  });

  it("another project's port is not found; an admin binds it to a hypervisor and sees the binding", async () => {
    expect(await refusal(ports.show(b(), portId))).toMatchObject({ status: 404, type: 'PortNotFound' });
    expect(await refusal(ports.update!(b(), portId, { name: 'mine' }, undefined))).toMatchObject({ type: 'PortNotFound' });
    const pool = await clients.ipam.command('pool.create', { name: 'hips', cidr: '203.0.113.0/24', purpose: 'host-ip' }, admin().meta);
    await clients.ipam.command('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.1', hostPoolId: pool.id }, admin().meta);
    const bound = await ports.update!(admin(), portId, { 'binding:host_id': 'hv1' }, undefined);
    expect(bound).toMatchObject({ 'binding:host_id': 'hv1', 'binding:vif_type': 'tap', 'binding:vif_details': { port_filter: true } });
    expect(await refusal(ports.update!(admin(), portId, { 'binding:host_id': 'nowhere' }, undefined))).toMatchObject({ type: 'InvalidInput', status: 400 });
    const listed = await ports.list(admin(), new Map([['binding:host_id', ['hv1']]]));
    expect(listed.map((p: Json) => p['id'])).toEqual([portId]);
  });

  it('409 NetworkInUse while ports remain; then the port, subnet and network go', async () => {
    expect(await refusal(networks.delete!(a(), netId))).toMatchObject({ type: 'NetworkInUse', status: 409 });
    expect(await refusal(subnets.delete!(a(), subnetId))).toMatchObject({ type: 'SubnetInUse', status: 409 });
    await ports.delete!(a(), portId);
    await subnets.delete!(a(), subnetId);
    await networks.delete!(a(), netId);
    expect(await refusal(networks.show(a(), netId))).toMatchObject({ type: 'NetworkNotFound' });
  });
});
