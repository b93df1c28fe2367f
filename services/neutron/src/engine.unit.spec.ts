/**
 * The REST core's generic behaviour against an in-memory resource: routing,
 * authentication, attribute checks, lists (filters, fields, sorting,
 * pagination and its links), bulk create's rollback, If-Match and the
 * error mapping — each with the status, type and text Neutron answers.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PermissionDeniedError } from '@strata/errors';
import { createLogger } from '@strata/runtime';
import { NeutronEngine, type NeutronResponse } from './engine.js';
import type { NeutronClients } from './resource.js';
import { memoryNetworks, type MemoryResource } from './test/memory-resource.js';
import { TokenTable } from './test/token-table.js';

const P1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const P2 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

let nets: MemoryResource;
let engine: NeutronEngine;
let tokens: TokenTable;
let member: string;
let other: string;
let reader: string;
let admin: string;

beforeEach(() => {
  nets = memoryNetworks();
  tokens = new TokenTable();
  member = tokens.issue('alice', P1, 'member');
  other = tokens.issue('bob', P2, 'member');
  reader = tokens.issue('rita', P1, 'reader');
  admin = tokens.issue('root', 'cccccccccccccccccccccccccccccccc', 'admin');
  engine = new NeutronEngine({
    resources: [nets],
    validator: tokens,
    // The in-memory resource calls no service.
    clients: {} as NeutronClients,
    logger: createLogger('neutron-test', 'silent'),
    wwwAuthenticateUri: 'http://keystone.test:5000',
  });
});

interface Call {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

async function call(method: string, url: string, opts: Call = {}): Promise<NeutronResponse> {
  const headers: Record<string, string> = { host: 'neutron.test:9696', ...opts.headers };
  if (opts.token !== undefined) headers['x-auth-token'] = opts.token;
  let body: Buffer | undefined;
  if (opts.body !== undefined) {
    body = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    headers['content-type'] ??= 'application/json';
  }
  return engine.handle({ method, url, headers, body });
}

const neutronError = (r: NeutronResponse) => (r.body as { NeutronError: { type: string; message: string; detail: string } }).NeutronError;

async function expectError(r: Promise<NeutronResponse>, status: number, type: string, message?: string | RegExp): Promise<void> {
  const res = await r;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const e = neutronError(res);
  expect(e.type).toBe(type);
  expect(e.detail).toBe('');
  if (typeof message === 'string') expect(e.message).toBe(message);
  else if (message) expect(e.message).toMatch(message);
}

async function create(token: string, network: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await call('POST', '/v2.0/networks', { token, body: { network: { kind: 'k', ...network } } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body as { network: Record<string, unknown> }).network;
}

describe('routing and documents', () => {
  it('answers the versions document at / without a token, and 405 to anything but GET', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: 'http://neutron.test:9696/v2.0/' }] }] });
    await expectError(call('POST', '/'), 405, 'HTTPMethodNotAllowed');
  });

  it('lists the served core resources at /v2.0', async () => {
    const r = await call('GET', '/v2.0', { token: member });
    expect(r.body).toEqual({ resources: [{ name: 'network', collection: 'networks', links: [{ rel: 'self', href: 'http://neutron.test:9696/v2.0/networks' }] }] });
    expect((await call('GET', '/v2.0/', { token: member })).status).toBe(200);
  });

  it('lists exactly the core extensions and those the modules declare; one by alias; 404 for an unknown alias and for writes', async () => {
    const r = await call('GET', '/v2.0/extensions', { token: member });
    const aliases = (r.body as { extensions: Array<{ alias: string; links: unknown[] }> }).extensions.map((e) => e.alias);
    expect(aliases).toEqual(['pagination', 'sorting', 'filter-validation', 'project-id', 'revision-if-match', 'net-mtu']);
    const one = await call('GET', '/v2.0/extensions/net-mtu.json', { token: member });
    expect(one.body).toEqual({ extension: { name: 'Network MTU', alias: 'net-mtu', description: 'Provides MTU attribute for a network resource.', updated: '2015-03-25T10:00:00-00:00', links: [] } });
    await expectError(call('GET', '/v2.0/extensions/router', { token: member }), 404, 'HTTPNotFound', 'Extension with alias router does not exist');
    await expectError(call('POST', '/v2.0/extensions', { token: member, body: {} }), 404, 'HTTPNotFound');
  });

  it('answers 404 for a path no resource serves, and for one too deep', async () => {
    await expectError(call('GET', '/v2.0/floatingips', { token: member }), 404, 'HTTPNotFound', 'The resource could not be found.');
    await expectError(call('GET', '/v3/networks', { token: member }), 404, 'HTTPNotFound');
    await expectError(call('GET', '/v2.0/networks/a/touch/x', { token: member }), 404, 'HTTPNotFound');
    await expectError(call('PUT', '/v2.0/networks/a/nothing', { token: member, body: {} }), 404, 'HTTPNotFound');
  });

  it('answers 405 for a method the resource does not take', async () => {
    await expectError(call('DELETE', '/v2.0/networks', { token: member }), 405, 'HTTPMethodNotAllowed');
    await expectError(call('PATCH', '/v2.0/networks/x', { token: member, body: {} }), 405, 'HTTPMethodNotAllowed');
    await expectError(call('POST', '/v2.0/networks/x', { token: member, body: {} }), 405, 'HTTPMethodNotAllowed');
    await expectError(call('GET', '/v2.0/networks/x/touch', { token: member }), 405, 'HTTPMethodNotAllowed');
    const readOnly = new NeutronEngine({ resources: [{ ...memoryNetworks(), create: undefined }], validator: tokens, clients: {} as NeutronClients, logger: createLogger('t', 'silent') });
    const r = await readOnly.handle({ method: 'POST', url: '/v2.0/networks', headers: { 'x-auth-token': member }, body: Buffer.from('{"network":{}}') });
    expect(r.status).toBe(405);
  });

  it('takes a .json suffix on collections and members', async () => {
    const n = await create(member, { name: 'a' });
    expect((await call('GET', '/v2.0/networks.json', { token: member })).status).toBe(200);
    expect(((await call('GET', `/v2.0/networks/${String(n['id'])}.json`, { token: member })).body as { network: { id: string } }).network.id).toBe(n['id']);
  });
});

describe('authentication', () => {
  it('answers 401 as keystonemiddleware does without a token or with an invalid one, and calls no resource', async () => {
    for (const token of [undefined, '', 'nope']) {
      const r = await call('GET', '/v2.0/networks', token === undefined ? {} : { token });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      expect(r.headers['WWW-Authenticate']).toBe('Keystone uri="http://keystone.test:5000"');
    }
    const revoked = tokens.issue('eve', P1, 'member');
    tokens.revoke(revoked);
    expect((await call('POST', '/v2.0/networks', { token: revoked, body: { network: { kind: 'k' } } })).status).toBe(401);
    expect(nets.calls).toEqual([]);
  });

  it('answers 503 when the token cannot be validated (Keystone down), never a pass', async () => {
    const down = new NeutronEngine({
      resources: [nets],
      validator: { validate: () => Promise.reject(new Error('ECONNREFUSED')) },
      clients: {} as NeutronClients,
      logger: createLogger('t', 'silent'),
    });
    const r = await down.handle({ method: 'GET', url: '/v2.0/networks', headers: { 'x-auth-token': 'x' } });
    expect(r.status).toBe(503);
    expect(nets.calls).toEqual([]);
  });

  it('answers 403 for a valid token whose roles give no Strata role', async () => {
    const roleless = new NeutronEngine({
      resources: [nets],
      validator: { validate: () => Promise.reject(new PermissionDeniedError('user u has none of the roles admin, member or reader on project p')) },
      clients: {} as NeutronClients,
      logger: createLogger('t', 'silent'),
    });
    const r = await roleless.handle({ method: 'GET', url: '/v2.0/networks', headers: { 'x-auth-token': 'x' } });
    expect(r.status).toBe(403);
    expect(neutronError(r)).toEqual({ type: 'PolicyNotAuthorized', message: 'user u has none of the roles admin, member or reader on project p', detail: '' });
    expect(nets.calls).toEqual([]);
  });

  it('turns the identity into the request meta; answers a fresh req- id; a caller\'s request id is the correlation id', async () => {
    const global = 'req-0b9e8a3c-1f0e-4d6f-9c55-3c4b3e3a2f10';
    const r = await call('POST', '/v2.0/networks', { token: member, body: { network: { kind: 'k' } }, headers: { 'x-openstack-request-id': global } });
    expect(r.headers['X-Openstack-Request-Id']).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(r.headers['X-Openstack-Request-Id']).not.toBe(global);
    const meta = nets.metas[0]!;
    expect(meta).toMatchObject({ actor: 'keystone:alice', tenant: P1, admin: false, correlationId: global });
    expect(`req-${meta.requestId}`).toBe(r.headers['X-Openstack-Request-Id']);
    await call('POST', '/v2.0/networks', { token: admin, body: { network: { kind: 'k', name: 'x' } }, headers: { 'x-openstack-request-id': 'not-an-id' } });
    expect(nets.metas[1]).toMatchObject({ actor: 'keystone:root', admin: true });
    expect(nets.metas[1]!.correlationId).toBe(`req-${nets.metas[1]!.requestId}`);
  });
});

describe('create and the attribute map', () => {
  it('creates (201), filling tenant_id and project_id from the token', async () => {
    const n = await create(member, { name: 'net1' });
    expect(n).toMatchObject({ name: 'net1', tenant_id: P1, project_id: P1, revision_number: 1 });
  });

  it('refuses what Neutron refuses, with its texts, before the resource sees the body', async () => {
    const post = (body: unknown, headers?: Record<string, string>) => call('POST', '/v2.0/networks', { token: member, body, ...(headers ? { headers } : {}) });
    await expectError(post({ network: { kind: 'k', colour: 'red', size: 1 } }), 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'colour, size'");
    await expectError(post({ network: { kind: 'k', status: 'DOWN' } }), 400, 'HTTPBadRequest', "Attribute 'status' not allowed in POST");
    await expectError(post({ network: { name: 'x' } }), 400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'kind' not specified");
    await expectError(post({ network: { kind: 'k', tenant_id: P2 } }), 400, 'HTTPBadRequest', "Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.");
    await expectError(post({ network: { kind: 'k', tenant_id: P1, project_id: P2 } }), 400, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match");
    await expectError(post({ subnet: {} }), 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
    await expectError(post({ network: null }), 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
    await expectError(post({ network: 'x' }), 400, 'HTTPBadRequest', "Object 'network' contains invalid data");
    await expectError(post('[1]'), 400, 'HTTPBadRequest', 'Body contains invalid data');
    await expectError(post('{"network": '), 400, 'HTTPBadRequest', 'Body contains invalid data');
    await expectError(post({ networks: [] }), 400, 'HTTPBadRequest', 'Resources required');
    await expectError(post({ network: { kind: 'k' } }, { 'content-type': 'text/plain' }), 400, 'HTTPBadRequest', 'Unsupported Content-Type');
    await expectError(call('POST', '/v2.0/networks', { token: member }), 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
    expect(nets.calls).toEqual([]);
  });

  it('lets only an admin set admin-only attributes or another project; a reader creates nothing (403 after the body checks)', async () => {
    await expectError(
      call('POST', '/v2.0/networks', { token: member, body: { network: { kind: 'k', 'provider:segmentation_id': 7 } } }),
      403,
      'PolicyNotAuthorized',
      '(rule:create_network and rule:create_network:provider:segmentation_id) is disallowed by policy',
    );
    await expectError(call('POST', '/v2.0/networks', { token: reader, body: { network: { kind: 'k' } } }), 403, 'PolicyNotAuthorized', 'rule:create_network is disallowed by policy');
    await expectError(call('POST', '/v2.0/networks', { token: reader, body: { network: { bogus: 1 } } }), 400, 'HTTPBadRequest');
    expect(nets.calls).toEqual([]);
    const n = await create(admin, { 'provider:segmentation_id': 7, tenant_id: P2 });
    expect(n).toMatchObject({ project_id: P2, 'provider:segmentation_id': 7 });
  });

  it('maps a service refusal: ALREADY_EXISTS 409, INVALID_ARGUMENT 400; a crash is a 500 that hides its cause', async () => {
    await create(member, { name: 'dup' });
    await expectError(call('POST', '/v2.0/networks', { token: member, body: { network: { kind: 'k', name: 'dup' } } }), 409, 'Conflict', 'network name dup is taken');
    const boom = await call('POST', '/v2.0/networks', { token: member, body: { network: { kind: 'k', name: 'boom' } } });
    expect(boom.status).toBe(500);
    expect(neutronError(boom)).toEqual({ type: 'HTTPInternalServerError', message: 'Request Failed: internal server error while processing your request.', detail: '' });
    expect(JSON.stringify(boom.body)).not.toContain('secret');
  });
});

describe('bulk create', () => {
  it('creates all (201, the collection key), each with its own request id', async () => {
    const r = await call('POST', '/v2.0/networks', { token: member, body: { networks: [{ network: { kind: 'k', name: 'a' } }, { kind: 'k', name: 'b' }] } });
    expect(r.status).toBe(201);
    expect((r.body as { networks: Array<{ name: string }> }).networks.map((n) => n.name)).toEqual(['a', 'b']);
    expect(new Set(nets.metas.map((m) => m.requestId)).size).toBe(2);
    expect(new Set(nets.metas.map((m) => m.correlationId)).size).toBe(1);
  });

  it('is all or nothing: one failure deletes the ones created and answers that failure', async () => {
    await create(member, { name: 'taken' });
    nets.calls.length = 0;
    const r = call('POST', '/v2.0/networks', { token: member, body: { networks: [{ kind: 'k', name: 'a' }, { kind: 'k', name: 'b' }, { kind: 'k', name: 'taken' }, { kind: 'k', name: 'c' }] } });
    await expectError(r, 409, 'Conflict', 'network name taken is taken');
    expect(nets.calls.filter((c) => c.startsWith('create'))).toEqual(['create:a', 'create:b', 'create:taken']);
    expect(nets.calls.filter((c) => c.startsWith('delete'))).toHaveLength(2);
    expect([...nets.items.values()].map((n) => n['name'])).toEqual(['taken']);
  });

  it('checks every item before creating any', async () => {
    await expectError(call('POST', '/v2.0/networks', { token: member, body: { networks: [{ kind: 'k', name: 'a' }, { kind: 'k', wat: 1 }] } }), 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'wat'");
    expect(nets.calls).toEqual([]);
  });

  it('refuses a bulk update', async () => {
    const n = await create(member, {});
    await expectError(call('PUT', `/v2.0/networks/${String(n['id'])}`, { token: member, body: { networks: [{ name: 'x' }] } }), 400, 'HTTPBadRequest', 'Bulk operation not supported');
  });
});

describe('lists', () => {
  const list = async (query: string, token = member) => {
    const r = await call('GET', `/v2.0/networks${query}`, { token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { networks: Array<Record<string, unknown>>; networks_links?: Array<{ rel: string; href: string }> };
  };
  const names = async (query: string, token = member) => (await list(query, token)).networks.map((n) => n['name']);

  beforeEach(async () => {
    await create(member, { name: 'b', admin_state_up: false, mtu: 1400 });
    await create(member, { name: 'a', mtu: 9000 });
    await create(member, { name: 'c', admin_state_up: false, mtu: 1400 });
    await create(other, { name: 'theirs' });
  });

  it('shows a member its own project only, an admin every project', async () => {
    expect((await names('')).sort()).toEqual(['a', 'b', 'c']);
    expect((await names('', admin)).sort()).toEqual(['a', 'b', 'c', 'theirs']);
  });

  it('filters by equality; repeated values are any of them; booleans and integers as Neutron parses them', async () => {
    expect(await names('?name=a')).toEqual(['a']);
    expect((await names('?name=a&name=c')).sort()).toEqual(['a', 'c']);
    expect((await names('?admin_state_up=False')).sort()).toEqual(['b', 'c']);
    expect(await names('?admin_state_up=yes')).toEqual(['a']);
    expect(await names('?admin_state_up=1&mtu=9000')).toEqual(['a']);
    expect(await names('?name=')).toHaveLength(3);
    expect(await names(`?tenant_id=${P2}`, admin)).toEqual(['theirs']);
    expect(await names(`?project_id=${P1}&name=b`, admin)).toEqual(['b']);
  });

  it('filters a key=value list attribute by its elements', async () => {
    const [b] = (await list('?name=b')).networks;
    const seg = (b!['segments'] as Array<{ segmentation_id: number }>)[0]!.segmentation_id;
    expect(await names(`?segments=segmentation_id=${seg}`)).toEqual(['b']);
    expect(await names(`?segments=segmentation_id=${seg}&segments=network_type=vxlan`)).toEqual(['b']);
    expect(await names(`?segments=segmentation_id=${seg}&segments=network_type=vlan`)).toEqual([]);
    await expectError(call('GET', '/v2.0/networks?segments=novalue', { token: member }), 400, 'InvalidInput', "Invalid input for operation: 'novalue' is not of the form <key>=[value].");
  });

  it('refuses unknown filters and unparsable values, as filter validation does', async () => {
    await expectError(call('GET', '/v2.0/networks?colour=red&size=2', { token: member }), 400, 'HTTPBadRequest', "['colour', 'size'] is invalid attribute for filtering");
    await expectError(call('GET', '/v2.0/networks?admin_state_up=maybe', { token: member }), 400, 'InvalidInput', "Invalid input for operation: 'maybe' cannot be converted to boolean.");
    await expectError(call('GET', '/v2.0/networks?mtu=big', { token: member }), 400, 'InvalidInput', "Invalid input for operation: 'big' is not an integer.");
  });

  it('returns exactly the fields named (repeated fields=), ignoring names the resource does not have', async () => {
    const r = await list('?fields=name&fields=mtu&fields=nonsense&name=a');
    expect(r.networks).toEqual([{ name: 'a', mtu: 9000 }]);
    const [n] = r.networks;
    const all = await list('?name=a');
    const show = await call('GET', `/v2.0/networks/${String(all.networks[0]!['id'])}?fields=id&fields=status`, { token: member });
    expect(show.body).toEqual({ network: { id: all.networks[0]!['id'], status: 'ACTIVE' } });
    expect(n).toBeDefined();
  });

  it('sorts by several keys, each with its direction', async () => {
    expect(await names('?sort_key=mtu&sort_dir=asc&sort_key=name&sort_dir=desc')).toEqual(['c', 'b', 'a']);
    expect(await names('?sort_key=name&sort_dir=desc')).toEqual(['c', 'b', 'a']);
    await expectError(call('GET', '/v2.0/networks?sort_key=name', { token: member }), 400, 'HTTPBadRequest', 'The number of sort_keys and sort_dirs must be same');
    await expectError(call('GET', '/v2.0/networks?sort_key=colour&sort_dir=asc', { token: member }), 400, 'HTTPBadRequest', "['colour'] is invalid attribute for sort_keys");
    await expectError(call('GET', '/v2.0/networks?sort_key=segments&sort_dir=asc', { token: member }), 400, 'HTTPBadRequest', "['segments'] is invalid attribute for sort_keys");
    await expectError(
      call('GET', '/v2.0/networks?sort_key=name&sort_dir=up', { token: member }),
      400,
      'HTTPBadRequest',
      "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'",
    );
  });

  it('paginates with limit and marker, answering Neutron\'s next and previous links', async () => {
    const first = await list('?sort_key=name&sort_dir=asc&limit=2');
    expect(first.networks.map((n) => n['name'])).toEqual(['a', 'b']);
    const [a, b] = first.networks;
    const base = 'http://neutron.test:9696/v2.0/networks?sort_key=name&sort_dir=asc&limit=2';
    expect(first.networks_links).toEqual([
      { rel: 'next', href: `${base}&marker=${String(b!['id'])}` },
      { rel: 'previous', href: `${base}&marker=${String(a!['id'])}&page_reverse=True` },
    ]);
    const second = await list(`?sort_key=name&sort_dir=asc&limit=2&marker=${String(b!['id'])}`);
    expect(second.networks.map((n) => n['name'])).toEqual(['c']);
    // A short forward page has no next link.
    expect(second.networks_links!.map((l) => l.rel)).toEqual(['previous']);
    const back = await list(`?sort_key=name&sort_dir=asc&limit=2&marker=${String(second.networks[0]!['id'])}&page_reverse=True`);
    expect(back.networks.map((n) => n['name'])).toEqual(['a', 'b']);
    expect(back.networks_links!.map((l) => l.rel)).toEqual(['next', 'previous']);
    expect(back.networks_links![1]!.href).toBe(`${base}&marker=${String(a!['id'])}&page_reverse=True`);
    // A marker not in the list: an empty page, as Neutron's emulated pagination.
    expect((await list('?limit=2&marker=nothing')).networks).toEqual([]);
    // limit=0: no pagination, no links.
    const none = await list('?limit=0');
    expect(none.networks).toHaveLength(3);
    expect(none.networks_links).toBeUndefined();
  });

  it('pages are stable without a sort key (by id), and the link keeps fields and filters', async () => {
    const p = await list('?limit=1&fields=name&admin_state_up=false');
    expect(p.networks).toEqual([{ name: 'b' }]);
    expect(p.networks_links![0]!.href).toMatch(/^http:\/\/neutron\.test:9696\/v2\.0\/networks\?limit=1&fields=name&admin_state_up=false&marker=[0-9a-f-]+$/);
  });

  it('refuses a bad limit as Neutron does', async () => {
    await expectError(call('GET', '/v2.0/networks?limit=-1', { token: member }), 400, 'BadRequest', "Bad limit request: Limit must be an integer 0 or greater and not '-1'.");
    await expectError(call('GET', '/v2.0/networks?limit=ten', { token: member }), 400, 'BadRequest', "Bad limit request: Limit must be an integer 0 or greater and not 'ten'.");
  });
});

describe('show, update, delete', () => {
  it('answers another project\'s id like a missing one: 404 with the resource\'s type', async () => {
    const theirs = await create(other, { name: 'theirs' });
    for (const id of [String(theirs['id']), 'missing']) {
      await expectError(call('GET', `/v2.0/networks/${id}`, { token: member }), 404, 'NetworkNotFound', `Network ${id} could not be found.`);
      await expectError(call('PUT', `/v2.0/networks/${id}`, { token: member, body: { network: { name: 'x' } } }), 404, 'NetworkNotFound');
      await expectError(call('DELETE', `/v2.0/networks/${id}`, { token: member }), 404, 'NetworkNotFound', `Network ${id} could not be found.`);
    }
    expect(nets.items.get(String(theirs['id']))!['name']).toBe('theirs');
  });

  it('updates (200) and refuses read-only attributes', async () => {
    const n = await create(member, { name: 'x' });
    const r = await call('PUT', `/v2.0/networks/${String(n['id'])}`, { token: member, body: { network: { name: 'y' } } });
    expect(r.status).toBe(200);
    expect((r.body as { network: Record<string, unknown> }).network).toMatchObject({ name: 'y', revision_number: 2 });
    await expectError(call('PUT', `/v2.0/networks/${String(n['id'])}`, { token: member, body: { network: { kind: 'z' } } }), 400, 'HTTPBadRequest', 'Cannot update read-only attribute kind');
    await expectError(call('PUT', `/v2.0/networks/${String(n['id'])}`, { token: member, body: { network: { status: 'DOWN' } } }), 400, 'HTTPBadRequest', 'Cannot update read-only attribute status');
  });

  it('passes If-Match: revision_number=N as the expected revision: 412 when stale', async () => {
    const n = await create(member, { name: 'x' });
    const put = (ifMatch: string, name: string) => call('PUT', `/v2.0/networks/${String(n['id'])}`, { token: member, body: { network: { name } }, headers: { 'if-match': ifMatch } });
    expect((await put('revision_number=1', 'y')).status).toBe(200);
    await expectError(put('revision_number=1', 'z'), 412, 'RevisionNumberConstraintFailed', 'Constrained to 1, but current revision is 2');
    expect((await put('"revision_number=2"', 'z')).status).toBe(200);
    await expectError(put('revision_number=x', 'q'), 400, 'BadRequest', 'Bad if-match request: Revision number etag must be in the format of revision_number=<int>.');
    // Neutron's own double full stop: BadRequest's template ends its message with one more.
    await expectError(put('"revision_number=3", "revision_number=4"', 'q'), 400, 'BadRequest', 'Bad if-match request: Multiple revision_number etags are not supported..');
    expect(nets.items.get(String(n['id']))!['name']).toBe('z');
  });

  it('deletes (204, no body); refuses a body; honours If-Match; maps FAILED_PRECONDITION to 409', async () => {
    const n = await create(member, { name: 'x' });
    const id = String(n['id']);
    await expectError(call('DELETE', `/v2.0/networks/${id}`, { token: member, body: { network: {} } }), 400, 'HTTPBadRequest', 'Request body is not supported in DELETE.');
    await expectError(call('DELETE', `/v2.0/networks/${id}`, { token: member, headers: { 'if-match': 'revision_number=5' } }), 412, 'RevisionNumberConstraintFailed', 'Constrained to 5, but current revision is 1');
    const r = await call('DELETE', `/v2.0/networks/${id}`, { token: member, headers: { 'if-match': 'revision_number=1' } });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(nets.items.has(id)).toBe(false);
    const busy = await create(member, { name: 'in-use' });
    await expectError(call('DELETE', `/v2.0/networks/${String(busy['id'])}`, { token: member }), 409, 'Conflict', /has ports/);
  });

  it('a reader: 403 on its project\'s resources, 404 on others\', no write reaches the resource', async () => {
    const mine = await create(member, { name: 'x' });
    const theirs = await create(other, { name: 't' });
    nets.calls.length = 0;
    await expectError(call('PUT', `/v2.0/networks/${String(mine['id'])}`, { token: reader, body: { network: { name: 'y' } } }), 403, 'PolicyNotAuthorized', 'rule:update_network is disallowed by policy');
    await expectError(call('DELETE', `/v2.0/networks/${String(mine['id'])}`, { token: reader }), 403, 'PolicyNotAuthorized', 'rule:delete_network is disallowed by policy');
    await expectError(call('DELETE', `/v2.0/networks/${String(theirs['id'])}`, { token: reader }), 404, 'NetworkNotFound');
    await expectError(call('PUT', `/v2.0/networks/${String(mine['id'])}/touch`, { token: reader, body: {} }), 403, 'PolicyNotAuthorized', 'rule:touch is disallowed by policy');
    expect(nets.calls.filter((c) => !c.startsWith('show'))).toEqual([]);
    expect((await call('GET', `/v2.0/networks/${String(mine['id'])}`, { token: reader })).status).toBe(200);
  });

  it('PERMISSION_DENIED from the service: 403 on a visible resource, 404 on an invisible one', async () => {
    const shared = await create(other, { name: 's', shared: true });
    const theirs = await create(other, { name: 't' });
    await expectError(call('PUT', `/v2.0/networks/${String(shared['id'])}`, { token: member, body: { network: { name: 'forbidden' } } }), 403, 'PolicyNotAuthorized', 'only the owner may rename a shared network');
    await expectError(call('DELETE', `/v2.0/networks/${String(shared['id'])}`, { token: member }), 403, 'PolicyNotAuthorized', 'not yours');
    await expectError(call('DELETE', `/v2.0/networks/${String(theirs['id'])}`, { token: member }), 404, 'NetworkNotFound');
  });

  it('runs member actions with PUT and answers their body as is', async () => {
    const n = await create(member, {});
    const r = await call('PUT', `/v2.0/networks/${String(n['id'])}/touch`, { token: member, body: { subnet_id: 's' } });
    expect(r).toMatchObject({ status: 200, body: { touched: n['id'], with: { subnet_id: 's' } } });
    await expectError(call('PUT', '/v2.0/networks/missing/touch', { token: member, body: {} }), 404, 'NetworkNotFound');
  });
});
