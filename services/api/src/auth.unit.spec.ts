import { Metadata } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
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

describe('Authenticator', () => {
  const auth = new Authenticator(tokens);

  it('returns the principal of a known bearer token', () => {
    expect(auth.authenticate(md({ authorization: 'Bearer alice-secret' }))).toEqual({ name: 'alice', tenant: 't1', admin: false });
    expect(auth.authenticate(md({ authorization: 'bearer ops-secret' }))).toEqual({ name: 'ops', tenant: 'ops', admin: true });
  });

  it('says the credentials are missing when there is no authorization metadata', () => {
    const err = failure(() => auth.authenticate(md({})));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toMatch(/^missing credentials/);
  });

  it('says the credentials are malformed when they are not a single bearer token', () => {
    for (const value of ['alice-secret', 'Basic YWxpY2U6c2VjcmV0', 'Bearer a b']) {
      const err = failure(() => auth.authenticate(md({ authorization: value })));
      expect(err.code).toBe(ErrorCode.Unauthenticated);
      expect(err.message).toMatch(/^malformed credentials/);
    }
  });

  it('says the token is unknown when no hash matches', () => {
    const err = failure(() => auth.authenticate(md({ authorization: 'Bearer mallory' })));
    expect(err.code).toBe(ErrorCode.Unauthenticated);
    expect(err.message).toBe('unknown bearer token');
  });
});
