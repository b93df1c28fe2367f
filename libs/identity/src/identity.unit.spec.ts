import { UnauthenticatedError } from '@strata/errors';
import { describe, expect, it } from 'vitest';
import { cachedVerdict, type CacheEntry } from './cache-policy.js';
import { keystoneConfigFromEnv } from './config.js';
import type { Identity } from './identity.js';
import { readValidatedToken } from './keystone-token.js';
import { Lru } from './lru.js';
import { revocationEventsSchema, revokes, RevocationList, type RevocationEvent, type TokenFacts } from './revocation.js';
import { mayWrite, strataRole } from './role-map.js';

const T0 = Date.parse('2026-12-06T16:00:00Z');

const token: TokenFacts = {
  userId: 'u1',
  identityDomainId: 'default',
  projectId: 'p1',
  assignmentDomainId: null,
  auditId: 'audit-1',
  auditChainId: null,
  issuedAt: T0,
  expiresAt: T0 + 3_600_000,
  roleIds: ['r-member', 'r-reader'],
  trustId: null,
  trustorId: null,
  trusteeId: null,
  consumerId: null,
};
const event = (e: Partial<RevocationEvent>): RevocationEvent => ({ issuedBefore: T0 + 10_000, revokedAt: T0 + 10_000, ...e });

describe('role mapping', () => {
  it('gives the strongest Strata role the Keystone roles name', () => {
    expect(strataRole(['reader', 'member', 'admin'])).toBe('admin');
    expect(strataRole(['member', 'reader'])).toBe('member');
    expect(strataRole(['member'])).toBe('member');
    expect(strataRole(['reader'])).toBe('reader');
    expect(strataRole(['Member'])).toBe('member');
    expect(strataRole(['service'])).toBeUndefined();
    expect(strataRole([])).toBeUndefined();
  });
  it('lets every role but reader write', () => {
    expect([mayWrite('admin'), mayWrite('member'), mayWrite('reader')]).toEqual([true, true, false]);
  });
});

describe('revocation matching (Keystone 22 rule)', () => {
  it('revokes by audit id only the token with that audit id', () => {
    expect(revokes(event({ auditId: 'audit-1' }), token)).toBe(true);
    expect(revokes(event({ auditId: 'audit-2' }), token)).toBe(false);
  });
  it('revokes by user the tokens issued at or before the event, not later ones', () => {
    expect(revokes(event({ userId: 'u1' }), token)).toBe(true);
    expect(revokes(event({ userId: 'u1', issuedBefore: T0 }), token)).toBe(true);
    expect(revokes(event({ userId: 'u1', issuedBefore: T0 - 1000 }), token)).toBe(false);
    expect(revokes(event({ userId: 'u2' }), token)).toBe(false);
  });
  it('matches a trust token by its trustor and trustee too', () => {
    const trust = { ...token, userId: 'u9', trustId: 't1', trustorId: 'u1', trusteeId: 'u9' };
    expect(revokes(event({ userId: 'u1' }), trust)).toBe(true);
    expect(revokes(event({ trustId: 't1' }), trust)).toBe(true);
    expect(revokes(event({ trustId: 't1' }), token)).toBe(false);
  });
  it('needs every attribute the event names to match (user and project)', () => {
    expect(revokes(event({ userId: 'u1', projectId: 'p1' }), token)).toBe(true);
    expect(revokes(event({ userId: 'u1', projectId: 'p2' }), token)).toBe(false);
    expect(revokes(event({ projectId: 'p1' }), token)).toBe(true);
  });
  it('compares expiry in whole seconds, roles by id, the domain by the user’s domain', () => {
    expect(revokes(event({ expiresAt: token.expiresAt + 999 }), { ...token, expiresAt: token.expiresAt })).toBe(true);
    expect(revokes(event({ expiresAt: token.expiresAt + 1000 }), token)).toBe(false);
    expect(revokes(event({ roleId: 'r-member' }), token)).toBe(true);
    expect(revokes(event({ roleId: 'r-admin' }), token)).toBe(false);
    expect(revokes(event({ domainId: 'default' }), token)).toBe(true);
    expect(revokes(event({ domainId: 'other' }), token)).toBe(false);
    // Keystone never matches a domain_scope_id event against a project-scoped token.
    expect(revokes(event({ domainScopeId: 'default' }), token)).toBe(false);
  });
  it('matches audit chains by the parent audit id', () => {
    expect(revokes(event({ auditChainId: 'root' }), { ...token, auditChainId: 'root' })).toBe(true);
    expect(revokes(event({ auditChainId: 'root' }), token)).toBe(false);
  });
  it('reads Keystone’s event list, and refuses one that is not', () => {
    const events = revocationEventsSchema.parse({
      events: [{ audit_id: 'a', issued_before: '2026-12-06T16:07:56.000000Z', revoked_at: '2026-12-06T16:07:56.000000Z', 'OS-TRUST:trust_id': 't' }],
      links: {},
    });
    expect(events).toEqual([{ auditId: 'a', trustId: 't', issuedBefore: Date.parse('2026-12-06T16:07:56Z'), revokedAt: Date.parse('2026-12-06T16:07:56Z') }]);
    expect(revocationEventsSchema.safeParse({ events: [{ audit_id: 'a', revoked_at: 'x' }] }).success).toBe(false);
  });
});

