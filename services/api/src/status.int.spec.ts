/**
 * The API's realisation status against a real nats-server, with canned
 * IPAM and status responders (the status service's behaviour is its own
 * suite's; the end-to-end suites run it for real): strata-position on
 * command replies, Port status (one status request per page, UNKNOWN when
 * the status service does not answer), GetRealisation's owner check,
 * admin-only Barrier and hypervisor status, WatchStatus scoping.
 * Production NATS users: the API as `api`, IPAM as `ipam`, the canned
 * status service's replies and changes as `status`.
 */
import { Metadata, credentials, status, type requestCallback } from '@grpc/grpc-js';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortStatusView, RealisationView, StatusChange as StatusChangeView } from '@strata/contracts';
import { loadStrataProto, type BarrierResponse__Output, type ListPortsResponse__Output, type Port__Output, type Realisation__Output, type StatusChange__Output } from '@strata/proto';
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
const P1 = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const P2 = '1d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const logger = createLogger('api-status-test', 'silent');

const portView = (id: string, hostId: string | null) => ({
  id, tenant: 't1', networkId: NET_ID, name: '', mac: '02:00:00:00:00:01', fixedIps: [], hostId, deviceId: '',
  allowedAddressPairs: [], ownedAddresses: [], createdAt: '2024-05-01T14:03:00.000Z',
});
const realisation = (kind: RealisationView['kind'], id: string, over: Partial<RealisationView> = {}): RealisationView => ({
  kind, id, hosts: 2, applied: 2, behind: [], realised: true, seq: 77, ...over,
});
const portStatus = (id: string): PortStatusView =>
  id === P1
    ? { portId: id, status: 'ACTIVE', reason: '', hostId: 'h1', realisation: realisation('port', id) }
    : { portId: id, status: 'DOWN', reason: 'not bound to a hypervisor', hostId: null, realisation: realisation('port', id, { hosts: 0, applied: 0 }) };

interface Seen {
  subject: string;
  meta: RequestMeta;
  body: Record<string, unknown>;
}

function ipamReply(subject: string, meta: RequestMeta, body: Record<string, unknown>): ReplyEnvelope {
  const notFound = (what: string): ReplyEnvelope => ({ ok: false, error: { code: 'NOT_FOUND', message: `${what} ${String(body['id'])} not found`, details: {} } });
  switch (subject) {
    case 'strata.cmd.ipam.port.create':
      return { ok: true, result: portView(P1, 'h1'), seq: 131 };
    case 'strata.qry.ipam.port.get':
      return meta.tenant === 't1' ? { ok: true, result: portView(body['id'] as string, 'h1') } : notFound('port');
    case 'strata.qry.ipam.port.list':
      return { ok: true, result: { items: [portView(P1, 'h1'), portView(P2, null)], next: '' } };
    case 'strata.qry.ipam.network.get':
      return meta.tenant === 't1' ? { ok: true, result: { id: NET_ID, tenant: 't1', name: 'web', vni: 5001, mtu: 1450, routed: false, createdAt: '2024-05-01T14:03:00.000Z' } } : notFound('network');
    default:
      return { ok: false, error: { code: 'INTERNAL', message: `no canned reply for ${subject}`, details: {} } };
  }
}

function statusReply(subject: string, _meta: RequestMeta, body: Record<string, unknown>): ReplyEnvelope {
  switch (subject) {
    case 'strata.qry.status.port.status':
      return { ok: true, result: { items: (body['ids'] as string[]).map(portStatus) } };
    case 'strata.qry.status.resource.realisation':
      return { ok: true, result: realisation(body['kind'] as RealisationView['kind'], body['id'] as string, { hosts: 3, applied: 2, realised: false, behind: [{ hostId: 'h3', position: 131, appliedPosition: 120, reason: 'agent applied 120 of 131' }] }) };
    case 'strata.qry.status.barrier':
      return { ok: true, result: { position: body['position'], realised: true, behind: [], hosts: 3 } };
    default:
      return { ok: false, error: { code: 'INTERNAL', message: `no canned reply for ${subject}`, details: {} } };
  }
}

function answer(nc: NatsConnection, subject: string, reply: typeof ipamReply, seen: Seen[]): Subscription {
  return nc.subscribe(subject, {
    callback: (_e: unknown, msg: Msg) => {
      const { meta, body } = msg.json<{ meta: RequestMeta; body: Record<string, unknown> }>();
      seen.push({ subject: msg.subject, meta, body });
      msg.respond(JSON.stringify(reply(msg.subject, meta, body)));
    },
  });
}

