import { z } from 'zod';

/** One bad or missing environment variable. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** The environment does not satisfy the service's config schema; lists every problem, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.problem}`).join('; ')}`);
  }
}

/** A setting that is a positive integer (a limit, a count, milliseconds), `fallback` when unset. */
export const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Settings every service reads. Services extend it: `baseConfigSchema.extend({ ... })`. */
export const baseConfigSchema = z.object({
  /** Overrides the name the service passes to runService (log `service` binding, NATS connection name). */
  STRATA_SERVICE_NAME: z.string().min(1).optional(),
  /** One URL or a comma-separated list (a NATS cluster). */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** Port of the metrics/health server; 0 picks a free one. */
  STRATA_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Loopback by default: metrics and health are scraped locally unless the operator opens them up. */
  STRATA_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  STRATA_LOG_LEVEL: z.enum(logLevels).default('info'),
  /**
   * Comma-separated `service=base64key` entries: the keys this service checks
   * the api's MACs on commands and queries with (only its own service's
   * entries are used). Required by every service that answers requests; see
   * command-auth.ts.
   */
  STRATA_COMMAND_VERIFY_KEYS: z.string().min(1).optional(),
});
export type BaseConfig = z.output<typeof baseConfigSchema>;

/**
 * Parse the environment against `schema`. Empty variables count as unset,
 * because `FOO=` in a compose file means "not configured", and coercing it
 * would silently turn a port into 0.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = issue.path.map(String).join('.') || '(environment)';
      return { variable, problem: present[variable] === undefined ? 'missing' : issue.message };
    }),
  );
}
