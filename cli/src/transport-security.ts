/**
 * How the CLI protects its connection to the API (docs/architecture.md,
 * "TLS"). TLS is the default and the server is always verified: against
 * `--ca`/STRATA_CA when given, the system's roots otherwise; there is no
 * option to skip verification. `--cert`/`--key` (STRATA_CERT/STRATA_KEY)
 * present a client certificate to an API that requires mutual TLS.
 * Plaintext only when asked for by name (`--plaintext`/STRATA_PLAINTEXT=1):
 * the bearer token then crosses the connection in clear, which is for a
 * loopback API or a lab and is why it is never a fallback.
 */
import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { UsageError } from './errors.js';

export interface TransportOptions {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  plaintext?: boolean | undefined;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(err as Error).message}`);
  }
}

export function channelCredentials(o: TransportOptions): ChannelCredentials {
  if (o.plaintext) {
    if (o.ca !== undefined || o.cert !== undefined || o.key !== undefined) {
      throw new UsageError('--plaintext (STRATA_PLAINTEXT) cannot be combined with --ca, --cert or --key');
    }
    return credentials.createInsecure();
  }
  if ((o.cert === undefined) !== (o.key === undefined)) {
    throw new UsageError('a client certificate needs both --cert (STRATA_CERT) and --key (STRATA_KEY)');
  }
  const ca = o.ca === undefined ? null : readPem('CA certificate (--ca, STRATA_CA)', o.ca);
  const key = o.key === undefined ? null : readPem('client key (--key, STRATA_KEY)', o.key);
  const cert = o.cert === undefined ? null : readPem('client certificate (--cert, STRATA_CERT)', o.cert);
  return credentials.createSsl(ca, key, cert);
}

/** STRATA_PLAINTEXT: 1/true/yes turn it on; anything else that is set is a usage error rather than silently ignored. */
export function plaintextFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new UsageError(`STRATA_PLAINTEXT=${JSON.stringify(value)}: expected 1 or 0`);
}
