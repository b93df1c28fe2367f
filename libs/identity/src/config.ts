/**
 * Where Keystone is and how a Strata service validates tokens there: one
 * schema for every front door (the gRPC API, the Neutron service), read
 * from the environment variables below.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '@strata/errors';
import { z } from 'zod';

/** The validator's settings, as the code uses them. */
export const keystoneValidatorConfigSchema = z.object({
  /** Keystone's base URL (`http://host:5000`; a trailing `/v3` is accepted and dropped). */
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL of Keystone' })
    .transform((u) => u.replace(/\/+$/, '').replace(/\/v3$/, '')),
  /** The service user (domain `default`) that validates tokens: it needs the `service` (or admin) role. */
  serviceUser: z.string().min(1),
  servicePassword: z.string().min(1),
  /** The project the service user's token is scoped to. */
  serviceProject: z.string().min(1).default('service'),
  /** How many validated tokens (and refusals) are remembered; the least recently used go first. */
  cacheMaxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
  /**
   * The longest a validation is trusted without asking Keystone again,
   * however long the token lives: removing a role assignment or disabling a
   * project makes Keystone refuse a token without a revocation event, so a
   * validation may be that stale at most (keystonemiddleware's
   * token_cache_time is 300 s too).
   */
  cacheMaxSeconds: z.number().int().min(1).max(86_400).default(300),
  /** How long an unknown token stays refused without asking Keystone again (0: never cached). */
  negativeCacheSeconds: z.number().min(0).max(300).default(2),
  /** How often Keystone's revocation events are fetched: a revoked token is refused at most this much later. */
  revocationPollSeconds: z.number().min(0.05).max(300).default(5),
  /** Each request to Keystone gives up after this long. */
  requestTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
});
export type KeystoneValidatorConfig = z.output<typeof keystoneValidatorConfigSchema>;
export type KeystoneValidatorConfigInput = z.input<typeof keystoneValidatorConfigSchema>;

const optionalNumber = z.coerce.number().optional();

/** The environment variables, to merge into a service's own config schema (`schema.extend(keystoneEnvShape)`). */
export const keystoneEnvShape = {
  /** Keystone's URL; absent: no Keystone tokens are accepted. */
  KEYSTONE_URL: z.string().min(1).optional(),
  KEYSTONE_SERVICE_USER: z.string().min(1).optional(),
  KEYSTONE_SERVICE_PASSWORD: z.string().min(1).optional(),
  /** A file holding the service user's password (instead of KEYSTONE_SERVICE_PASSWORD). */
  KEYSTONE_SERVICE_PASSWORD_FILE: z.string().min(1).optional(),
  KEYSTONE_SERVICE_PROJECT: z.string().min(1).optional(),
  KEYSTONE_TOKEN_CACHE_SIZE: optionalNumber,
  KEYSTONE_TOKEN_CACHE_SECONDS: optionalNumber,
  KEYSTONE_NEGATIVE_CACHE_SECONDS: optionalNumber,
  KEYSTONE_REVOCATION_POLL_SECONDS: optionalNumber,
};
export type KeystoneEnv = { [K in keyof typeof keystoneEnvShape]?: z.output<(typeof keystoneEnvShape)[K]> };

/** The validator's config from the environment; undefined when KEYSTONE_URL is not set. Every mistake is named. */
export function keystoneConfigFromEnv(env: KeystoneEnv): KeystoneValidatorConfig | undefined {
  if (env.KEYSTONE_URL === undefined) {
    const stray = (['KEYSTONE_SERVICE_USER', 'KEYSTONE_SERVICE_PASSWORD', 'KEYSTONE_SERVICE_PASSWORD_FILE'] as const).filter((k) => env[k] !== undefined);
    if (stray.length > 0) throw new ValidationError(`${stray.join(', ')} set without KEYSTONE_URL: set KEYSTONE_URL to accept Keystone tokens, or remove them`);
    return undefined;
  }
  if (env.KEYSTONE_SERVICE_PASSWORD !== undefined && env.KEYSTONE_SERVICE_PASSWORD_FILE !== undefined) {
    throw new ValidationError('set KEYSTONE_SERVICE_PASSWORD or KEYSTONE_SERVICE_PASSWORD_FILE, not both');
  }
  const password =
    env.KEYSTONE_SERVICE_PASSWORD_FILE !== undefined ? readFileSync(env.KEYSTONE_SERVICE_PASSWORD_FILE, 'utf8').trim() : env.KEYSTONE_SERVICE_PASSWORD;
  const parsed = keystoneValidatorConfigSchema.safeParse({
    url: env.KEYSTONE_URL,
    serviceUser: env.KEYSTONE_SERVICE_USER,
    servicePassword: password,
    serviceProject: env.KEYSTONE_SERVICE_PROJECT,
    cacheMaxEntries: env.KEYSTONE_TOKEN_CACHE_SIZE,
    cacheMaxSeconds: env.KEYSTONE_TOKEN_CACHE_SECONDS,
    negativeCacheSeconds: env.KEYSTONE_NEGATIVE_CACHE_SECONDS,
    revocationPollSeconds: env.KEYSTONE_REVOCATION_POLL_SECONDS,
  });
  if (!parsed.success) {
    const names: Record<string, string> = {
      url: 'KEYSTONE_URL',
      serviceUser: 'KEYSTONE_SERVICE_USER',
      servicePassword: 'KEYSTONE_SERVICE_PASSWORD(_FILE)',
      serviceProject: 'KEYSTONE_SERVICE_PROJECT',
      cacheMaxEntries: 'KEYSTONE_TOKEN_CACHE_SIZE',
      cacheMaxSeconds: 'KEYSTONE_TOKEN_CACHE_SECONDS',
      negativeCacheSeconds: 'KEYSTONE_NEGATIVE_CACHE_SECONDS',
      revocationPollSeconds: 'KEYSTONE_REVOCATION_POLL_SECONDS',
    };
    const problems = parsed.error.issues.map((i) => `${names[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`);
    throw new ValidationError(`Keystone configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
