/**
 * Issue 17, tenancy of the Neutron API through Keystone: the Neutron REST
 * service on the control plane as production runs it (startNeutronStack:
 * nats-server with the production users, the real services, the neutron
 * NATS user) validating tokens with the production KeystoneValidator
 * against a real Keystone (startKeystone).
 * Attacks, each of which must fail and write nothing (the event log's last
 * sequence does not move):
 *  - a member of project A shows, updates and deletes each of project B's
 *    resources: 404 with the resource's NotFound type, as Neutron answers
 *    (B's resource is unchanged); B's ids as list filters and as markers
 *    (both directions) give empty lists; A creates a port on B's network;
 *  - a reader of a project creates, updates and deletes each resource type
 *    of its own project: 403 PolicyNotAuthorized (reads are answered);
 *  - an expired token (this Keystone issues 20 s tokens), a revoked one,
 *    an unknown one, and one of a user whose role was removed (Keystone 22
 *    records no revocation event for that: the validator's acceptance is
 *    trusted for at most cacheMaxSeconds, 3 s here, 300 s by default, as
 *    keystonemiddleware's token_cache_time): 401;
 *  - a token whose only role on the project is no Strata role: 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type IssuedToken } from '@strata/testing';
import { STACK_START_MS, startNeutronStack, type NeutronStack, type StackResponse } from '../../services/neutron/src/test/stack.js';

type Json = Record<string, any>;

/** One Neutron resource type: how to create one in a project whose network, subnet, ports and group are `d`. */
interface Kind {
  path: string;
  member: string;
  notFound: string;
  create(d: Deps, tag: string): Json;
  /** A body for PUT; absent where Neutron has no update (security group rules). */
  update?: Json;
}
interface Deps {
  network: string;
  subnet: string;
  ports: string[];
  securityGroup: string;
  router: string;
}

const KINDS: Kind[] = [
  { path: 'networks', member: 'network', notFound: 'NetworkNotFound', create: (_d, tag) => ({ name: `net-${tag}` }), update: { name: 'renamed' } },
  {
    path: 'subnets',
    member: 'subnet',
    notFound: 'SubnetNotFound',
    create: (d, tag) => ({ name: `sub-${tag}`, network_id: d.network, cidr: '10.9.0.0/24', ip_version: 4 }),
    update: { name: 'renamed' },
  },
  { path: 'ports', member: 'port', notFound: 'PortNotFound', create: (d, tag) => ({ name: `port-${tag}`, network_id: d.network }), update: { name: 'renamed' } },
  { path: 'security-groups', member: 'security_group', notFound: 'SecurityGroupNotFound', create: (_d, tag) => ({ name: `sg-${tag}` }), update: { name: 'renamed' } },
  {
    path: 'security-group-rules',
    member: 'security_group_rule',
    notFound: 'SecurityGroupRuleNotFound',
    create: (d) => ({ security_group_id: d.securityGroup, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22 }),
  },
  { path: 'routers', member: 'router', notFound: 'RouterNotFound', create: (_d, tag) => ({ name: `router-${tag}` }), update: { name: 'renamed' } },
];

