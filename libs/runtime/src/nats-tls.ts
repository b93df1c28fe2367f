/**
 * TLS of a process's NATS connections (docs/architecture.md, "TLS"):
 * NATS_TLS_CA is the CA the server's certificate must chain to (the
 * connection then requires TLS: a server that does not offer it is refused,
 * so a password never goes out in clear text); NATS_TLS_CERT/NATS_TLS_KEY a
 * client certificate for servers that verify clients. A `tls://` URL
 * without NATS_TLS_CA is a configuration error rather than a silent
 * fallback to the system roots, which a private CA is never in.
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'nats';
import { ConfigError, type ConfigProblem } from './config.js';

export interface NatsTlsSettings {
  NATS_URL: string;
  NATS_TLS_CA?: string | undefined;
  NATS_TLS_CERT?: string | undefined;
  NATS_TLS_KEY?: string | undefined;
}

/** The nats.js `tls` option for these settings; undefined when TLS is not configured. Every problem is reported at once. */
export function natsTlsOptions(s: NatsTlsSettings): TlsOptions | undefined {
  const problems: ConfigProblem[] = [];
  const read = (variable: keyof NatsTlsSettings): string | undefined => {
    const path = s[variable];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ variable, problem: `cannot read ${path}: ${(err as Error).message}` });
      return undefined;
    }
  };
  const wantsTls = s.NATS_URL.split(',').some((u) => u.trim().toLowerCase().startsWith('tls://'));
  if (wantsTls && s.NATS_TLS_CA === undefined) problems.push({ variable: 'NATS_TLS_CA', problem: 'missing (NATS_URL has a tls:// server)' });
  if ((s.NATS_TLS_CERT === undefined) !== (s.NATS_TLS_KEY === undefined)) {
    const missing = s.NATS_TLS_CERT === undefined ? 'NATS_TLS_CERT' : 'NATS_TLS_KEY';
    problems.push({ variable: missing, problem: 'missing (a client certificate needs both NATS_TLS_CERT and NATS_TLS_KEY)' });
  }
  if (s.NATS_TLS_CA === undefined && s.NATS_TLS_CERT !== undefined) {
    problems.push({ variable: 'NATS_TLS_CA', problem: 'missing (a client certificate is only sent over TLS, which needs the CA to verify the server)' });
  }
  const ca = read('NATS_TLS_CA');
  const cert = read('NATS_TLS_CERT');
  const key = read('NATS_TLS_KEY');
  if (problems.length > 0) throw new ConfigError(problems);
  if (ca === undefined) return undefined;
  return { ca, ...(cert !== undefined && key !== undefined ? { cert, key } : {}) };
}
