import { execFile, spawn } from 'node:child_process';
import { readlinkSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from './server-child.js';
import { startKeystone, type KeystoneHandle } from './keystone.js';
import { waitFor } from './wait-for.js';

describe('startKeystone (a real Keystone under uwsgi)', () => {
  let ks: KeystoneHandle;
  beforeAll(async () => {
    ks = await startKeystone();
  });
  afterAll(async () => {
    await ks?.stop();
  });

  it('issues a project-scoped token that a service user validates, and refuses it once revoked (404)', async () => {
    const alice = await ks.createProjectUser('proj-a', 'alice', 'member');
    const issued = await ks.issueToken({ user: 'alice', password: alice.password, project: 'proj-a' });
    expect(issued.projectId).toBe(alice.project.id);
    expect(issued.userId).toBe(alice.user.id);
    // member implies reader (bootstrap's implied roles)
    expect([...issued.roles].sort()).toEqual(['member', 'reader']);
    expect(issued.expiresAt).toBeGreaterThan(Date.now());

    const svc = await ks.createServiceUser('strata-validator');
    const svcToken = await ks.issueToken({ user: svc.user.name, password: svc.password, project: 'service' });
    const validate = (subject: string): Promise<Response> =>
      fetch(`${ks.url}/v3/auth/tokens`, { headers: { 'x-auth-token': svcToken.token, 'x-subject-token': subject } });

    const ok = await validate(issued.token);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { token: { user: { name: string }; project: { id: string }; audit_ids: string[] } };
    expect(body.token.user.name).toBe('alice');
    expect(body.token.project.id).toBe(alice.project.id);
    expect(body.token.audit_ids[0]).toBe(issued.auditId);

    await ks.revokeToken(issued.token);
    expect((await validate(issued.token)).status).toBe(404);
    // The service user may read the revocation events, which name the token's audit id.
    const events = await fetch(`${ks.url}/v3/OS-REVOKE/events`, { headers: { 'x-auth-token': svcToken.token } });
    expect(events.status).toBe(200);
    expect(((await events.json()) as { events: { audit_id?: string }[] }).events.map((e) => e.audit_id)).toContain(issued.auditId);
  });

  it('refuses a wrong password (401) and lists a registered network service in the catalog', async () => {
    await expect(ks.issueToken({ user: 'admin', password: 'wrong', project: 'admin' })).rejects.toThrow(/401/);
    await ks.registerService('network', 'neutron', 'http://127.0.0.1:9696');
    const token = (await ks.issueToken(ks.admin)).token;
    const catalog = await fetch(`${ks.url}/v3/auth/catalog`, { headers: { 'x-auth-token': token } });
    const entries = ((await catalog.json()) as { catalog: { type: string; endpoints: { url: string; interface: string }[] }[] }).catalog;
    expect(entries.find((e) => e.type === 'network')?.endpoints).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:9696', interface: 'public' })]);
    expect(entries.map((e) => e.type)).toContain('identity');
  });

  it('serves the stock openstack CLI: password authentication and the catalog', async () => {
    await ks.registerService('image', 'glance', 'http://127.0.0.1:9292');
    const env = {
      PATH: '/usr/bin:/bin',
      OS_AUTH_URL: `${ks.url}/v3`,
      OS_USERNAME: ks.admin.user,
      OS_PASSWORD: ks.admin.password,
      OS_PROJECT_NAME: ks.admin.project,
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_IDENTITY_API_VERSION: '3',
    };
    const { stdout } = await promisify(execFile)('/usr/bin/openstack', ['catalog', 'list', '-f', 'json'], { env });
    const catalog = JSON.parse(stdout) as { Type: string; Endpoints: { url: string; interface: string }[] }[];
    expect(catalog.find((c) => c.Type === 'identity')?.Endpoints).toEqual([expect.objectContaining({ url: `${ks.url}/v3`, interface: 'public' })]);
    expect(catalog.find((c) => c.Type === 'image')?.Endpoints).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:9292' })]);
  });

  it('uwsgi does not outlive a test process that is killed outright (SIGKILL runs no exit hook)', async () => {
    const script = `import { startKeystone } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const ks = await startKeystone(); console.log(ks.pid); setInterval(() => {}, 1000);`;
    const node = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    node.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const pid = Number(await waitFor(() => /^\d+\n/.test(out) && out.trim(), { timeoutMs: 120_000, message: 'the child starting Keystone' }));
    const dir = readlinkSync(`/proc/${pid}/cwd`);
    try {
      expect(processAlive(pid)).toBe(true);
      node.kill('SIGKILL');
      await waitFor(() => !processAlive(pid), { timeoutMs: 30_000, message: `uwsgi ${pid} to end with its parent` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() ends uwsgi by PID', async () => {
    const other = await startKeystone();
    const pid = other.pid!;
    expect(processAlive(pid)).toBe(true);
    await other.stop();
    expect(processAlive(pid)).toBe(false);
  });
});