describe('hostile: Neutron tenancy through Keystone', () => {
  let stack: NeutronStack;
  /** Each project's resources by kind path. */
  const owned: Record<'a' | 'b', Record<string, Json>> = { a: {}, b: {} };

  const member = async (p: 'a' | 'b') => (await stack.login(`project-${p}`, `member-${p}`, 'member')).token;
  const req = (method: string, path: string, token: string, body?: unknown): Promise<StackResponse> =>
    stack.request(method, `/v2.0/${path}`, { token, ...(body === undefined ? {} : { body }) });
  const ok = async (r: Promise<StackResponse>, status: number, what: string): Promise<Json> => {
    const res = await r;
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body as Json;
  };

  /** Create every kind in project `p`, each from the ones before it. */
  async function populate(p: 'a' | 'b'): Promise<void> {
    const token = await member(p);
    const create = async (kind: Kind, d: Deps, tag: string): Promise<Json> =>
      (await ok(req('POST', kind.path, token, { [kind.member]: kind.create(d, tag) }), 201, `${p} creates a ${kind.member}`))[kind.member];
    const d: Deps = { network: '', subnet: '', ports: [], securityGroup: '', router: '' };
    for (const kind of KINDS) {
      const r = await create(kind, d, p);
      owned[p][kind.path] = r;
      if (kind.path === 'networks') d.network = r['id'];
      if (kind.path === 'subnets') d.subnet = r['id'];
      if (kind.path === 'ports') d.ports.push(r['id']);
      if (kind.path === 'security-groups') d.securityGroup = r['id'];
      if (kind.path === 'routers') d.router = r['id'];
    }
  }

  beforeAll(async () => {
    stack = await startNeutronStack({ keystone: { tokenExpirationSeconds: 20 }, revocationPollSeconds: 0.2, tokenCacheSeconds: 3 });
    await populate('a');
    await populate('b');
  }, STACK_START_MS + 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** A fresh token of a member of project A, with what Keystone says of it. */
  const issued = async (user: string): Promise<{ token: string; projectId: string; issued: IssuedToken }> => {
    const l = await stack.login('project-a', user, 'member');
    return { token: l.token, projectId: l.projectId, issued: await stack.keystone.issueToken({ user: l.userName, password: l.password, project: l.projectName }) };
  };

  it.each(KINDS.map((k) => [k.member, k] as const))("a member of A cannot show, update or delete B's %s: 404 as Neutron answers, nothing written", async (_m, kind) => {
    const b = owned.b[kind.path]!;
    const alice = await member('a');
    const bob = await member('b');
    const asBobSees = (await ok(req('GET', `${kind.path}/${b['id']}`, bob), 200, "B's show"))[kind.member];
    const before = await stack.lastSeq();
    const notFound = { NeutronError: expect.objectContaining({ type: kind.notFound, message: expect.stringContaining(b['id']) }) };
    expect(await ok(req('GET', `${kind.path}/${b['id']}`, alice), 404, 'show')).toEqual(notFound);
    if (kind.update) expect(await ok(req('PUT', `${kind.path}/${b['id']}`, alice, { [kind.member]: kind.update }), 404, 'update')).toEqual(notFound);
    expect(await ok(req('DELETE', `${kind.path}/${b['id']}`, alice), 404, 'delete')).toEqual(notFound);
    expect(await stack.lastSeq()).toBe(before);
    // B's resource is untouched; A's own of the same kind is answered (the refusals are about ownership, not the path).
    expect((await ok(req('GET', `${kind.path}/${b['id']}`, bob), 200, "B's show"))[kind.member]).toEqual(asBobSees);
    await ok(req('GET', `${kind.path}/${owned.a[kind.path]!['id']}`, alice), 200, "A's show");
  });

  it.each(KINDS.map((k) => [k.member, k] as const))("B's %s never appears in A's lists: not by id, name or parent filter, not as a marker", async (_m, kind) => {
    const b = owned.b[kind.path]!;
    const a = owned.a[kind.path]!;
    // A fresh token per list: tokens live 20 s here, and listing ports waits for their status.
    const list = async (query: string): Promise<Json[]> => (await ok(req('GET', `${kind.path}?${query}`, await member('a')), 200, `list ?${query}`))[`${kind.member}s`];
    const all = await list('');
    expect(all.map((r) => r['id'])).toContain(a['id']);
    expect(all.every((r) => r['project_id'] === a['project_id'])).toBe(true);
    expect(await list(`id=${b['id']}`)).toEqual([]);
    expect(await list(`id=${b['id']}&id=${a['id']}`)).toEqual([expect.objectContaining({ id: a['id'] })]);
    if (b['name'] !== undefined && b['name'] !== '') expect(await list(`name=${encodeURIComponent(b['name'])}`)).toEqual([]);
    for (const parent of ['network_id', 'security_group_id'] as const) if (b[parent] !== undefined) expect(await list(`${parent}=${b[parent]}`)).toEqual([]);
    // A marker pages after (or, reversed, before) the resource it names: were B's visible, A's would be on one side of it.
    expect(await list(`limit=10&marker=${b['id']}`)).toEqual([]);
    expect(await list(`limit=10&marker=${b['id']}&page_reverse=True`)).toEqual([]);
    expect(await list(`project_id=${b['project_id']}`)).toEqual([]);
  });

  it("a member of A cannot put a port on B's network or a rule into B's group: 404, nothing written", async () => {
    const alice = await member('a');
    const before = await stack.lastSeq();
    const net = await ok(req('POST', 'ports', alice, { port: { network_id: owned.b['networks']!['id'] } }), 404, 'port on B’s network');
    expect(net['NeutronError']['type']).toBe('NetworkNotFound');
    const rule = await ok(
      req('POST', 'security-group-rules', alice, { security_group_rule: { security_group_id: owned.b['security-groups']!['id'], direction: 'ingress' } }),
      404,
      'rule in B’s group',
    );
    expect(rule['NeutronError']['type']).toBe('SecurityGroupNotFound');
    expect(await stack.lastSeq()).toBe(before);
  });

  it.each(KINDS.map((k) => [k.member, k] as const))('a reader reads %s but cannot create, update or delete one: 403, nothing written', async (_m, kind) => {
    const readerToken = async (): Promise<string> => (await stack.login('project-a', 'reader-a', 'reader')).token;
    const reader = await readerToken();
    const a = (await ok(req('GET', `${kind.path}/${owned.a[kind.path]!['id']}`, await member('a')), 200, "A's show"))[kind.member];
    const d: Deps = {
      network: owned.a['networks']!['id'],
      subnet: owned.a['subnets']!['id'],
      ports: [owned.a['ports']!['id']],
      securityGroup: owned.a['security-groups']!['id'],
      router: owned.a['routers']!['id'],
    };
    expect((await ok(req('GET', `${kind.path}/${a['id']}`, reader), 200, 'reader shows'))[kind.member]['id']).toBe(a['id']);
    expect((await ok(req('GET', kind.path, reader), 200, 'reader lists'))[`${kind.member}s`].map((r: Json) => r['id'])).toContain(a['id']);
    const before = await stack.lastSeq();
    const refused = { NeutronError: expect.objectContaining({ type: 'PolicyNotAuthorized' }) };
    expect(await ok(req('POST', kind.path, await readerToken(), { [kind.member]: kind.create(d, 'reader') }), 403, 'reader creates')).toEqual(refused);
    if (kind.update) expect(await ok(req('PUT', `${kind.path}/${a['id']}`, await readerToken(), { [kind.member]: kind.update }), 403, 'reader updates')).toEqual(refused);
    expect(await ok(req('DELETE', `${kind.path}/${a['id']}`, await readerToken()), 403, 'reader deletes')).toEqual(refused);
    expect(await stack.lastSeq()).toBe(before);
    expect((await ok(req('GET', `${kind.path}/${a['id']}`, await member('a')), 200, 'still there'))[kind.member]).toEqual(a);
  });

  it('an expired token is refused (401) once Keystone’s expiry has passed, and writes nothing', async () => {
    const login = await issued('member-a');
    login.token = login.issued.token;
    await ok(req('GET', 'networks', login.token), 200, 'fresh token');
    await waitFor(async () => Date.now() > login.issued.expiresAt + 1_000, { timeoutMs: 40_000, intervalMs: 250, message: 'the token expired' });
    const before = await stack.lastSeq();
    expect((await req('GET', 'networks', login.token)).status).toBe(401);
    expect((await req('POST', 'networks', login.token, { network: { name: 'after-expiry' } })).status).toBe(401);
    expect(await stack.lastSeq()).toBe(before);
  }, 60_000);

  it('a revoked token is refused (401) once the service has polled the revocation, and writes nothing', async () => {
    const login = await stack.login('project-a', 'member-a', 'member');
    await ok(req('GET', 'networks', login.token), 200, 'before revocation');
    await stack.keystone.revokeToken(login.token);
    await waitFor(async () => (await req('GET', 'networks', login.token)).status === 401, { timeoutMs: 15_000, message: 'the revoked token refused' });
    const before = await stack.lastSeq();
    expect((await req('POST', 'networks', login.token, { network: { name: 'after-revoke' } })).status).toBe(401);
    expect(await stack.lastSeq()).toBe(before);
  });

  it('a token whose role on the project was removed is refused (401); an unknown token too', async () => {
    const login = await issued('member-gone');
    login.token = login.issued.token;
    await ok(req('GET', 'networks', login.token), 200, 'before the role is removed');
    await stack.keystone.api.unassignRole(login.issued.userId, login.projectId, 'member');
    await waitFor(async () => (await req('GET', 'networks', login.token)).status === 401, { timeoutMs: 20_000, intervalMs: 250, message: 'the token of the removed role refused' });
    const before = await stack.lastSeq();
    expect((await req('POST', 'networks', login.token, { network: { name: 'after-unassign' } })).status).toBe(401);
    expect((await req('POST', 'networks', 'gAAAAABunknown-token', { network: { name: 'unknown' } })).status).toBe(401);
    expect(await stack.lastSeq()).toBe(before);
  });

  it('a token whose only role on the project is no Strata role is refused (403) and writes nothing', async () => {
    const ks = stack.keystone;
    await ks.api.createRole('observer');
    const observer = await ks.createUser('observer-a', 'observer-password');
    const project = await ks.api.call<{ projects: { id: string }[] }>('GET', '/v3/projects?name=project-a', undefined, 200);
    await ks.assignRole(observer.id, project.projects[0]!.id, 'observer');
    const login = await ks.issueToken({ user: 'observer-a', password: 'observer-password', project: 'project-a' });
    expect(login.roles).toEqual(['observer']);
    const before = await stack.lastSeq();
    expect((await req('GET', 'networks', login.token)).status).toBe(403);
    const r = await req('POST', 'networks', login.token, { network: { name: 'observer' } });
    expect(r.status).toBe(403);
    expect(r.body.NeutronError.type).toBe('PolicyNotAuthorized');
    expect(await stack.lastSeq()).toBe(before);
  });
});