function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A unary call's reply and its response headers. */
function rpc<T>(invoke: (cb: requestCallback<T>) => { on(e: 'metadata', f: (md: Metadata) => void): unknown }): Promise<{ res: T; headers: Metadata }> {
  return new Promise((resolve, reject) => {
    let headers = new Metadata();
    const call = invoke((err, res) => (err ? reject(err) : resolve({ res: res as T, headers })));
    call.on('metadata', (md) => (headers = md));
  });
}

let nats: StrataNats;
let statusNc: NatsConnection;
let api: ApiServer;
const seen: Seen[] = [];
let statusSub: Subscription | undefined;
const v1 = loadStrataProto().strata.v1;
let ports: InstanceType<typeof v1.PortService>;
let statusApi: InstanceType<typeof v1.StatusService>;

function startStatus(): void {
  statusSub = answer(statusNc, 'strata.qry.status.>', statusReply, seen);
}

beforeAll(async () => {
  nats = await startProvisionedNats();
  statusNc = await nats.connect('status');
  const ipam = await nats.connect('ipam');
  answer(ipam, 'strata.cmd.ipam.>', ipamReply, seen);
  answer(ipam, 'strata.qry.ipam.>', ipamReply, seen);
  startStatus();
  await Promise.all([ipam.flush(), statusNc.flush()]);
  api = await startApiServer({ nc: await nats.connect('api'), tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger, requestTimeoutMs: 2_000 });
  const addr = `127.0.0.1:${api.port}`;
  ports = new v1.PortService(addr, credentials.createInsecure());
  statusApi = new v1.StatusService(addr, credentials.createInsecure());
});

afterAll(async () => {
  ports?.close();
  statusApi?.close();
  await api?.stop();
  await nats?.stop();
});

const statusRequests = () => seen.filter((s) => s.subject === 'strata.qry.status.port.status');

describe('strata-position', () => {
  it("answers a command with its events' log position in the response headers, and a read without one", async () => {
    const created = await rpc<Port__Output>((cb) => ports.CreatePort({ networkId: NET_ID, hostId: 'h1' }, bearer('alice-secret'), cb));
    expect(created.headers.get('strata-position')).toEqual(['131']);
    const read = await rpc<Port__Output>((cb) => ports.GetPort({ id: P1 }, bearer('alice-secret'), cb));
    expect(read.headers.get('strata-position')).toEqual([]);
  });
});

describe('port status', () => {
  it('is on the created port and on a read, asked of the status service as of the write', async () => {
    const { res } = await rpc<Port__Output>((cb) => ports.CreatePort({ networkId: NET_ID, hostId: 'h1' }, bearer('alice-secret'), cb));
    expect(res).toMatchObject({ id: P1, status: 'ACTIVE', statusReason: '' });
    expect(statusRequests().at(-1)).toMatchObject({ body: { ids: [P1] }, meta: { tenant: 't1', minSeq: 131 } });
  });

  it('asks once for a whole page and gives each port its own status and reason', async () => {
    const before = statusRequests().length;
    const { res } = await rpc<ListPortsResponse__Output>((cb) => ports.ListPorts({}, bearer('alice-secret'), cb));
    expect(res.items.map((p) => [p.id, p.status, p.statusReason])).toEqual([
      [P1, 'ACTIVE', ''],
      [P2, 'DOWN', 'not bound to a hypervisor'],
    ]);
    expect(statusRequests().length - before).toBe(1);
    expect(statusRequests().at(-1)!.body).toEqual({ ids: [P1, P2] });
  });

  it('is UNKNOWN, saying why, when the status service does not answer; the port is still read', async () => {
    statusSub!.unsubscribe();
    await statusNc.flush();
    try {
      const { res } = await rpc<Port__Output>((cb) => ports.GetPort({ id: P1 }, bearer('alice-secret'), cb));
      expect(res).toMatchObject({ id: P1, hostId: 'h1', status: 'UNKNOWN', statusReason: expect.stringMatching(/^status service unavailable \((UNAVAILABLE|DEADLINE_EXCEEDED)\)$/) });
    } finally {
      startStatus();
      await statusNc.flush();
    }
  });
});

