import { PermissionDeniedError, UnauthenticatedError } from '@strata/errors';
import { startKeystone, waitFor, type KeystoneHandle, type ProjectUser } from '@strata/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneValidatorConfigSchema } from './config.js';
import { KeystoneValidator } from './keystone-validator.js';

/** A refusal's class and message, for one assertion. */
const refusal = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'accepted',
    (err: Error) => ({ type: err.constructor.name, message: err.message }),
  );

describe('KeystoneValidator against a real Keystone', () => {
  let ks: KeystoneHandle;
  let shortLived: KeystoneHandle;
  const validators: KeystoneValidator[] = [];
  let users: Record<'admin' | 'member' | 'reader', ProjectUser>;

  const validatorFor = async (k: KeystoneHandle, name: string, over: Record<string, unknown> = {}): Promise<KeystoneValidator> => {
    const svc = await k.createServiceUser(name);
    const v = new KeystoneValidator(
      keystoneValidatorConfigSchema.parse({ url: `${k.url}/v3`, serviceUser: svc.user.name, servicePassword: svc.password, revocationPollSeconds: 0.2, cacheMaxSeconds: 3600, ...over }),
    ).start();
    validators.push(v);
    return v;
  };
  const tokenOf = async (k: KeystoneHandle, u: ProjectUser): Promise<string> => (await k.issueToken({ user: u.user.name, password: u.password, project: u.project.name })).token;

  beforeAll(async () => {
    // Keystone's token lifetime is global: the expiry test gets its own Keystone with 8 s tokens.
    [ks, shortLived] = await Promise.all([startKeystone(), startKeystone({ tokenExpirationSeconds: 8 })]);
    users = {
      admin: await ks.createProjectUser('proj-admin', 'ada', 'admin'),
      member: await ks.createProjectUser('proj-member', 'mel', 'member'),
      reader: await ks.createProjectUser('proj-reader', 'rea', 'reader'),
    };
  });
  afterAll(async () => {
    await Promise.all(validators.map((v) => v.stop()));
    await Promise.all([ks?.stop(), shortLived?.stop()]);
  });

  it('maps admin, member and reader tokens to Strata identities, and answers the second validation from its cache', async () => {
    const v = await validatorFor(ks, 'svc-roles');
    for (const role of ['admin', 'member', 'reader'] as const) {
      const u = users[role];
      const token = await tokenOf(ks, u);
      const identity = await v.validate(token);
      expect(identity).toMatchObject({ userId: u.user.id, userName: u.user.name, projectId: u.project.id, projectName: u.project.name, role });
      expect(identity.expiresAt).toBeGreaterThan(Date.now());
      await waitFor(() => v.statistics().revocationsPolledAt !== undefined, { message: 'first revocation poll' });
      const asked = v.statistics().keystoneValidations;
      expect(await v.validate(token)).toEqual(identity);
      expect(v.statistics().keystoneValidations).toBe(asked);
    }
    expect(v.statistics().cacheHits).toBe(3);
  });

  it('refuses an unknown token (401) and remembers the refusal briefly', async () => {
    const v = await validatorFor(ks, 'svc-unknown', { negativeCacheSeconds: 60 });
    const bogus = 'gAAAAABnot-a-real-token';
    expect(await refusal(v.validate(bogus))).toEqual({
      type: 'UnauthenticatedError',
      message: 'the token is unknown, expired or revoked (Keystone: Could not recognize Fernet token)',
    });
    const asked = v.statistics().keystoneValidations;
    await expect(v.validate(bogus)).rejects.toThrow(UnauthenticatedError);
    expect(v.statistics().keystoneValidations).toBe(asked);
  });

  it('refuses an unscoped token (401) and a token whose roles give no Strata role (403)', async () => {
    const v = await validatorFor(ks, 'svc-scope');
    const u = users.member;
    const unscoped = await ks.issueToken({ user: u.user.name, password: u.password });
    await expect(v.validate(unscoped.token)).rejects.toThrow(/the token is unscoped: Strata needs a project-scoped token/);
    const svc = await ks.createServiceUser('svc-only');
    const serviceToken = await ks.issueToken({ user: svc.user.name, password: svc.password, project: 'service' });
    const err = await v.validate(serviceToken.token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect((err as Error).message).toMatch(/user svc-only has none of the roles admin, member or reader on project service \(roles: service\)/);
  });

  it('refuses a revoked token once the revocation events are polled, without asking Keystone again', async () => {
    const v = await validatorFor(ks, 'svc-revoke');
    const token = await tokenOf(ks, users.member);
    const other = await tokenOf(ks, users.member);
    await v.validate(token);
    await v.validate(other);
    const asked = v.statistics().keystoneValidations;
    await ks.revokeToken(token);
    const err = await waitFor(() => v.validate(token).then(() => undefined, (e: Error) => e), { message: 'the revoked token refused' });
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toMatch(/^the token was revoked \(Keystone revocation event of 20\d\d-/);
    // The poll refused it from the cache; the other token of the same user stays valid.
    expect(v.statistics().keystoneValidations).toBe(asked);
    expect((await v.validate(other)).userName).toBe(users.member.user.name);
    // A validator that never saw the token hears Keystone's own refusal.
    const fresh = await validatorFor(ks, 'svc-revoke-fresh');
    await expect(fresh.validate(token)).rejects.toThrow(/unknown, expired or revoked/);
  });

  it('refuses an expired token: from the cache at its expiry, and from Keystone after it', async () => {
    const v = await validatorFor(shortLived, 'svc-expiry');
    const u = await shortLived.createProjectUser('proj-short', 'shorty', 'member');
    const issued = await shortLived.issueToken({ user: u.user.name, password: u.password, project: u.project.name });
    const identity = await v.validate(issued.token).catch((e: Error) => e);
    // On a loaded machine the 8 s may already be over: then Keystone refused it, as below.
    if (identity instanceof Error) {
      expect(identity.message).toMatch(/expired|unknown, expired or revoked/);
    } else {
      expect(identity.expiresAt).toBe(issued.expiresAt);
      const err = await waitFor(() => v.validate(issued.token).then(() => undefined, (e: Error) => e), { message: 'expiry', timeoutMs: 20_000 });
      expect(err.message).toBe(`the token expired at ${new Date(issued.expiresAt).toISOString()}: authenticate again`);
    }
    const fresh = await validatorFor(shortLived, 'svc-expiry-fresh');
    await waitFor(() => Date.now() > issued.expiresAt + 1000, { timeoutMs: 20_000, message: 'the token to expire' });
    await expect(fresh.validate(issued.token)).rejects.toThrow(/the token is unknown, expired or revoked \(Keystone: /);
  });

  it('renews its own service token before Keystone stops accepting it', async () => {
    const v = await validatorFor(shortLived, 'svc-renew');
    const started = Date.now();
    // Two token lifetimes (8 s each) of polling every 0.2 s with the service token.
    await waitFor(() => Date.now() > started + 17_000 && v.statistics().revocationsPolledAt! > started + 16_000, { timeoutMs: 60_000, intervalMs: 200, message: 'two service token lifetimes of polls' });
    const u = await shortLived.createProjectUser('proj-renew', 'renee', 'member');
    expect((await v.validate(await tokenOf(shortLived, u))).userName).toBe('renee');
    const stats = v.statistics();
    expect(stats.serviceAuthentications).toBeGreaterThanOrEqual(3);
    expect(stats.serviceTokenRefusals).toBe(0);
  });
});
