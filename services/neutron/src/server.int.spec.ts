/**
 * The REST core over the wire and over NATS: the real HTTP server, the
 * NATS user `neutron` with its production permissions, requests signed
 * like the api's, real services answering. The resource here is a probe
 * (a bare network over IPAM's contract, the test's own input) so the core's
 * behaviour with real service verdicts is checked without waiting for the
 * resource modules: tenancy (another project's id is a 404), a stale
 * If-Match through the service (412), bulk create rolled back in IPAM,
 * body limits, and that a refused request writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import type { Json } from './resource.js';
import { probe } from './test/probe-networks.js';
import { STACK_START_MS, startNeutronStack, type NeutronStack, type StackLogin, type StackResponse } from './test/stack.js';

describe('the Neutron REST core against the real control plane', () => {
  let stack: NeutronStack;
  let alice: StackLogin;
  let bob: StackLogin;
  let rita: StackLogin;

  beforeAll(async () => {
    stack = await startNeutronStack({ resources: [probe], http: { headersTimeoutMs: 1_000 } });
    alice = await stack.login('project-a', 'alice', 'member');
    rita = await stack.login('project-a', 'rita', 'reader');
    bob = await stack.login('project-b', 'bob', 'member');
  }, STACK_START_MS);
  afterAll(async () => {
    await stack?.stop();
  });

  const post = (who: StackLogin, body: unknown) => stack.request('POST', '/v2.0/networks', { token: who.token, body });

  it('creates through IPAM as the token\'s project, and lists and shows it by id', async () => {
    const r = await post(alice, { network: { name: 'net-a', mtu: 1400 } });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-openstack-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
    const n = r.body.network;
    expect(n).toMatchObject({ name: 'net-a', mtu: 1400, project_id: alice.projectId, tenant_id: alice.projectId, revision_number: 1 });
    const shown = await stack.request('GET', `/v2.0/networks/${n.id}?fields=name`, { token: alice.token });
    expect(shown.body).toEqual({ network: { name: 'net-a' } });
    const listed = await stack.request('GET', '/v2.0/networks?name=net-a', { token: alice.token });
    expect(listed.body.networks.map((x: Json) => x['id'])).toEqual([n.id]);
  });

  it('a caller\'s X-Openstack-Request-Id reused on different requests (as nova does) never makes IPAM refuse one as a replay', async () => {
    const global = 'req-5f0c2b1e-7a44-4c1b-8d3e-0b6f1c2d3e4f';
    const headers = { 'X-Openstack-Request-Id': global };
    const a = await stack.request('POST', '/v2.0/networks', { token: alice.token, body: { network: { name: 'same-global-1' } }, headers });
    const b = await stack.request('POST', '/v2.0/networks', { token: alice.token, body: { network: { name: 'same-global-2' } }, headers });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.network.id).not.toBe(b.body.network.id);
    expect(a.headers.get('x-openstack-request-id')).not.toBe(b.headers.get('x-openstack-request-id'));
  });

  it('hides project A\'s network from project B: 404 NetworkNotFound on show, update and delete; nothing written', async () => {
    const n = (await post(alice, { network: { name: 'private' } })).body.network;
    const before = await stack.lastSeq();
    for (const [method, body] of [['GET', undefined], ['PUT', { network: { name: 'stolen' } }], ['DELETE', undefined]] as const) {
      const r = await stack.request(method, `/v2.0/networks/${n.id}`, { token: bob.token, ...(body ? { body } : {}) });
      expect(r.status, method).toBe(404);
      expect(r.body.NeutronError).toEqual({ type: 'NetworkNotFound', message: `Network ${n.id} could not be found.`, detail: '' });
      expect(await stack.writtenBy(r, before), method).toEqual([]);
    }
    expect((await stack.request('GET', '/v2.0/networks', { token: bob.token })).body.networks.map((x: Json) => x['name'])).not.toContain('private');
  });

  it('a reader reads but writes nothing (403), and nothing is written', async () => {
    const n = (await post(alice, { network: { name: 'readable' } })).body.network;
    const before = await stack.lastSeq();
    expect((await stack.request('GET', `/v2.0/networks/${n.id}`, { token: rita.token })).status).toBe(200);
    const refused = [
      await post(rita, { network: { name: 'nope' } }),
      await stack.request('PUT', `/v2.0/networks/${n.id}`, { token: rita.token, body: { network: { name: 'nope' } } }),
      await stack.request('DELETE', `/v2.0/networks/${n.id}`, { token: rita.token }),
    ];
    expect(refused.map((r) => [r.status, r.body.NeutronError.type])).toEqual([
      [403, 'PolicyNotAuthorized'],
      [403, 'PolicyNotAuthorized'],
      [403, 'PolicyNotAuthorized'],
    ]);
    for (const r of refused) expect(await stack.writtenBy(r, before)).toEqual([]);
  });

  it('maps IPAM\'s revision conflict to 412 RevisionNumberConstraintFailed', async () => {
    const n = (await post(alice, { network: { name: 'rev' } })).body.network;
    const put = (rev: number, name: string) => stack.request('PUT', `/v2.0/networks/${n.id}`, { token: alice.token, body: { network: { name } }, headers: { 'If-Match': `revision_number=${rev}` } });
    const ok = await put(1, 'rev2');
    expect(ok.status).toBe(200);
    expect(ok.body.network.revision_number).toBe(2);
    const stale = await put(1, 'rev3');
    expect(stale.status).toBe(412);
    expect(stale.body.NeutronError).toEqual({ type: 'RevisionNumberConstraintFailed', message: 'Constrained to 1, but current revision is 2', detail: '' });
  });

  it('bulk create is all or nothing: IPAM\'s refusal of one item deletes those already created', async () => {
    const names = ['bulk-1', 'bulk-2', 'bulk-3'];
    // An MTU IPAM refuses (INVALID_ARGUMENT) on the last item.
    const r = await post(alice, { networks: [{ name: names[0] }, { name: names[1] }, { name: names[2], mtu: 1 }] });
    expect(r.status).toBe(400);
    expect(r.body.NeutronError.type).toBe('InvalidInput');
    const left = (await stack.request('GET', '/v2.0/networks', { token: alice.token })).body.networks.map((x: Json) => x['name']);
    for (const name of names) expect(left).not.toContain(name);
    const ok = await post(alice, { networks: names.map((name) => ({ network: { name } })) });
    expect(ok.status).toBe(201);
    expect(ok.body.networks.map((x: Json) => x['name'])).toEqual(names);
  });

  it('deletes with 204 and no body; the id is then 404', async () => {
    const n = (await post(alice, { network: { name: 'gone' } })).body.network;
    const r = await stack.request('DELETE', `/v2.0/networks/${n.id}`, { token: alice.token });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect((await stack.request('GET', `/v2.0/networks/${n.id}`, { token: alice.token })).status).toBe(404);
  });

  it('refuses a body over the limit with 413 before reading it all, and writes nothing', async () => {
    const big = JSON.stringify({ network: { name: 'x', description: 'd'.repeat(2 * 1024 * 1024) } });
    const r = await post(alice, big);
    expect(r.status).toBe(413);
    expect(r.body.NeutronError.type).toBe('HTTPRequestEntityTooLarge');
    // Declared too large: answered from the headers alone.
    const declared = await new Promise<StackResponse>((resolve, reject) => {
      const url = new URL(stack.url);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/v2.0/networks', headers: { 'Content-Length': String(64 * 1024 * 1024), 'X-Auth-Token': alice.token, 'Content-Type': 'application/json' } });
      req.on('response', (res) => {
        res.resume();
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers, body: undefined });
      });
      req.on('error', reject);
      req.write('{');
    });
    expect(declared.status).toBe(413);
    // Both were answered before the engine: no request id was made, so no service was asked and nothing written.
    expect([r.headers.get('x-openstack-request-id'), declared.headers.get('x-openstack-request-id')]).toEqual([null, null]);
  });

  it('closes a connection whose headers never end (a slow client holds nothing)', async () => {
    const url = new URL(stack.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(Number(url.port), url.hostname, () => socket.write(`GET /v2.0/networks HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${alice.token}\r\n`));
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 401 without a valid token before any service is asked', async () => {
    const r = await stack.request('GET', '/v2.0/networks', { token: 'forged' });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
  });
});
