/**
 * The API against a real nats-server and event log, with a canned IPAM
 * responder: checks translation, auth, error mapping and event scoping —
 * not IPAM's behaviour (the end-to-end suites run the real IPAM). Production
 * NATS users: the API as `api`, the canned responder as `ipam` and
 * `secgroup` (each answers its own service's subjects), the events it lists
 * appended as `ipam`.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, credentials, status, type ClientReadableStream, type requestCallback } from '@grpc/grpc-js';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore, type EventStore } from '@strata/eventlog';
import {
  loadStrataProto,
  type ListEventsResponse__Output,
  type Network__Output,
  type PortSecurity__Output,
  type Port__Output,
  type Router__Output,
  type SecurityGroupRule__Output,
  type WatchResponse__Output,
} from '@strata/proto';
import { commandSignerFrom, createLogger, type ReplyEnvelope, type RequestMeta } from '@strata/runtime';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { sha256Hex, type ApiToken } from './auth.js';
import { startApiServer, type ApiServer } from './server.js';

const tokens: ApiToken[] = [
  { name: 'alice', sha256: sha256Hex('alice-secret'), tenant: 't1', admin: false },
  { name: 'bob', sha256: sha256Hex('bob-secret'), tenant: 't2', admin: false },
  { name: 'ops', sha256: sha256Hex('ops-secret'), tenant: 'ops', admin: true },
];
const NET_ID = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const SG_ID = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const PORT_ID = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const logger = createLogger('api-test', 'silent');

// ---- a canned IPAM: a few fixed replies, recording what the API sent ----

interface Seen {
  subject: string;
  meta: RequestMeta;
  body: Record<string, unknown>;
}

const network = (tenant: string, name = 'web') => ({
  id: NET_ID, tenant, name, vni: 5001, mtu: 1450, routed: false, createdAt: '2024-05-01T14:03:00.000Z',
});

const port = (over: Record<string, unknown> = {}) => ({
  id: 'p1',
  tenant: 't1',
  networkId: NET_ID,
  name: '',
  mac: '02:00:00:00:00:01',
  fixedIps: [],
  hostId: null,
  deviceId: '',
  allowedAddressPairs: [],
  ownedAddresses: [],
  createdAt: '2024-05-01T14:03:00.000Z',
  ...over,
});

function canned(subject: string, meta: RequestMeta, body: Record<string, unknown>): ReplyEnvelope {
  const fail = (code: string, message: string, details = {}): ReplyEnvelope => ({ ok: false, error: { code: code as never, message, details } });
  switch (subject.replace(/^strata\.(cmd|qry)\.ipam\./, '$1:')) {
    case 'cmd:network.create':
      return { ok: true, result: network((body['tenant'] as string | undefined) ?? meta.tenant, body['name'] as string), seq: 42 };
    case 'qry:network.get':
      return body['id'] === NET_ID ? { ok: true, result: network('t1') } : fail('NOT_FOUND', `network ${String(body['id'])} not found`);
    case 'qry:port.get':
      return {
        ok: true,
        result: port(),
      };
    case 'cmd:port.setAllowedAddressPairs':
      return {
        ok: true,
        result: port({ allowedAddressPairs: (body['allowedAddressPairs'] as Array<{ ipAddress: string; macAddress?: string }>).map((a) => ({ ipAddress: a.ipAddress, macAddress: a.macAddress ?? '02:00:00:00:00:01' })) }),
        seq: 44,
      };
    case 'cmd:router.addInterface':
      return {
        ok: true,
        result: { id: body['id'], tenant: meta.tenant, name: 'r', interfaces: [{ subnetId: body['subnetId'], networkId: NET_ID }], createdAt: '2024-05-01T14:03:00.000Z' },
        seq: 43,
      };
    case 'cmd:subnet.create':
      return fail('INVALID_ARGUMENT', 'invalid request: cidr: 10.0.0.1/24 has host bits set', { field: 'cidr' });
    case 'cmd:floatingip.create':
      return fail('RESOURCE_EXHAUSTED', 'pool 7 has no free address');
    // The canned secgroup: its subjects are not shortened.
    case 'strata.cmd.secgroup.rule.create': {
      const or = (k: string): unknown => body[k] ?? null;
      const rule = { id: 'r1', direction: body['direction'], ethertype: body['ethertype'], protocol: body['protocol'] ?? 'any' };
      const optional = Object.fromEntries(['portMin', 'portMax', 'icmpType', 'icmpCode', 'remoteGroupId', 'remoteCidr'].map((k) => [k, or(k)]));
      return { ok: true, result: { ...rule, ...optional }, seq: 99 };
    }
    case 'strata.cmd.secgroup.rule.delete':
      return { ok: true, result: { id: body['ruleId'] }, seq: 102 };
    case 'strata.cmd.secgroup.port.setGroups':
      return { ok: true, result: { portId: body['portId'], tenant: meta.tenant, groupIds: body['groupIds'], portSecurity: true, revision: 2 }, seq: 100 };
    case 'strata.cmd.secgroup.port.setSecurity':
      return { ok: true, result: { portId: body['portId'], tenant: meta.tenant, groupIds: [], portSecurity: body['enabled'], revision: 3 }, seq: 101 };
    case 'strata.qry.secgroup.port.get':
      return { ok: true, result: { portId: body['portId'], tenant: meta.tenant, groupIds: [SG_ID], portSecurity: true, revision: 1 } };
    case 'strata.qry.secgroup.group.get':
      return fail('NOT_FOUND', `security group ${String(body['id'])} not found`);
    default:
      return fail('INTERNAL', `the fake IPAM has no reply for ${subject}`);
  }
}

/** `ipam` and `secgroup`: connections as those services' users, each allowed to answer only its own subjects. */
function startFakeIpam(ipam: NatsConnection, secgroup: NatsConnection): { seen: Seen[]; subs: Subscription[] } {
  const seen: Seen[] = [];
  const callback = (_err: unknown, msg: Msg): void => {
    const { meta, body } = msg.json<{ meta: RequestMeta; body: Record<string, unknown> }>();
    seen.push({ subject: msg.subject, meta, body });
    msg.respond(JSON.stringify(canned(msg.subject, meta, body)));
  };
  // Commands and queries only: strata.*.ipam.> would also catch the event log's own subjects.
  const subjects: [NatsConnection, string][] = [
    [ipam, 'strata.cmd.ipam.>'],
    [ipam, 'strata.qry.ipam.>'],
    [secgroup, 'strata.cmd.secgroup.>'],
    [secgroup, 'strata.qry.secgroup.>'],
  ];
  return { seen, subs: subjects.map(([nc, subject]) => nc.subscribe(subject, { callback })) };
}