describe('StatusService', () => {
  it("answers a port's realisation with its status, and a network's with who is behind", async () => {
    const port = await rpc<Realisation__Output>((cb) => statusApi.GetRealisation({ kind: 'port', id: P1 }, bearer('alice-secret'), cb));
    expect(port.res).toMatchObject({ kind: 'port', id: P1, portStatus: 'ACTIVE', hostId: 'h1', realised: true, hosts: 2, applied: 2 });
    const net = await rpc<Realisation__Output>((cb) => statusApi.GetRealisation({ kind: 'network', id: NET_ID, minPosition: 500 }, bearer('alice-secret'), cb));
    expect(net.res).toMatchObject({ kind: 'network', realised: false, hosts: 3, applied: 2, behind: [{ hostId: 'h3', position: '131', appliedPosition: '120', reason: 'agent applied 120 of 131' }] });
    // The client's position is kept when it is ahead of this API instance's own.
    expect(seen.filter((s) => s.subject === 'strata.qry.status.resource.realisation').at(-1)!.meta.minSeq).toBe(500);
  });

  it("answers another tenant's resource NOT_FOUND from its owner, without asking the status service", async () => {
    const before = seen.filter((s) => s.subject.startsWith('strata.qry.status.')).length;
    await expect(rpc((cb) => statusApi.GetRealisation({ kind: 'network', id: NET_ID }, bearer('bob-secret'), cb))).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(rpc((cb) => statusApi.GetRealisation({ kind: 'port', id: P1 }, bearer('bob-secret'), cb))).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect(seen.filter((s) => s.subject.startsWith('strata.qry.status.')).length).toBe(before);
  });

  it('refuses an unknown kind by name', async () => {
    await expect(rpc((cb) => statusApi.GetRealisation({ kind: 'subnet', id: NET_ID }, bearer('alice-secret'), cb))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^kind: must be one of port, network, router, security-group, chain/),
    });
  });

  it('keeps the barrier and hypervisors to admins', async () => {
    await expect(rpc((cb) => statusApi.Barrier({ position: 131 }, bearer('alice-secret'), cb))).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringMatching(/admin-only/) });
    await expect(rpc((cb) => statusApi.ListHypervisorStatus({}, bearer('alice-secret'), cb))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(rpc((cb) => statusApi.GetHypervisorStatus({ id: 'h1' }, bearer('alice-secret'), cb))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const b = await rpc<BarrierResponse__Output>((cb) => statusApi.Barrier({ position: 131 }, bearer('ops-secret'), cb));
    expect(b.res).toEqual({ position: '131', realised: true, behind: [], hosts: 3 });
  });
});

describe('WatchStatus', () => {
  const change = (tenant: string, id: string): StatusChangeView => ({ kind: 'network', tenant, id, realisation: realisation('network', id) });

  /** Publishes changes until the watch has delivered `until` (a subscription is live only once the API has subscribed). */
  async function watchUntil(token: string, until: string, publish: () => void, req = {}): Promise<StatusChange__Output[]> {
    const call = statusApi.WatchStatus(req, bearer(token));
    const got: StatusChange__Output[] = [];
    const timer = setInterval(publish, 100);
    try {
      for await (const c of call as AsyncIterable<StatusChange__Output>) {
        got.push(c);
        if (c.id === until) break;
      }
    } finally {
      clearInterval(timer);
      call.cancel();
    }
    return got;
  }

  it("gives a tenant its own tenant's changes only, and an admin everything, hypervisors included", async () => {
    const publish = (): void => {
      statusNc.publish('strata.realised.t2.network.theirs', JSON.stringify(change('t2', 'theirs')));
      statusNc.publish('strata.realised._admin.hypervisor.h1', JSON.stringify({ kind: 'hypervisor', tenant: '', id: 'h1', hypervisor: { hostId: 'h1', registered: true, alive: true, lastSeenAt: null, bootId: null, version: '1', appliedPosition: 7, viewPosition: 7, error: null, since: null } }));
      statusNc.publish('strata.realised.t1.network.mine', JSON.stringify(change('t1', 'mine')));
    };
    const alice = await watchUntil('alice-secret', 'mine', publish);
    expect(alice.every((c) => c.tenant === 't1' && c.id === 'mine')).toBe(true);
    expect(alice.at(-1)).toMatchObject({ kind: 'network', realisation: { kind: 'network', id: 'mine', realised: true } });
    const ops = await watchUntil('ops-secret', 'h1', publish);
    expect(ops.at(-1)).toMatchObject({ kind: 'hypervisor', hypervisor: { hostId: 'h1', alive: true, appliedPosition: '7' } });
  });

  it("refuses a tenant's watch of another tenant", async () => {
    const call = statusApi.WatchStatus({ tenant: 't2' }, bearer('alice-secret'));
    await expect(
      new Promise((resolve, reject) => {
        call.on('data', resolve);
        call.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