describe('RevocationList', () => {
  it('keeps each event once, polls from a second before the newest, and prunes what no live token can match', () => {
    const list = new RevocationList();
    expect(list.since()).toBeUndefined();
    expect(list.add([event({ auditId: 'a' }), event({ auditId: 'a' })])).toHaveLength(1);
    expect(list.add([event({ auditId: 'a' }), event({ auditId: 'b', revokedAt: T0 + 20_000, issuedBefore: T0 + 20_000 })])).toHaveLength(1);
    expect(list.since()).toBe(new Date(T0 + 19_000).toISOString());
    expect(list.find(token)).toBeUndefined();
    list.add([event({ userId: 'u1' })]);
    expect(list.find(token)?.userId).toBe('u1');
    list.prune(T0 + 10_000 + 3_600_001, 3_600_000);
    expect(list.size).toBe(1);
    expect(list.find(token)).toBeUndefined();
    expect(list.since()).toBe(new Date(T0 + 19_000).toISOString());
  });
});

describe('cache policy (injected clock)', () => {
  const identity: Identity = {
    userId: 'u1', userName: 'alice', projectId: 'p1', projectName: 'a', role: 'member', keystoneRoles: ['member'], expiresAt: T0 + 60_000, auditId: 'audit-1',
  };
  const valid: CacheEntry = { kind: 'valid', identity, facts: token, checkedAt: T0 };
  const policy = { maxAgeMs: 30_000, revocationsCurrent: true };

  it('uses an acceptance until the cache bound, then asks Keystone again', () => {
    expect(cachedVerdict(valid, T0 + 29_999, policy)).toEqual({ use: 'identity', identity });
    expect(cachedVerdict(valid, T0 + 30_000, policy)).toEqual({ use: 'keystone' });
  });
  it('refuses at the token’s expiry, before the cache bound', () => {
    const short = { ...valid, identity: { ...identity, expiresAt: T0 + 5_000 } };
    expect(cachedVerdict(short, T0 + 4_999, policy).use).toBe('identity');
    expect(cachedVerdict(short, T0 + 5_000, policy)).toEqual({ use: 'expired', expiresAt: T0 + 5_000 });
    expect(cachedVerdict(short, T0 + 5_000, { ...policy, revocationsCurrent: false }).use).toBe('expired');
  });
  it('trusts no acceptance while the revocation events are not current', () => {
    expect(cachedVerdict(valid, T0 + 1, { ...policy, revocationsCurrent: false })).toEqual({ use: 'keystone' });
  });
  it('repeats a refusal until it lapses; nothing remembered means Keystone', () => {
    const error = new UnauthenticatedError('unknown');
    const refused: CacheEntry = { kind: 'refused', error, until: T0 + 2_000 };
    expect(cachedVerdict(refused, T0 + 1_999, policy)).toEqual({ use: 'refusal', error });
    expect(cachedVerdict(refused, T0 + 2_000, policy)).toEqual({ use: 'keystone' });
    expect(cachedVerdict(undefined, T0, policy)).toEqual({ use: 'keystone' });
  });
});