// ---- gRPC client helpers ----

function bearer(token: string | undefined, extra: Record<string, string> = {}): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  for (const [k, v] of Object.entries(extra)) md.set(k, v);
  return md;
}

function rpc<T>(invoke: (cb: requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res as T))));
}

function clients(port: number) {
  const v1 = loadStrataProto().strata.v1;
  const addr = `127.0.0.1:${port}`;
  const creds = credentials.createInsecure();
  return {
    networks: new v1.NetworkService(addr, creds),
    subnets: new v1.SubnetService(addr, creds),
    ports: new v1.PortService(addr, creds),
    pools: new v1.PoolService(addr, creds),
    floatingIps: new v1.FloatingIpService(addr, creds),
    routers: new v1.RouterService(addr, creds),
    securityGroups: new v1.SecurityGroupService(addr, creds),
    events: new v1.EventService(addr, creds),
  };
}

/** Reads a Watch stream message by message. */
function reader(call: ClientReadableStream<WatchResponse__Output>) {
  const it = call[Symbol.asyncIterator]() as AsyncIterator<WatchResponse__Output>;
  return async (): Promise<WatchResponse__Output> => {
    const r = await it.next();
    if (r.done) throw new Error('watch ended');
    return r.value;
  };
}

let nats: StrataNats;
/** The api user's connection. */
let nc: NatsConnection;
/** The ipam user's connection (the canned responder, the events' writer). */
let ipamNc: NatsConnection;
let fake: ReturnType<typeof startFakeIpam>;
let api: ApiServer;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  nats = await startProvisionedNats();
  nc = await nats.connect('api');
  ipamNc = await nats.connect('ipam');
  const secgroupNc = await nats.connect('secgroup');
  fake = startFakeIpam(ipamNc, secgroupNc);
  await Promise.all([ipamNc.flush(), secgroupNc.flush()]);
  api = await startApiServer({ nc, tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger });
  c = clients(api.port);
});

