/**
 * The validator's HTTP side: its own service token (password authentication,
 * renewed before it expires and when Keystone stops accepting it), token
 * validation and the revocation events. No caching and no decisions here.
 */
import { ErrorCode, StrataError } from '@strata/errors';
import type { KeystoneValidatorConfig } from './config.js';
import { revocationEventsSchema, type RevocationEvent } from './revocation.js';

/** Keystone could not be asked (down, timing out, or answering an error): the caller can retry. */
export class KeystoneUnavailableError extends StrataError {
  override readonly name = 'KeystoneUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, `Keystone unavailable: ${message}`, {}, options);
  }
}

export type ValidationAnswer = { found: true; body: unknown } | { found: false; message: string };

interface ServiceToken {
  token: string;
  /** Renew from this instant on (ms). */
  renewAt: number;
}

export class KeystoneClient {
  private service: ServiceToken | undefined;
  private renewing: Promise<ServiceToken> | undefined;
  /** How often the service user authenticated, and how often Keystone refused the service token (it should be renewed before that). */
  readonly counts = { serviceAuthentications: 0, serviceTokenRefusals: 0 };

  constructor(
    private readonly config: KeystoneValidatorConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** GET /v3/auth/tokens: Keystone's body for a valid token, or its refusal (404: unknown, expired or revoked). */
  async validate(token: string): Promise<ValidationAnswer> {
    for (let attempt = 0; ; attempt++) {
      const service = await this.serviceToken(attempt > 0);
      const res = await this.request('GET', '/v3/auth/tokens?nocatalog', { 'x-auth-token': service, 'x-subject-token': token });
      if (res.status === 200) return { found: true, body: JSON.parse(res.text) as unknown };
      if (res.status === 404) return { found: false, message: keystoneMessage(res.text) };
      // Our own token stopped working (revoked, keys rotated): authenticate again, once.
      if (res.status === 401 && attempt === 0) {
        this.counts.serviceTokenRefusals++;
        continue;
      }
      throw this.failure('validating a token', res);
    }
  }

  /** GET /v3/OS-REVOKE/events[?since=]: the events revoked after `since` (exclusive, whole seconds). */
  async revocationEvents(since: string | undefined): Promise<RevocationEvent[]> {
    const path = `/v3/OS-REVOKE/events${since === undefined ? '' : `?since=${encodeURIComponent(since)}`}`;
    for (let attempt = 0; ; attempt++) {
      const res = await this.request('GET', path, { 'x-auth-token': await this.serviceToken(attempt > 0) });
      if (res.status === 401 && attempt === 0) {
        this.counts.serviceTokenRefusals++;
        continue;
      }
      if (res.status !== 200) throw this.failure('listing revocation events', res);
      const parsed = revocationEventsSchema.safeParse(JSON.parse(res.text));
      if (!parsed.success) throw new KeystoneUnavailableError(`revocation events not as Keystone 3 sends them: ${parsed.error.message}`);
      return parsed.data;
    }
  }

  /** The service token: cached, renewed when due (or when `force`), one renewal at a time. */
  private async serviceToken(force: boolean): Promise<string> {
    const current = this.service;
    if (!force && current && this.now() < current.renewAt) return current.token;
    this.renewing ??= this.authenticate().finally(() => {
      this.renewing = undefined;
    });
    this.service = await this.renewing;
    return this.service.token;
  }

  private async authenticate(): Promise<ServiceToken> {
    const c = this.config;
    this.counts.serviceAuthentications++;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.serviceUser, domain: { id: 'default' }, password: c.servicePassword } } },
        scope: { project: { name: c.serviceProject, domain: { id: 'default' } } },
      },
    };
    const res = await this.request('POST', '/v3/auth/tokens?nocatalog', { 'content-type': 'application/json' }, JSON.stringify(body));
    if (res.status !== 201) {
      if (res.status === 401) {
        throw new KeystoneUnavailableError(`the service user ${c.serviceUser} cannot authenticate on project ${c.serviceProject}: ${keystoneMessage(res.text)}`);
      }
      throw this.failure('authenticating the service user', res);
    }
    const token = res.headers.get('x-subject-token');
    const parsed = JSON.parse(res.text) as { token?: { expires_at?: string; issued_at?: string } };
    const expiresAt = Date.parse(parsed.token?.expires_at ?? '');
    const issuedAt = Date.parse(parsed.token?.issued_at ?? '');
    if (!token || Number.isNaN(expiresAt) || Number.isNaN(issuedAt)) throw new KeystoneUnavailableError('the service token answer lacks X-Subject-Token or its times');
    // Renew after three quarters of its lifetime (measured by Keystone's clock, so skew does not matter).
    const now = this.now();
    return { token, renewAt: now + ((expiresAt - issuedAt) * 3) / 4 };
  }

  private async request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
    try {
      const res = await fetch(`${this.config.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
      return { status: res.status, text: await res.text(), headers: res.headers };
    } catch (err) {
      throw new KeystoneUnavailableError(`${method} ${this.config.url}${path.replace(/\?.*/, '')}: ${(err as Error).message}`, { cause: err });
    }
  }

  private failure(what: string, res: { status: number; text: string }): KeystoneUnavailableError {
    const hint = res.status === 403 ? ` (the service user ${this.config.serviceUser} needs the service or admin role on project ${this.config.serviceProject})` : '';
    return new KeystoneUnavailableError(`${what} answered HTTP ${res.status}: ${keystoneMessage(res.text)}${hint}`);
  }
}

/** Keystone's error message from its `{"error": {"message"}}` body, else the raw text. */
function keystoneMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200) || '(empty body)';
}
