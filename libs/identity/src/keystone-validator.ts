/**
 * A TokenValidator backed by Keystone (docs/architecture.md, "Identity"):
 * a token Keystone accepts is remembered until it expires (at most
 * cacheMaxSeconds), an unknown one is refused for negativeCacheSeconds, and
 * Keystone's revocation events are polled so a revoked token is refused
 * within revocationPollSeconds. Tokens are remembered by their sha256, never
 * as text.
 */
import { createHash } from 'node:crypto';
import { PermissionDeniedError, StrataError, UnauthenticatedError } from '@strata/errors';
import { cachedVerdict, type CacheEntry } from './cache-policy.js';
import type { KeystoneValidatorConfig } from './config.js';
import type { Identity, TokenValidator } from './identity.js';
import { KeystoneClient } from './keystone-client.js';
import { readValidatedToken } from './keystone-token.js';
import { Lru } from './lru.js';
import { revokes, RevocationList, type RevocationEvent } from './revocation.js';

export interface ValidatorLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface KeystoneValidatorOptions {
  /** The clock (ms since epoch); tests inject one. */
  now?: () => number;
  logger?: ValidatorLogger;
}

/** Counts for the bench and the logs. */
export interface ValidatorStats {
  cacheHits: number;
  keystoneValidations: number;
  cachedEntries: number;
  revocationEvents: number;
  /** When the last successful revocation poll started (ms); undefined before the first. */
  revocationsPolledAt: number | undefined;
  /** Service-user authentications, and refusals of the service token by Keystone (renewal comes before expiry: normally 0). */
  serviceAuthentications: number;
  serviceTokenRefusals: number;
}

export class KeystoneValidator implements TokenValidator {
  private readonly client: KeystoneClient;
  private readonly cache: Lru<CacheEntry>;
  private readonly inflight = new Map<string, Promise<Identity>>();
  private readonly revocations = new RevocationList();
  private readonly now: () => number;
  /** When the last successful poll started (ms): acceptances are trusted only while this is recent. */
  private lastPollStartedAt: number | undefined;
  /** The longest token lifetime seen (ms): how long a revocation event can matter. */
  private maxLifetimeMs = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private pollFailing = false;
  private readonly stats = { cacheHits: 0, keystoneValidations: 0 };

  constructor(
    private readonly config: KeystoneValidatorConfig,
    private readonly options: KeystoneValidatorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.client = new KeystoneClient(config, this.now);
    this.cache = new Lru(config.cacheMaxEntries);
  }

  /** Start polling revocation events (the first poll runs now; a Keystone that is down is retried, never fatal). */
  start(): this {
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    await this.polling;
  }

  statistics(): ValidatorStats {
    return {
      ...this.stats,
      ...this.client.counts,
      cachedEntries: this.cache.size,
      revocationEvents: this.revocations.size,
      revocationsPolledAt: this.lastPollStartedAt,
    };
  }

  async validate(token: string): Promise<Identity> {
    const key = createHash('sha256').update(token, 'utf8').digest('base64');
    const now = this.now();
    const verdict = cachedVerdict(this.cache.get(key), now, {
      maxAgeMs: this.config.cacheMaxSeconds * 1000,
      revocationsCurrent: this.revocationsCurrent(now),
    });
    switch (verdict.use) {
      case 'identity':
        this.stats.cacheHits++;
        return verdict.identity;
      case 'refusal':
        throw verdict.error;
      case 'expired':
        throw new UnauthenticatedError(`the token expired at ${new Date(verdict.expiresAt).toISOString()}: authenticate again`);
      case 'keystone': {
        // Concurrent requests with the same token share one validation.
        let pending = this.inflight.get(key);
        if (!pending) {
          pending = this.askKeystone(token, key).finally(() => this.inflight.delete(key));
          this.inflight.set(key, pending);
        }
        return pending;
      }
    }
  }

  /** Fetch the revocation events now (the poller does this every revocationPollSeconds). */
  async pollRevocations(): Promise<void> {
    const startedAt = this.now();
    const fresh = this.revocations.add(await this.client.revocationEvents(this.revocations.since()));
    if (fresh.length > 0) this.refuseRevoked(fresh);
    this.revocations.prune(this.now(), this.maxLifetimeMs);
    this.lastPollStartedAt = startedAt;
  }

  private revocationsCurrent(now: number): boolean {
    // Two missed polls (and a request's timeout) are tolerated before acceptances stop being trusted.
    const staleAfter = 3 * this.config.revocationPollSeconds * 1000 + this.config.requestTimeoutMs;
    return this.lastPollStartedAt !== undefined && now - this.lastPollStartedAt <= staleAfter;
  }

  private async askKeystone(token: string, key: string): Promise<Identity> {
    const checkedAt = this.now();
    this.stats.keystoneValidations++;
    const answer = await this.client.validate(token);
    if (!answer.found) {
      throw this.refuse(key, new UnauthenticatedError(`the token is unknown, expired or revoked (Keystone: ${answer.message})`), checkedAt + this.config.negativeCacheSeconds * 1000);
    }
    let validated;
    try {
      validated = readValidatedToken(answer.body);
    } catch (err) {
      if (err instanceof UnauthenticatedError || err instanceof PermissionDeniedError) throw this.refuse(key, err, checkedAt + this.config.negativeCacheSeconds * 1000);
      throw err;
    }
    const { identity, facts } = validated;
    // An event polled while Keystone was answering may already revoke it.
    const revokedBy = this.revocations.find(facts);
    if (revokedBy) throw this.refuse(key, revokedError(revokedBy), identity.expiresAt);
    if (checkedAt >= identity.expiresAt) throw new UnauthenticatedError(`the token expired at ${new Date(identity.expiresAt).toISOString()}: authenticate again`);
    this.maxLifetimeMs = Math.max(this.maxLifetimeMs, facts.expiresAt - facts.issuedAt);
    this.cache.set(key, { kind: 'valid', identity, facts, checkedAt });
    return identity;
  }

  private refuse(key: string, error: StrataError, until: number): StrataError {
    if (until > this.now()) this.cache.set(key, { kind: 'refused', error, until });
    return error;
  }

  /** Turn every remembered acceptance that a new event revokes into a refusal until the token's expiry. */
  private refuseRevoked(events: readonly RevocationEvent[]): void {
    const revoked: Array<[string, Identity, RevocationEvent]> = [];
    for (const [key, entry] of this.cache.entries()) {
      if (entry.kind !== 'valid') continue;
      const event = events.find((e) => revokes(e, entry.facts));
      if (event) revoked.push([key, entry.identity, event]);
    }
    for (const [key, identity, event] of revoked) this.refuse(key, revokedError(event), identity.expiresAt);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.pollRevocations()
        .then(
          () => {
            if (this.pollFailing) this.options.logger?.info({}, 'Keystone revocation events are current again');
            this.pollFailing = false;
          },
          (err: unknown) => {
            // Logged once per outage; meanwhile cached acceptances go stale and every token is asked of Keystone.
            if (!this.pollFailing) this.options.logger?.warn({ err: (err as Error).message }, 'cannot fetch Keystone revocation events');
            this.pollFailing = true;
          },
        )
        .finally(() => this.schedule(this.config.revocationPollSeconds * 1000));
    }, delayMs);
    this.pollTimer.unref();
  }
}

function revokedError(event: RevocationEvent): UnauthenticatedError {
  return new UnauthenticatedError(`the token was revoked (Keystone revocation event of ${new Date(event.revokedAt).toISOString()})`);
}