afterAll(async () => {
  for (const client of Object.values(c ?? {})) client.close();
  await api?.stop();
  await nats?.stop();
});

describe('authentication', () => {
  it('binds the port it was given (0 = any free one)', () => {
    expect(api.port).toBeGreaterThan(0);
  });

  it('rejects a call without a token as UNAUTHENTICATED, saying it is missing, before asking IPAM', async () => {
    const before = fake.seen.length;
    await expect(rpc((cb) => c.networks.GetNetwork({ id: NET_ID }, bearer(undefined), cb))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: expect.stringMatching(/^missing credentials/),
    });
    expect(fake.seen.length).toBe(before);
  });

  it('rejects an unknown token as UNAUTHENTICATED', async () => {
    await expect(rpc((cb) => c.networks.GetNetwork({ id: NET_ID }, bearer('mallory'), cb))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      details: 'unknown bearer token',
    });
  });
});

describe('translation to IPAM requests', () => {
  it('sends the command with the token’s tenant, actor and fresh ids, and maps the reply', async () => {
    const res = await rpc<Network__Output>((cb) => c.networks.CreateNetwork({ name: 'web', routed: true }, bearer('alice-secret'), cb));
    expect(res).toMatchObject({ id: NET_ID, tenant: 't1', name: 'web', vni: 5001, mtu: 1450 });
    const sent = fake.seen.at(-1)!;
    expect(sent.subject).toBe('strata.cmd.ipam.network.create');
    expect(sent.body).toEqual({ name: 'web', description: '', routed: true, federated: false });
    expect(sent.meta).toMatchObject({ actor: 'alice', tenant: 't1', admin: false });
    expect(sent.meta.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(sent.meta.correlationId).toBe(sent.meta.requestId);
    expect(Number.isNaN(Date.parse(sent.meta.at))).toBe(false);
  });

  it('passes the client’s request id, correlation id and trace context through', async () => {
    const requestId = randomUUID();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const md = bearer('ops-secret', { 'x-request-id': requestId, 'x-correlation-id': 'deploy-7', traceparent });
    await rpc((cb) => c.networks.CreateNetwork({ tenant: 't2' }, md, cb));
    const sent = fake.seen.at(-1)!;
    expect(sent.meta).toMatchObject({ requestId, correlationId: 'deploy-7', actor: 'ops', tenant: 'ops', admin: true });
    expect(sent.body).toMatchObject({ tenant: 't2' });
    expect(sent.meta.trace?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
  });

  it('rejects a request id that is not a UUID as INVALID_ARGUMENT', async () => {
    const md = bearer('alice-secret', { 'x-request-id': 'again' });
    await expect(rpc((cb) => c.networks.GetNetwork({ id: NET_ID }, md, cb))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/x-request-id must be a UUID/),
    });
  });

  it('expresses null as an unset optional field and an unset one as null where the contract wants it', async () => {
    const port = await rpc<Port__Output>((cb) => c.ports.GetPort({ id: 'p1' }, bearer('alice-secret'), cb));
    expect(port.hostId).toBeUndefined();
    await rpc((cb) => c.subnets.CreateSubnet({ networkId: NET_ID, cidr: '10.0.0.0/24', noGateway: true }, bearer('alice-secret'), cb)).catch(
      () => undefined,
    );
    expect(fake.seen.at(-1)!.body).toMatchObject({ gatewayIp: null, networkId: NET_ID });
    expect(fake.seen.at(-1)!.body).not.toHaveProperty('allocationPools');
  });

  it('sends a subnet’s IPv6 modes by Neutron’s names (unset ones left out) and refuses an unknown name itself', async () => {
    await rpc((cb) =>
      c.subnets.CreateSubnet({ networkId: NET_ID, cidr: '2001:db8::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }, bearer('alice-secret'), cb),
    ).catch(() => undefined);
    expect(fake.seen.at(-1)!.body).toMatchObject({ ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' });
    await rpc((cb) => c.subnets.CreateSubnet({ networkId: NET_ID, cidr: '2001:db8::/64' }, bearer('alice-secret'), cb)).catch(() => undefined);
    expect(fake.seen.at(-1)!.body).not.toHaveProperty('ipv6RaMode');
    const asked = fake.seen.length;
    await expect(rpc((cb) => c.subnets.CreateSubnet({ networkId: NET_ID, cidr: '2001:db8::/64', ipv6RaMode: 'eui64' }, bearer('alice-secret'), cb))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'ipv6RaMode: "eui64" is not an IPv6 mode; one of slaac, dhcpv6-stateful, dhcpv6-stateless',
    });
    expect(fake.seen.length).toBe(asked);
  });

  it('sends allowed address pairs as the contract has them (an unset MAC left out) and maps them back', async () => {
    const req = { id: 'p1', allowedAddressPairs: [{ ipAddress: '10.0.0.100' }, { ipAddress: '10.0.0.128/25', macAddress: '00:00:5e:00:01:07' }] };
    const res = await rpc<Port__Output>((cb) => c.ports.SetAllowedAddressPairs(req, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.cmd.ipam.port.setAllowedAddressPairs', body: req });
    expect((fake.seen.at(-1)!.body['allowedAddressPairs'] as object[])[0]).not.toHaveProperty('macAddress');
    expect(res.allowedAddressPairs.map(({ ipAddress, macAddress }) => ({ ipAddress, macAddress }))).toEqual([
      { ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:01' },
      { ipAddress: '10.0.0.128/25', macAddress: '00:00:5e:00:01:07' },
    ]);
    expect(res.ownedAddresses).toEqual([]);
  });

  it('sends router interface changes to their own operation', async () => {
    const router = await rpc<Router__Output>((cb) => c.routers.AddRouterInterface({ id: 'r1', subnetId: 's1' }, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.cmd.ipam.router.addInterface', body: { id: 'r1', subnetId: 's1' } });
    expect(router.interfaces).toEqual([{ subnetId: 's1', networkId: NET_ID }]);
  });

  it('refuses a pool without a purpose itself, in the proto’s terms', async () => {
    const before = fake.seen.length;
    await expect(rpc((cb) => c.pools.CreatePool({ cidr: '203.0.113.0/24' }, bearer('ops-secret'), cb))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^purpose: required, one of POOL_PURPOSE_FLOATING_IP/),
    });
    expect(fake.seen.length).toBe(before);
  });
});

describe('translation to secgroup requests', () => {
  it('sends rule enums in the contract’s spelling, omits unset optional fields, keeps an explicit 0, and maps null back to unset', async () => {
    const req = {
      groupId: SG_ID,
      direction: 'RULE_DIRECTION_INGRESS' as const,
      ethertype: 'ETHER_TYPE_IPV4' as const,
      protocol: 'RULE_PROTOCOL_TCP' as const,
      portMin: 0,
      portMax: 443,
      remoteGroupId: SG_ID,
    };
    const rule = await rpc<SecurityGroupRule__Output>((cb) => c.securityGroups.CreateSecurityGroupRule(req, bearer('alice-secret'), cb));
    const sent = fake.seen.at(-1)!;
    expect(sent.subject).toBe('strata.cmd.secgroup.rule.create');
    expect(sent.body).toEqual({ groupId: SG_ID, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 0, portMax: 443, remoteGroupId: SG_ID });
    expect(sent.meta).toMatchObject({ actor: 'alice', tenant: 't1', admin: false });
    expect(rule).toMatchObject({ id: 'r1', direction: 'RULE_DIRECTION_INGRESS', ethertype: 'ETHER_TYPE_IPV4', protocol: 'RULE_PROTOCOL_TCP', portMin: 0, portMax: 443 });
    expect(rule.remoteGroupId).toBe(SG_ID);
    for (const unset of ['icmpType', 'icmpCode', 'remoteCidr'] as const) expect(rule[unset]).toBeUndefined();
  });

  it('leaves an unspecified protocol to the service’s default (any)', async () => {
    const req = { groupId: SG_ID, direction: 'RULE_DIRECTION_EGRESS' as const, ethertype: 'ETHER_TYPE_IPV6' as const };
    const rule = await rpc<SecurityGroupRule__Output>((cb) => c.securityGroups.CreateSecurityGroupRule(req, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)!.body).toEqual({ groupId: SG_ID, direction: 'egress', ethertype: 'IPv6' });
    expect(rule).toMatchObject({ protocol: 'RULE_PROTOCOL_ANY', ethertype: 'ETHER_TYPE_IPV6' });
    expect(rule.portMin).toBeUndefined();
  });

  it('deletes a rule by its id alone when the group id is left empty (the service finds the group)', async () => {
    await rpc((cb) => c.securityGroups.DeleteSecurityGroupRule({ ruleId: SG_ID }, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.cmd.secgroup.rule.delete', body: { ruleId: SG_ID } });
    expect(fake.seen.at(-1)!.body).not.toHaveProperty('groupId');
    await rpc((cb) => c.securityGroups.DeleteSecurityGroupRule({ groupId: SG_ID, ruleId: SG_ID }, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)!.body).toEqual({ groupId: SG_ID, ruleId: SG_ID });
  });

  it('refuses a rule without direction or ethertype itself, in the proto’s terms', async () => {
    const before = fake.seen.length;
    const create = (req: object) => rpc((cb) => c.securityGroups.CreateSecurityGroupRule(req, bearer('alice-secret'), cb)).catch((e: unknown) => e);
    const noDirection = await create({ groupId: SG_ID, ethertype: 'ETHER_TYPE_IPV4' });
    expect(noDirection).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'direction: required, one of RULE_DIRECTION_INGRESS, RULE_DIRECTION_EGRESS' });
    expect((noDirection as { metadata: Metadata }).metadata.get('strata-field')).toEqual(['direction']);
    expect(await create({ groupId: SG_ID, direction: 'RULE_DIRECTION_INGRESS' })).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'ethertype: required, one of ETHER_TYPE_IPV4, ETHER_TYPE_IPV6',
    });
    expect(fake.seen.length).toBe(before);
  });

  it('sets a port’s groups (an empty list = none) and its port security, which must be given explicitly', async () => {
    const none = await rpc<PortSecurity__Output>((cb) => c.securityGroups.SetPortSecurityGroups({ portId: PORT_ID }, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.cmd.secgroup.port.setGroups', body: { portId: PORT_ID, groupIds: [] } });
    expect(none).toEqual({ portId: PORT_ID, tenant: 't1', groupIds: [], portSecurity: true, revision: 2 });

    const off = await rpc<PortSecurity__Output>((cb) => c.securityGroups.SetPortSecurity({ portId: PORT_ID, enabled: false }, bearer('alice-secret'), cb));
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.cmd.secgroup.port.setSecurity', body: { portId: PORT_ID, enabled: false } });
    expect(off.portSecurity).toBe(false);

    const before = fake.seen.length;
    await expect(rpc((cb) => c.securityGroups.SetPortSecurity({ portId: PORT_ID }, bearer('alice-secret'), cb))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'enabled: required, true or false',
    });
    expect(fake.seen.length).toBe(before);
  });

  it('maps secgroup’s NOT_FOUND like IPAM’s, keeping the message', async () => {
    await expect(rpc((cb) => c.securityGroups.GetSecurityGroup({ id: SG_ID }, bearer('bob-secret'), cb))).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `security group ${SG_ID} not found`,
    });
    expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.qry.secgroup.group.get', body: { id: SG_ID }, meta: { tenant: 't2' } });
  });
});

describe('error mapping', () => {
  it('NOT_FOUND keeps its message', async () => {
    const id = randomUUID();
    await expect(rpc((cb) => c.networks.GetNetwork({ id }, bearer('alice-secret'), cb))).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: `network ${id} not found`,
    });
  });

  it('INVALID_ARGUMENT keeps its message and names the field', async () => {
    const err = await rpc((cb) => c.subnets.CreateSubnet({ networkId: NET_ID, cidr: '10.0.0.1/24' }, bearer('alice-secret'), cb)).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'invalid request: cidr: 10.0.0.1/24 has host bits set' });
    expect((err as { metadata: Metadata }).metadata.get('strata-field')).toEqual(['cidr']);
  });

  it('RESOURCE_EXHAUSTED keeps its message', async () => {
    await expect(rpc((cb) => c.floatingIps.CreateFloatingIp({ poolId: NET_ID }, bearer('alice-secret'), cb))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'pool 7 has no free address',
    });
  });
});

