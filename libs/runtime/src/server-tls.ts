/**
 * A server's TLS settings (docs/architecture.md, "TLS"), one shape for the
 * gRPC API (`STRATA_API_TLS_*`) and the Neutron REST service
 * (`STRATA_NEUTRON_TLS_*`): `<prefix>_CERT`/`<prefix>_KEY` serve over TLS;
 * `<prefix>_CLIENT_CA` adds mutual TLS: a client without a certificate of
 * that CA is refused during the handshake, before any request (or bearer
 * token) is read. The files are read at start-up, so a wrong path is a
 * configuration error naming the variable, not a failure at the first
 * connection.
 */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { ConfigError, type ConfigProblem } from './config.js';

/** A server's TLS files by variable: `<prefix>_CERT`, `<prefix>_KEY`, `<prefix>_CLIENT_CA`. */
export function serverTlsOptions(prefix: string, env: Readonly<Record<string, unknown>>): TlsOptions | undefined {
  const [certVar, keyVar, clientCaVar] = [`${prefix}_CERT`, `${prefix}_KEY`, `${prefix}_CLIENT_CA`];
  const problems: ConfigProblem[] = [];
  const read = (variable: string): string | undefined => {
    const path = env[variable];
    if (typeof path !== 'string' || path === '') return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ variable, problem: `cannot read ${path}: ${(err as Error).message}` });
      return undefined;
    }
  };
  const set = (v: string): boolean => typeof env[v] === 'string' && env[v] !== '';
  if (set(certVar) !== set(keyVar)) problems.push({ variable: set(certVar) ? keyVar : certVar, problem: `missing (TLS needs both ${certVar} and ${keyVar})` });
  if (set(clientCaVar) && !set(certVar)) problems.push({ variable: certVar, problem: `missing (${clientCaVar} is mutual TLS, which needs the server's own certificate)` });
  const cert = read(certVar);
  const key = read(keyVar);
  const clientCa = read(clientCaVar);
  if (problems.length > 0) throw new ConfigError(problems);
  if (cert === undefined || key === undefined) return undefined;
  return {
    cert,
    key,
    minVersion: 'TLSv1.2',
    ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
  };
}
