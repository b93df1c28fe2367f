/**
 * TCP-MD5 secrets. Events name a secret (`passwordRef`), never contain it:
 * the log is kept forever, replicated and readable by every service, so a
 * password written there could never be revoked. (A hash would not help
 * either: MD5 keys are short enough to guess offline.) The gateway resolves
 * a reference from its own environment, `BGP_PASSWORD_<REF>` (upper-cased,
 * `-` → `_`), or from the file `<BGP_SECRETS_DIR>/<ref>` (a mounted secret).
 *
 * A peer group's secret is never an appliance's TCP-MD5 key: each appliance
 * gets its own, derived from the group's secret for its tenant and device id
 * (`applianceKey`), so one appliance's key says nothing about another's and
 * another tenant cannot present an appliance's key (issue 12, defect 2).
 * The operator hands an appliance its key (`strata-bgp-appliance-key`).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Neighbour } from '../domain/neighbours.js';

export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
  constructor(readonly ref: string) {
    super(`TCP-MD5 secret "${ref}" is not configured: set ${envName(ref)} or put it in BGP_SECRETS_DIR/${ref}`);
  }
}

export const envName = (ref: string): string => `BGP_PASSWORD_${ref.toUpperCase().replaceAll('-', '_')}`;

/** An appliance's TCP-MD5 key: HMAC-SHA256 of (tenant, device id) under its group's secret, 40 hex digits (TCP-MD5 keys may be 80 bytes). */
export function applianceKey(groupSecret: string, tenant: string, deviceId: string): string {
  return createHmac('sha256', groupSecret).update(`strata-bgp-appliance-md5\0${tenant}\0${deviceId}`).digest('hex').slice(0, 40);
}

export class Secrets {
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly dir: string | undefined,
  ) {}

  /** The TCP-MD5 key of a neighbour: a fabric peer's secret as configured, an appliance's derived from its group's. */
  passwordOf(n: Neighbour): string {
    const secret = this.password(n.passwordRef);
    if (n.kind !== 'appliance' || secret === '') return secret;
    return applianceKey(secret, n.tenant, n.deviceId || n.portId);
  }

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
