/**
 * Attacks on the Neutron front door's identity, against a real Keystone
 * (8-second tokens), the control plane's real services and the REST core
 * (a probe resource over IPAM): an expired token, a revoked one, a forged
 * one, an unscoped one, one whose roles give no Strata role, a reader's,
 * and a member's token naming another project. Each write is refused with
 * the status Neutron (keystonemiddleware, the policy engine) gives, and the
 * event log does not move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@strata/testing';
import { probe } from '../../services/neutron/src/test/probe-networks.js';
import { STACK_START_MS, startNeutronStack, type NeutronStack, type StackLogin } from '../../services/neutron/src/test/stack.js';

const TOKEN_SECONDS = 8;

describe('Neutron front door: tokens that must not write', () => {
  let stack: NeutronStack;
  let alice: StackLogin;

  beforeAll(async () => {
    stack = await startNeutronStack({ resources: [probe], keystone: { tokenExpirationSeconds: TOKEN_SECONDS } });
    alice = await stack.login('project-a', 'alice', 'member');
  }, STACK_START_MS);
  afterAll(async () => {
    await stack?.stop();
  });

  const create = (token: string, network: Record<string, unknown> = { name: 'attempt' }) => stack.request('POST', '/v2.0/networks', { token, body: { network } });

  /** The attempt's answer, after checking that the event log did not move. */
  async function refused(attempt: () => Promise<{ status: number; body: any }>): Promise<{ status: number; body: any }> {
    const before = await stack.lastSeq();
    const r = await attempt();
    expect(await stack.lastSeq(), 'nothing written').toBe(before);
    return r;
  }

  it('the setup writes: a fresh member token creates', async () => {
    const fresh = await stack.login('project-a', 'alice', 'member');
    expect((await create(fresh.token, { name: 'baseline' })).status).toBe(201);
  });

  it('a forged or garbled token: 401, nothing written', async () => {
    for (const token of ['gAAAAABforged-token', 'x'.repeat(4096), `${alice.token}x`]) {
      const r = await refused(() => create(token));
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
  });

  it('a revoked token: 401 once the revocation is seen, nothing written', async () => {
    const login = await stack.login('project-a', 'alice', 'member');
    expect((await stack.request('GET', '/v2.0/networks', { token: login.token })).status).toBe(200);
    await stack.keystone.revokeToken(login.token);
    await waitFor(async () => (await stack.request('GET', '/v2.0/networks', { token: login.token })).status === 401, { timeoutMs: 30_000, intervalMs: 100, message: 'revoked token refused' });
    expect((await refused(() => create(login.token))).status).toBe(401);
  });

  it('an expired token: 401, nothing written', async () => {
    const login = await stack.login('project-a', 'alice', 'member');
    expect((await stack.request('GET', '/v2.0/networks', { token: login.token })).status).toBe(200);
    const expiresAt = Date.now() + TOKEN_SECONDS * 1000;
    await waitFor(() => Date.now() > expiresAt + 1000, { timeoutMs: (TOKEN_SECONDS + 5) * 1000, intervalMs: 200, message: 'token expiry' });
    expect((await refused(() => create(login.token))).status).toBe(401);
  });

  it('an unscoped token (no project): 401; a token with no Strata role: 403; nothing written', async () => {
    const unscoped = await stack.keystone.issueToken({ user: alice.userName, password: alice.password });
    expect((await refused(() => create(unscoped.token))).status).toBe(401);
    const svc = await stack.keystone.createServiceUser('not-a-network-user');
    const roleless = await stack.keystone.issueToken({ user: svc.user.name, password: svc.password, project: 'service' });
    const r = await refused(() => create(roleless.token));
    expect(r.status).toBe(403);
    expect(r.body.NeutronError.type).toBe('PolicyNotAuthorized');
  });

  it('a reader\'s token: 403 on create, nothing written', async () => {
    const rita = await stack.login('project-a', 'rita', 'reader');
    const r = await refused(() => create(rita.token));
    expect(r.status).toBe(403);
    expect(r.body.NeutronError).toEqual({ type: 'PolicyNotAuthorized', message: 'rule:create_network is disallowed by policy', detail: '' });
  });

  it('a member naming another project (tenant_id or project_id): 400 as Neutron answers, nothing written', async () => {
    // Tokens live 8 s here: fresh ones.
    const me = await stack.login('project-a', 'alice', 'member');
    const them = await stack.login('project-b', 'bob', 'member');
    for (const key of ['tenant_id', 'project_id']) {
      const r = await refused(() => create(me.token, { name: 'spoof', [key]: them.projectId }));
      expect(r.status).toBe(400);
      expect(r.body.NeutronError.message).toBe("Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.");
    }
    const theirs = await stack.request('GET', '/v2.0/networks?name=spoof', { token: them.token });
    expect(theirs.body.networks).toEqual([]);
  });
});
