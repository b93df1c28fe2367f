/**
 * TCP-MD5 secrets. Events name a secret (`passwordRef`), never contain it:
 * the log is kept forever, replicated and readable by every service, so a
 * password written there could never be revoked. (A hash would not help
 * either: MD5 keys are short enough to guess offline.) The gateway resolves
 * a reference from its own environment, `BGP_PASSWORD_<REF>` (upper-cased,
 * `-` → `_`), or from the file `<BGP_SECRETS_DIR>/<ref>` (a mounted secret).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
  constructor(readonly ref: string) {
    super(`TCP-MD5 secret "${ref}" is not configured: set ${envName(ref)} or put it in BGP_SECRETS_DIR/${ref}`);
  }
}

export const envName = (ref: string): string => `BGP_PASSWORD_${ref.toUpperCase().replaceAll('-', '_')}`;

export class Secrets {
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly dir: string | undefined,
  ) {}

  /** '' for no password; throws SecretNotFoundError for a reference that resolves to nothing (fail closed). */
  password(ref: string | null): string {
    if (ref === null) return '';
    const fromEnv = this.env[envName(ref)];
    if (fromEnv) return fromEnv;
    if (this.dir) {
      try {
        return readFileSync(join(this.dir, ref), 'utf8').trim();
      } catch {
        // not there either
      }
    }
    throw new SecretNotFoundError(ref);
  }
}
