/**
 * `--wait` and `strata wait` in-process against the real API server (real
 * nats-server), with canned IPAM and status responders: exit codes,
 * messages and progress as a user sees them. The status service's own
 * behaviour is its suite's; here (as its NATS user) it answers BUILD twice, then ACTIVE, for a
 * bound port, and DOWN (not bound) for an unbound one.
 */
import type { Msg, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, startApiServer, type ApiServer } from '@strata/api';
import type { PortStatusView, RealisationView } from '@strata/contracts';
import { commandSignerFrom, createLogger, type RequestMeta } from '@strata/runtime';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { EXIT_FAILURE, EXIT_NOT_REALISABLE, EXIT_OK, EXIT_TIMEOUT } from './errors.js';
import { run } from './run.js';

const NET_ID = '3f2a9c1e-5b7d-4e2f-8a10-0c9d8e7f6a5b';
const BOUND = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const UNBOUND = '1d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';

const portView = (id: string, hostId: string | null) => ({
  id, tenant: 't1', networkId: NET_ID, name: '', mac: '02:00:00:00:00:01', fixedIps: [], hostId, deviceId: '',
  allowedAddressPairs: [], ownedAddresses: [], createdAt: '2024-05-01T14:03:00.000Z',
});

/** Times each port's status was asked: the bound port is ACTIVE from the third. */
const asked = new Map<string, number>();
let barrierAsks = 0;

function portStatus(id: string): PortStatusView {
  const n = (asked.get(id) ?? 0) + 1;
  asked.set(id, n);
  const base: RealisationView = { kind: 'port', id, hosts: 2, applied: 2, behind: [], realised: true, seq: 131 };
  if (id !== BOUND) return { portId: id, status: 'DOWN', reason: 'not bound to a hypervisor', hostId: null, realisation: { ...base, hosts: 0, applied: 0 } };
  if (n >= 3) return { portId: id, status: 'ACTIVE', reason: '', hostId: 'h1', realisation: base };
  const behind = [{ hostId: 'h2', position: 131, appliedPosition: 120, reason: 'agent applied 120 of 131' }];
  return { portId: id, status: 'BUILD', reason: 'waiting for h2', hostId: 'h1', realisation: { ...base, applied: 1, behind, realised: false } };
}

function reply(subject: string, meta: RequestMeta, body: Record<string, unknown>): unknown {
  switch (subject) {
    case 'strata.cmd.ipam.port.create':
      return { ok: true, result: body['hostId'] ? portView(BOUND, 'h1') : portView(UNBOUND, null), seq: 131 };
    case 'strata.cmd.ipam.network.delete':
      return { ok: true, result: { id: body['id'] }, seq: 132 };
    case 'strata.qry.ipam.port.get':
      return { ok: true, result: portView(body['id'] as string, body['id'] === BOUND ? 'h1' : null) };
    case 'strata.qry.status.port.status':
      return { ok: true, result: { items: (body['ids'] as string[]).map(portStatus) } };
    case 'strata.qry.status.barrier': {
      barrierAsks++;
      const behind = barrierAsks < 2 ? [{ hostId: 'h3', position: body['position'], appliedPosition: 3, reason: 'agent applied 3 of 5' }] : [];
      return { ok: true, result: { position: body['position'], realised: behind.length === 0, behind, hosts: 3 } };
    }
    default:
      return { ok: false, error: { code: 'INTERNAL', message: `no canned reply for ${subject} (${meta.tenant})` } };
  }
}

function answer(nc: NatsConnection, subject: string): void {
  nc.subscribe(subject, {
    callback: (_e: unknown, msg: Msg) => {
      const { meta, body } = msg.json<{ meta: RequestMeta; body: Record<string, unknown> }>();
      msg.respond(JSON.stringify(reply(msg.subject, meta, body)));
    },
  });
}

let nats: StrataNats;
let api: ApiServer;
let server: string;

async function strata(argv: string[], token = 'alice-secret') {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { io: { out: (s) => stdout.push(s), err: (s) => stderr.push(s) }, env: { STRATA_SERVER: server, STRATA_TOKEN: token, STRATA_PLAINTEXT: '1' } });
  return { code, stdout: stdout.join('\n'), stderr };
}

