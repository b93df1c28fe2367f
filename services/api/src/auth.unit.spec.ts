import { Metadata } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError, UnauthenticatedError } from '@strata/errors';
import type { Identity, TokenValidator } from '@strata/identity';
import { Authenticator, loadTokens, parseTokens, sha256Hex } from './auth.js';

const tokens = [
  { name: 'alice', sha256: sha256Hex('alice-secret'), tenant: 't1', admin: false },
  { name: 'ops', sha256: sha256Hex('ops-secret'), tenant: 'ops', admin: true },
];

function md(entries: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.add(k, v);
  return m;
}

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StrataError) return err;
    throw err;
  }
  throw new Error('expected a StrataError');
}

describe('parseTokens', () => {
  it('reads the token list, normalising hashes to lowercase and admin to false', () => {
    const json = JSON.stringify([{ name: 'bob', sha256: sha256Hex('x').toUpperCase(), tenant: 't2' }]);
    expect(parseTokens(json)).toEqual([{ name: 'bob', sha256: sha256Hex('x'), tenant: 't2', admin: false }]);
  });

  it('says which entry and field is wrong', () => {
    const err = failure(() => parseTokens(JSON.stringify([{ name: 'bob', sha256: 'abc', tenant: 't2' }]), 'tokens.json'));
    expect(err.code).toBe(ErrorCode.InvalidArgument);
    expect(err.message).toMatch(/^tokens\.json: \[0\.sha256\] must be the 64 hex digits/);
  });

  it('rejects JSON that does not parse and duplicate hashes', () => {
    expect(failure(() => parseTokens('[{')).message).toMatch(/not valid JSON/);
    const dup = JSON.stringify([tokens[0], { ...tokens[1], sha256: tokens[0]!.sha256 }]);
    expect(failure(() => parseTokens(dup)).message).toMatch(/token ops has the same hash as another token/);
  });

  it('prefers STRATA_API_TOKENS_FILE over inline STRATA_API_TOKENS and needs one of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-tokens-'));
    try {
      const file = join(dir, 'tokens.json');
      writeFileSync(file, JSON.stringify([tokens[1]]));
      expect(loadTokens({ STRATA_API_TOKENS_FILE: file, STRATA_API_TOKENS: JSON.stringify([tokens[0]]) })).toEqual([tokens[1]]);
      expect(loadTokens({ STRATA_API_TOKENS: JSON.stringify([tokens[0]]) })).toEqual([tokens[0]]);
      expect(failure(() => loadTokens({})).message).toMatch(/no API tokens configured/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function rejection(p: Promise<unknown>): Promise<StrataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof StrataError) return err;
  throw new Error(`expected a StrataError, got ${String(err)}`);
}

const keystoneIdentity = (over: Partial<Identity> = {}): Identity => ({
  userId: 'u1',
  userName: 'kim',
  projectId: '0123456789abcdef0123456789abcdef',
  projectName: 'proj-k',
  role: 'member',
  keystoneRoles: ['member', 'reader'],
  expiresAt: Date.now() + 3_600_000,
  auditId: 'a1',
  ...over,
});

/** A validator answering from a table, as KeystoneValidator answers from Keystone. */
const validatorOf = (known: Record<string, Identity>): TokenValidator => ({
  validate: (token) => (known[token] ? Promise.resolve(known[token]) : Promise.reject(new UnauthenticatedError('the token is unknown, expired or revoked (Keystone: x)'))),
});

describe('Authenticator', () => {
  const auth = new Authenticator(tokens);

  it('returns the principal of a known bearer token', async () => {
    expect(await auth.authenticate(md({ authorization: 'Bearer alice-secret' }))).toEqual({ name: 'alice', tenant: 't1', admin: false, role: 'member' });
    expect(await auth.authenticate(md({ authorization: 'bearer ops-secret' }))).toEqual({ name: 'ops', tenant: 'ops', admin: true, role: 'admin' });
  });

  it('says the credentials are missing when there is no authorization metadata', async () => {
    const err = await rejection(auth.authenticate(md({})));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toMatch(/^missing credentials/);
  });

  it('says the credentials are malformed when they are not a single bearer token', async () => {
    for (const value of ['alice-secret', 'Basic YWxpY2U6c2VjcmV0', 'Bearer a b']) {
      const err = await rejection(auth.authenticate(md({ authorization: value })));
      expect(err.code).toBe(ErrorCode.Unauthenticated);
      expect(err.message).toMatch(/^malformed credentials/);
    }
  });

  it('says the token is unknown when no hash matches', async () => {
    const err = await rejection(auth.authenticate(md({ authorization: 'Bearer mallory' })));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toBe('unknown bearer token');
  });
});

describe('Authenticator with Keystone', () => {
  const auth = new Authenticator(tokens, validatorOf({ 'ks-member': keystoneIdentity(), 'ks-reader': keystoneIdentity({ role: 'reader', userName: 'rea' }), 'ks-admin': keystoneIdentity({ role: 'admin', userName: 'ada' }), 'ks-odd': keystoneIdentity({ projectId: 'Not_A_Tenant' }) }));

  it('checks the static tokens first, then Keystone', async () => {
    expect(await auth.authenticate(md({ authorization: 'Bearer alice-secret' }))).toEqual({ name: 'alice', tenant: 't1', admin: false, role: 'member' });
    expect(await auth.authenticate(md({ authorization: 'Bearer ks-member' }))).toEqual({ name: 'keystone:kim', tenant: '0123456789abcdef0123456789abcdef', admin: false, role: 'member' });
    expect(await auth.authenticate(md({ authorization: 'Bearer ks-reader' }))).toMatchObject({ name: 'keystone:rea', admin: false, role: 'reader' });
    expect(await auth.authenticate(md({ authorization: 'Bearer ks-admin' }))).toMatchObject({ name: 'keystone:ada', admin: true, role: 'admin' });
  });

  it('passes Keystone’s refusal on, and refuses a project id that is no tenant id', async () => {
    const unknown = await rejection(auth.authenticate(md({ authorization: 'Bearer mallory' })));
    expect(unknown.code).toBe(ErrorCode.Unauthenticated);
    expect(unknown.message).toMatch(/unknown, expired or revoked/);
    const odd = await rejection(auth.authenticate(md({ authorization: 'Bearer ks-odd' })));
    expect(odd.code).toBe(ErrorCode.PermissionDenied);
    expect(odd.message).toMatch(/not a valid Strata tenant id/);
  });
});
