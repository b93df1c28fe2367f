/**
 * `strata` in-process against the real API server (real nats-server and
 * event log) with a canned IPAM reply or two: output formats, error lines
 * and exit codes as a user sees them. Production NATS users: the API as
 * `api`, the canned IPAM (and the event it wrote) as `ipam`.
 */
import { randomUUID } from 'node:crypto';
import type { Msg } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, startApiServer, type ApiServer } from '@strata/api';
import { JetStreamEventStore } from '@strata/eventlog';
import { commandSignerFrom, createLogger } from '@strata/runtime';
import { startProvisionedNats } from '@strata/lab';
import type { StrataNats } from '@strata/testing';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
import { run } from './run.js';

const NET = { id: randomUUID(), tenant: 't1', name: 'web', vni: 5001, mtu: 1450, routed: false, createdAt: '2024-05-01T14:03:00.000Z', description: '', revision: 1, portSecurityEnabled: true, updatedAt: '2024-05-01T14:03:00.000Z', federated: false };

let nats: StrataNats;
let api: ApiServer;
let env: Record<string, string>;

async function strata(argv: string[], interrupt?: AbortController) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const err = (s: string): void => {
    stderr.push(s);
    // events tail runs until interrupted: stop it once it has shown the history.
    if (s.startsWith('-- caught up')) interrupt?.abort();
  };
  const code = await run(argv, { io: { out: (s) => stdout.push(s), err }, env, ...(interrupt ? { interrupt: interrupt.signal } : {}) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

beforeAll(async () => {
  nats = await startProvisionedNats();
  const ipam = await nats.connect('ipam');
  // Commands and queries only: strata.*.ipam.> would also catch the event log's own subjects.
  const answer = (_e: unknown, msg: Msg): void => {
    const { body } = msg.json<{ body: { id?: string; cidr?: string } }>();
    const reply =
      msg.subject === 'strata.qry.ipam.network.get' && body.id === NET.id
        ? { ok: true, result: NET }
        : msg.subject === 'strata.cmd.ipam.subnet.create'
          ? { ok: false, error: { code: 'INVALID_ARGUMENT', message: `invalid request: cidr: ${body.cidr} has host bits set` } }
          : { ok: false, error: { code: 'NOT_FOUND', message: `network ${body.id} not found` } };
    msg.respond(JSON.stringify(reply));
  };
  ipam.subscribe('strata.cmd.ipam.>', { callback: answer });
  ipam.subscribe('strata.qry.ipam.>', { callback: answer });
  await ipam.flush();
  const tokens = [{ name: 'alice', sha256: sha256Hex('alice-secret'), tenant: 't1', admin: false }];
  api = await startApiServer({ nc: await nats.connect('api'), tokens, signer: commandSignerFrom(), grpcAddr: '127.0.0.1:0', logger: createLogger('cli-test', 'silent') });
  env = { STRATA_SERVER: `127.0.0.1:${api.port}`, STRATA_TOKEN: 'alice-secret', STRATA_PLAINTEXT: '1' };
  const store = await JetStreamEventStore.open(ipam);
  const aggregate = { context: 'ipam', type: 'network', id: NET.id };
  await store.append(
    aggregate,
    {
      id: randomUUID(), type: 'ipam.NetworkCreated', version: 1, aggregate, tenant: 't1', actor: 'alice',
      correlationId: 'c1', causationId: null, occurredAt: NET.createdAt, data: { networkId: NET.id, vni: 5001 },
    },
    { expectedVersion: 'any' },
  );
});

afterAll(async () => {
  await api?.stop();
  await nats?.stop();
});

describe('strata against the API', () => {
  it('-o json prints exactly the API’s result', async () => {
    const r = await strata(['network', 'show', NET.id, '-o', 'json']);
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.stdout)).toEqual(NET);
  });

  it('prints a readable table by default', async () => {
    const r = await strata(['network', 'show', NET.id]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toMatch(/│ VNI\s+│ 5001\s+│/);
  });

  it('prints "error: CODE: message" and exits 1 for a refusal', async () => {
    const id = randomUUID();
    expect(await strata(['network', 'show', id])).toMatchObject({ code: EXIT_FAILURE, stdout: '', stderr: `error: NOT_FOUND: network ${id} not found` });
  });

  it('exits 2 when the server finds the request invalid', async () => {
    const r = await strata(['subnet', 'create', '--network', NET.id, '--cidr', '10.0.0.1/24']);
    expect(r).toMatchObject({ code: EXIT_USAGE, stderr: 'error: INVALID_ARGUMENT: invalid request: cidr: 10.0.0.1/24 has host bits set' });
  });

  it('exits 1 with UNAUTHENTICATED for a wrong token', async () => {
    const r = await strata(['--token', 'nope', 'network', 'list']);
    expect(r).toMatchObject({ code: EXIT_FAILURE, stderr: 'error: UNAUTHENTICATED: unknown bearer token' });
  });

  it('lists events as a table and tails them as JSON lines', async () => {
    const list = await strata(['events', 'list']);
    expect(list.code).toBe(EXIT_OK);
    expect(list.stdout).toMatch(new RegExp(`ipam\\.NetworkCreated\\s+│ ipam\\.network\\.${NET.id}`));

    const tail = await strata(['events', 'tail', '-o', 'json'], new AbortController());
    expect(tail.code).toBe(EXIT_OK);
    const lines = tail.stdout.split('\n').map((l) => JSON.parse(l) as { type: string; dataJson: string });
    expect(lines.map((e) => e.type)).toEqual(['ipam.NetworkCreated']);
    expect(JSON.parse(lines[0]!.dataJson)).toEqual({ networkId: NET.id, vni: 5001 });
    expect(tail.stderr).toMatch(/^-- caught up at seq 1;/);
  });
});
