/**
 * The Neutron service as production runs it: its own process
 * (dist/main.js) in the control plane, validating tokens with a real
 * Keystone, listed in Keystone's catalog as the `network` service, so the
 * stock `openstack` CLI reaches it with password authentication and no
 * endpoint override.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@strata/testing';
import { STACK_START_MS, startNeutronStack, type NeutronStack, type StackLogin } from './test/stack.js';

const run = promisify(execFile);

describe('the Neutron service process with Keystone', () => {
  let stack: NeutronStack;
  let alice: StackLogin;

  beforeAll(async () => {
    stack = await startNeutronStack();
    alice = await stack.login('project-a', 'alice', 'member');
  }, STACK_START_MS);
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers the versions document without a token, and everything under /v2.0 only with one', async () => {
    const versions = await stack.request('GET', '/');
    expect(versions.status).toBe(200);
    expect(versions.body.versions[0]).toMatchObject({ id: 'v2.0', status: 'CURRENT' });
    const refused = await stack.request('GET', '/v2.0/extensions');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(`Keystone uri="${stack.keystone.url}"`);
    const ok = await stack.request('GET', '/v2.0/extensions', { token: alice.token });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-openstack-request-id')).toMatch(/^req-/);
  });

  it('is found by the stock openstack CLI through the catalog (password authentication, no endpoint override)', async () => {
    const { stdout } = await run('/usr/bin/openstack', ['extension', 'list', '--network', '-f', 'json'], { env: { ...stack.cliEnv(alice), PATH: '/usr/bin:/bin' }, timeout: 60_000 });
    const aliases = (JSON.parse(stdout) as Array<{ Alias: string }>).map((e) => e.Alias);
    expect(aliases).toEqual(expect.arrayContaining(['pagination', 'sorting', 'filter-validation', 'project-id', 'revision-if-match']));
  });

  it('refuses a token once Keystone revoked it (401), and one Keystone never issued', async () => {
    const bob = await stack.login('project-b', 'bob', 'member');
    expect((await stack.request('GET', '/v2.0/extensions', { token: bob.token })).status).toBe(200);
    await stack.keystone.revokeToken(bob.token);
    await waitFor(async () => (await stack.request('GET', '/v2.0/extensions', { token: bob.token })).status === 401, { message: 'the revoked token refused', timeoutMs: 30_000, intervalMs: 100 });
    expect((await stack.request('GET', '/v2.0/extensions', { token: 'gAAAAABforged' })).status).toBe(401);
  });

  it('counts every request in its metrics, by method, resource and status', async () => {
    const neutron = stack.controlPlane.processes.find((p) => p.name === 'neutron')!;
    const http = /"http":"([^"]+)"/.exec(neutron.output())![1]!;
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    expect(metrics).toMatch(/strata_neutron_requests_total\{method="GET",resource="extensions",status="200"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/strata_neutron_requests_total\{method="GET",resource="unknown",status="401"[^}]*\} [1-9]/);
  });
});