beforeAll(async () => {
  nats = await startProvisionedNats();
  const ipam = await nats.connect('ipam');
  answer(ipam, 'strata.cmd.ipam.>');
  answer(ipam, 'strata.qry.ipam.>');
  const status = await nats.connect('status');
  answer(status, 'strata.qry.status.>');
  await Promise.all([ipam.flush(), status.flush()]);
  // The canned replies claim log positions up to 132, which the CLI sends back (strata-position): the api admits
  // only positions the log has reached, so the log holds that many (placeholder) messages, written as the operator.
  const admin = await nats.connect('admin');
  const js = admin.jetstream();
  for (let i = 0; i < 132; i++) await js.publish('strata.evt.test.placeholder', new Uint8Array());
  await admin.close();
  const tokens = [
    { name: 'alice', sha256: sha256Hex('alice-secret'), tenant: 't1', admin: false },
    { name: 'ops', sha256: sha256Hex('ops-secret'), tenant: 'ops', admin: true },
  ];
  api = await startApiServer({ nc: await nats.connect('api'), tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger: createLogger('cli-wait-test', 'silent') });
  server = `127.0.0.1:${api.port}`;
});

afterAll(async () => {
  await api?.stop();
  await nats?.stop();
});

describe('port create --wait', () => {
  it('returns once the port is ACTIVE, showing progress on the way (a tenant waits for its port: the barrier is admin-only)', async () => {
    asked.delete(BOUND);
    const r = await strata(['port', 'create', '--network', NET_ID, '--host', 'h1', '--wait']);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toMatch(new RegExp(`│ ID\\s+│ ${BOUND}`));
    expect(r.stderr).toContain(`port ${BOUND}: BUILD (waiting for h2); applied on 1 of 2 hosts; behind: h2 (agent applied 120 of 131)`);
    expect(r.stderr.at(-1)).toBe(`realised: port ${BOUND}: ACTIVE; applied on 2 of 2 hosts`);
  });

  it('exits 4 at once for an unbound port, saying why it cannot become ACTIVE', async () => {
    const r = await strata(['port', 'create', '--network', NET_ID, '--wait']);
    expect(r.code).toBe(EXIT_NOT_REALISABLE);
    expect(r.stderr.at(-1)).toBe(`error: NOT_REALISABLE: port ${UNBOUND} cannot become ACTIVE: it is not bound to a hypervisor (bind it: strata port bind ${UNBOUND} --host <host>)`);
  });

  it("tells a tenant a delete cannot be waited for (the barrier is admin-only); an admin's waits for the barrier", async () => {
    const tenant = await strata(['network', 'delete', NET_ID, '--wait']);
    expect(tenant.code).toBe(EXIT_NOT_REALISABLE);
    expect(tenant.stderr.at(-1)).toMatch(/^error: NOT_REALISABLE: --wait: the write \(position 132\) succeeded, but waiting for it needs the write barrier, which is admin-only/);
    barrierAsks = 0;
    const ops = await strata(['network', 'delete', NET_ID, '--wait'], 'ops-secret');
    expect(ops.code).toBe(EXIT_OK);
    expect(ops.stderr).toEqual(['position 132: applied on 2 of 3 hosts; behind: h3 (agent applied 3 of 5)', 'realised: position 132: applied on 3 of 3 hosts']);
  });
});

describe('strata wait', () => {
  it('times out with exit 3 for a port that cannot become ACTIVE, naming the status and why', async () => {
    const r = await strata(['wait', 'port', UNBOUND, '--timeout', '1s']);
    expect(r.code).toBe(EXIT_TIMEOUT);
    expect(r.stdout).toBe('');
    expect(r.stderr.at(-1)).toBe(`error: TIMEOUT: not realised within 1s: port ${UNBOUND}: DOWN (not bound to a hypervisor); no host holds it`);
  });

  it('exits 0 once the port is ACTIVE and prints its realisation', async () => {
    asked.delete(BOUND);
    const r = await strata(['wait', 'port', BOUND, '-o', 'json']);
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'port', id: BOUND, portStatus: 'ACTIVE', hosts: 2, applied: 2 });
  });

  it('waits for a position as an admin; a tenant is refused', async () => {
    barrierAsks = 0;
    expect(await strata(['wait', 'position', '5'], 'ops-secret')).toMatchObject({ code: EXIT_OK, stdout: 'position 5: applied on 3 of 3 hosts' });
    const tenant = await strata(['wait', 'position', '5']);
    expect(tenant.code).toBe(EXIT_FAILURE);
    expect(tenant.stderr.at(-1)).toMatch(/^error: PERMISSION_DENIED: Barrier is admin-only/);
  });

  it('shows the status in port show, with the reason when not ACTIVE', async () => {
    const r = await strata(['port', 'show', UNBOUND]);
    expect(r.stdout).toMatch(/│ STATUS\s+│ DOWN: not bound to a hypervisor\s+│/);
  });
});