describe('Lru', () => {
  it('forgets the least recently used entry beyond its size', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect([...lru.entries()].map(([k]) => k)).toEqual(['a', 'c']);
    expect(() => new Lru(0)).toThrow(/at least one/);
  });
});

describe('reading Keystone’s validation answer', () => {
  const body = (over: Record<string, unknown> = {}) => ({
    token: {
      user: { id: 'u1', name: 'alice', domain: { id: 'default' } },
      project: { id: 'p1', name: 'proj-a', domain: { id: 'default' } },
      roles: [{ id: 'r1', name: 'member' }, { id: 'r2', name: 'reader' }],
      expires_at: '2026-12-06T17:00:00.000000Z',
      issued_at: '2026-12-06T16:00:00.000000Z',
      audit_ids: ['audit-1'],
      ...over,
    },
  });
  it('gives the identity and the revocation facts', () => {
    const { identity, facts } = readValidatedToken(body());
    expect(identity).toEqual({
      userId: 'u1', userName: 'alice', projectId: 'p1', projectName: 'proj-a', role: 'member', keystoneRoles: ['member', 'reader'],
      expiresAt: Date.parse('2026-12-06T17:00:00Z'), auditId: 'audit-1',
    });
    expect(facts).toMatchObject({ userId: 'u1', identityDomainId: 'default', projectId: 'p1', assignmentDomainId: null, roleIds: ['r1', 'r2'], auditChainId: null });
  });
  it('refuses an unscoped or domain-scoped token (401) and a token without a Strata role (403)', () => {
    expect(() => readValidatedToken(body({ project: undefined }))).toThrow(/unscoped: Strata needs a project-scoped token/);
    expect(() => readValidatedToken(body({ project: undefined, domain: { id: 'default', name: 'Default' } }))).toThrow(/domain-scoped/);
    expect(() => readValidatedToken(body({ project: undefined }))).toThrow(UnauthenticatedError);
    expect(() => readValidatedToken(body({ roles: [{ id: 'r9', name: 'service' }] }))).toThrow(/none of the roles admin, member or reader .* \(roles: service\)/);
  });
});

describe('configuration from the environment', () => {
  it('is absent without KEYSTONE_URL, and complete with it', () => {
    expect(keystoneConfigFromEnv({})).toBeUndefined();
    expect(
      keystoneConfigFromEnv({ KEYSTONE_URL: 'http://127.0.0.1:5000/v3/', KEYSTONE_SERVICE_USER: 'strata', KEYSTONE_SERVICE_PASSWORD: 'pw', KEYSTONE_REVOCATION_POLL_SECONDS: 1 }),
    ).toMatchObject({ url: 'http://127.0.0.1:5000', serviceUser: 'strata', serviceProject: 'service', revocationPollSeconds: 1, cacheMaxSeconds: 300 });
  });
  it('names every mistake', () => {
    expect(() => keystoneConfigFromEnv({ KEYSTONE_SERVICE_USER: 'x' })).toThrow(/KEYSTONE_SERVICE_USER set without KEYSTONE_URL/);
    expect(() => keystoneConfigFromEnv({ KEYSTONE_URL: 'ftp://x', KEYSTONE_SERVICE_USER: 'x', KEYSTONE_SERVICE_PASSWORD: 'p' })).toThrow(/KEYSTONE_URL: must be an http\(s\) URL/);
    expect(() => keystoneConfigFromEnv({ KEYSTONE_URL: 'http://k:5000' })).toThrow(/KEYSTONE_SERVICE_USER: .*KEYSTONE_SERVICE_PASSWORD\(_FILE\)/);
    expect(() => keystoneConfigFromEnv({ KEYSTONE_URL: 'http://k', KEYSTONE_SERVICE_USER: 'x', KEYSTONE_SERVICE_PASSWORD: 'p', KEYSTONE_TOKEN_CACHE_SIZE: 0 })).toThrow(/KEYSTONE_TOKEN_CACHE_SIZE/);
  });
});