describe('read-your-writes', () => {
  it('sends the highest sequence a command reported as minSeq on later queries', async () => {
    // A server of its own, so no earlier test's command has set a sequence yet.
    const own = await startApiServer({ nc, tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger });
    const oc = clients(own.port);
    try {
      await rpc((cb) => oc.networks.GetNetwork({ id: NET_ID }, bearer('alice-secret'), cb));
      expect(fake.seen.at(-1)!.meta.minSeq).toBeUndefined();
      await rpc((cb) => oc.networks.CreateNetwork({ name: 'db' }, bearer('alice-secret'), cb));
      await rpc((cb) => oc.networks.GetNetwork({ id: NET_ID }, bearer('bob-secret'), cb));
      expect(fake.seen.at(-1)!.meta.minSeq).toBe(42);
    } finally {
      for (const client of Object.values(oc)) client.close();
      await own.stop();
    }
  });

  it('tracks one sequence across services: an IPAM write raises secgroup queries’ minSeq and a secgroup write IPAM’s', async () => {
    const own = await startApiServer({ nc, tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger });
    const oc = clients(own.port);
    try {
      await rpc((cb) => oc.securityGroups.GetPortSecurity({ portId: PORT_ID }, bearer('alice-secret'), cb));
      expect(fake.seen.at(-1)!.meta.minSeq).toBeUndefined();
      // IPAM creates (seq 42): secgroup must have seen it before it answers about the new port.
      await rpc((cb) => oc.networks.CreateNetwork({ name: 'db' }, bearer('alice-secret'), cb));
      await rpc((cb) => oc.securityGroups.GetPortSecurity({ portId: PORT_ID }, bearer('alice-secret'), cb));
      expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.qry.secgroup.port.get', meta: { minSeq: 42 } });
      // A secgroup command reply (seq 100) counts for IPAM queries too.
      await rpc((cb) => oc.securityGroups.SetPortSecurityGroups({ portId: PORT_ID, groupIds: [SG_ID] }, bearer('alice-secret'), cb));
      await rpc((cb) => oc.networks.GetNetwork({ id: NET_ID }, bearer('alice-secret'), cb));
      expect(fake.seen.at(-1)).toMatchObject({ subject: 'strata.qry.ipam.network.get', meta: { minSeq: 100 } });
      // Lower sequences never lower it.
      await rpc((cb) => oc.networks.CreateNetwork({ name: 'db2' }, bearer('alice-secret'), cb));
      await rpc((cb) => oc.securityGroups.GetPortSecurity({ portId: PORT_ID }, bearer('alice-secret'), cb));
      expect(fake.seen.at(-1)!.meta.minSeq).toBe(100);
    } finally {
      for (const client of Object.values(oc)) client.close();
      await own.stop();
    }
  });
});

