/**
 * Keystone tokens at the gRPC API (issue 17, identity), against the control
 * plane as production runs it (real nats-server with the production users,
 * real service processes, the real API) and a real Keystone: the `strata`
 * CLI with a Keystone token in STRATA_TOKEN works as a member; a reader can
 * read but every write is refused with PERMISSION_DENIED and writes nothing;
 * a revoked token, an unscoped one and an unknown one are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeystone, waitFor, type KeystoneHandle, type ProjectUser } from '@strata/testing';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

describe('Keystone tokens at the gRPC API', () => {
  let ks: KeystoneHandle;
  let t: TenantPlane;
  let member: ProjectUser;
  let reader: ProjectUser;
  let admin: ProjectUser;

  const tokenOf = async (u: ProjectUser): Promise<string> => (await ks.issueToken({ user: u.user.name, password: u.password, project: u.project.name })).token;
  const strata = (token: string, argv: string[]) => t.cp.cli.cli(token, argv);
  const json = async <T>(token: string, argv: string[]): Promise<T> => {
    const r = await strata(token, [...argv, '-o', 'json']);
    if (r.code !== 0) throw new Error(`strata ${argv.join(' ')} exited ${r.code}: ${r.err.trim()}`);
    return JSON.parse(r.out) as T;
  };

  beforeAll(async () => {
    ks = await startKeystone();
    const svc = await ks.createServiceUser('strata-api');
    member = await ks.createProjectUser('ks-proj-a', 'mel', 'member');
    reader = await ks.createProjectUser('ks-proj-r', 'rea', 'reader');
    admin = await ks.createProjectUser('ks-proj-ops', 'ada', 'admin');
    t = await startTenantPlane(['tenant-a'], {
      apiEnv: {
        KEYSTONE_URL: `${ks.url}/v3`,
        KEYSTONE_SERVICE_USER: svc.user.name,
        KEYSTONE_SERVICE_PASSWORD: svc.password,
        KEYSTONE_REVOCATION_POLL_SECONDS: '0.5',
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await ks?.stop();
  });

  it('a member token drives the CLI: the project is the tenant, the Keystone user the actor', async () => {
    const token = await tokenOf(member);
    const net = await json<{ id: string; tenant: string }>(token, ['network', 'create', '--name', 'ks-net']);
    expect(net.tenant).toBe(member.project.id);
    expect((await json<{ items: { id: string }[] }>(token, ['network', 'list'])).items.map((n) => n.id)).toEqual([net.id]);
    const { events } = await json<{ events: { type: string; actor: string; tenant: string }[] }>(t.cp.tokens['admin']!, ['events', 'list']);
    expect(events.filter((e) => e.type === 'ipam.NetworkCreated')).toEqual([expect.objectContaining({ actor: 'keystone:mel', tenant: member.project.id })]);
    // Static tokens work beside Keystone's.
    expect((await strata(t.cp.tokens['tenant-a']!, ['network', 'list'])).code).toBe(0);
  });

  it('a reader reads, and every write is refused with PERMISSION_DENIED and writes nothing', async () => {
    const token = await tokenOf(reader);
    expect((await json<{ items: unknown[] }>(token, ['network', 'list'])).items).toEqual([]);
    const before = await t.lastSeq();
    const create = await strata(token, ['network', 'create', '--name', 'nope']);
    expect(create.code).not.toBe(0);
    expect(create.err).toContain('PERMISSION_DENIED: CreateNetwork writes, and keystone:rea has the reader role on tenant');
    const sg = await strata(token, ['secgroup', 'create', '--name', 'nope']);
    expect(sg.err).toContain('PERMISSION_DENIED: CreateSecurityGroup writes');
    expect(await t.lastSeq()).toBe(before);
  });

  it('an admin token is an admin: it sees every tenant’s networks', async () => {
    const token = await tokenOf(admin);
    const nets = await json<{ items: { tenant: string }[] }>(token, ['network', 'list']);
    expect(nets.items.map((n) => n.tenant)).toContain(member.project.id);
  });

  it('a revoked token is refused (UNAUTHENTICATED) once the API has polled the revocation', async () => {
    const token = await tokenOf(member);
    expect((await strata(token, ['network', 'list'])).code).toBe(0);
    await ks.revokeToken(token);
    const refused = await waitFor(
      async () => {
        const r = await strata(token, ['network', 'list']);
        return r.code !== 0 && r;
      },
      { timeoutMs: 30_000, message: 'the revoked token refused' },
    );
    expect(refused.err).toMatch(/UNAUTHENTICATED: the token was revoked/);
    const before = await t.lastSeq();
    expect((await strata(token, ['network', 'create', '--name', 'after-revoke'])).err).toMatch(/UNAUTHENTICATED: the token was revoked/);
    expect(await t.lastSeq()).toBe(before);
  });

  it('an unscoped token and an unknown one are refused (UNAUTHENTICATED)', async () => {
    const unscoped = await ks.issueToken({ user: member.user.name, password: member.password });
    expect((await strata(unscoped.token, ['network', 'list'])).err).toMatch(/UNAUTHENTICATED: the token is unscoped: Strata needs a project-scoped token/);
    expect((await strata('gAAAAABbogus', ['network', 'list'])).err).toMatch(/UNAUTHENTICATED: the token is unknown, expired or revoked/);
  });
});