describe('ListEvents and Watch', () => {
  let store: EventStore;
  const seqs: Record<string, number> = {};

  async function append(name: string, tenant: string, aggregateId: string): Promise<number> {
    const aggregate = { context: 'ipam', type: 'thing', id: aggregateId };
    const { seq } = await store.append(
      aggregate,
      {
        id: randomUUID(), type: `ipam.${name}`, version: 1, aggregate, tenant, actor: 'tester',
        correlationId: 'c-1', causationId: null, occurredAt: new Date().toISOString(), data: { name },
      },
      { expectedVersion: 'any' },
    );
    seqs[name] = seq;
    return seq;
  }

  const list = (token: string, req: object) =>
    rpc<ListEventsResponse__Output>((cb) => c.events.ListEvents(req, bearer(token), cb));
  const names = (res: ListEventsResponse__Output) => res.events.map((e) => (JSON.parse(e.dataJson) as { name: string }).name);

  beforeAll(async () => {
    store = await JetStreamEventStore.open(ipamNc);
    await append('A1', 't1', 'a');
    await append('B1', 't2', 'b');
    await append('A2', 't1', 'a2');
  });

  it('gives a tenant only its own events', async () => {
    const res = await list('alice-secret', {});
    expect(names(res)).toEqual(['A1', 'A2']);
    expect(res.events[0]).toMatchObject({ type: 'ipam.A1', tenant: 't1', actor: 'tester', seq: String(seqs['A1']) });
    expect(res.events[0]!.aggregate).toEqual({ context: 'ipam', type: 'thing', id: 'a' });
    expect(res.events[0]!.causationId).toBeUndefined();
  });

  it('refuses a tenant asking for another tenant’s events', async () => {
    await expect(list('bob-secret', { tenant: 't1' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('gives an admin every tenant’s events, or one tenant’s', async () => {
    expect(names(await list('ops-secret', {}))).toEqual(['A1', 'B1', 'A2']);
    expect(names(await list('ops-secret', { tenant: 't2' }))).toEqual(['B1']);
  });

  it('filters by aggregate and type, and pages with limit / nextFromSeq', async () => {
    expect(names(await list('ops-secret', { aggregateId: 'a2' }))).toEqual(['A2']);
    expect(names(await list('ops-secret', { types: ['ipam.B1'] }))).toEqual(['B1']);
    const first = await list('alice-secret', { limit: 1 });
    expect(names(first)).toEqual(['A1']);
    expect(first.nextFromSeq).toBe(String(seqs['A2']));
    const second = await list('alice-secret', { limit: 1, fromSeq: first.nextFromSeq });
    expect(names(second)).toEqual(['A2']);
    expect(second.nextFromSeq).toBe('0');
  });

  it('streams a tenant its history, a caught-up marker, then only its own live events', async () => {
    const call = c.events.Watch({}, bearer('alice-secret'));
    const next = reader(call);
    try {
      expect((await next()).event?.type).toBe('ipam.A1');
      expect((await next()).event?.type).toBe('ipam.A2');
      const marker = await next();
      expect(marker.kind).toBe('caughtUp');
      // Another tenant's event first: if it leaked, it would arrive before ours.
      await append('B2', 't2', 'b');
      await append('A3', 't1', 'a');
      const live = await next();
      expect(live.event).toMatchObject({ type: 'ipam.A3', tenant: 't1', seq: String(seqs['A3']) });
    } finally {
      call.cancel();
    }
  });

  it('refuses a Watch on another tenant with PERMISSION_DENIED', async () => {
    const call = c.events.Watch({ tenant: 't1' }, bearer('bob-secret'));
    await expect(reader(call)()).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('ends open watches with UNAVAILABLE when the server stops', async () => {
    const own = await startApiServer({ nc, tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger });
    const oc = clients(own.port);
    try {
      const call = oc.events.Watch({ fromSeq: seqs['A3'] }, bearer('ops-secret'));
      const next = reader(call);
      expect((await next()).event?.type).toBe('ipam.A3');
      expect((await next()).kind).toBe('caughtUp');
      await own.stop();
      await expect(next()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      for (const client of Object.values(oc)) client.close();
      await own.stop();
    }
  });
});
