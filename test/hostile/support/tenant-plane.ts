/**
 * The hostile control plane (control-plane.ts) seen by a tenant: the real
 * `strata` CLI over the real API with a principal's token and the request id
 * the test chooses, as a client (or an attacker) can, plus the operator's
 * NATS connection to read and administer the event log.
 */
import type { NatsConnection } from 'nats';
import { expect } from 'vitest';
import type { ControlPlane } from '@strata/lab';
import { startHostileControlPlane, type HostileControlPlane, type HostileOptions } from './control-plane.js';

export { EVENTS as EVENT_STREAM } from './control-plane.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface TenantPlane {
  cp: HostileControlPlane;
  /** Connected as the operator user `admin` (stream administration). */
  admin: NatsConnection;
  /** `strata <argv>` with a principal's token (`admin` or a tenant name), optionally with our own x-request-id. */
  cli(who: string, argv: string[], requestId?: string): Promise<CliResult>;
  /** Like `cli` with `-o json`, parsed; throws with the CLI's error text when it fails. */
  json<T>(who: string, argv: string[], requestId?: string): Promise<T>;
  /** The stream's last sequence: a command refused or answered from the record must not move it. */
  lastSeq(): Promise<number>;
  /** `strata <argv>` as `who` fails with an error containing `message`, and writes no event. */
  expectRefused(who: string, argv: string[], message: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startTenantPlane(tenants: string[], options: HostileOptions = {}): Promise<TenantPlane> {
  const plane = await startHostileControlPlane(tenants, options);
  let admin: NatsConnection;
  try {
    admin = await plane.connectAs('admin');
  } catch (e) {
    await plane.destroy();
    throw e;
  }
  const cli = async (who: string, argv: string[], requestId?: string): Promise<CliResult> => {
    const token = plane.tokens[who];
    if (token === undefined) throw new Error(`no token for ${who}`);
    return plane.cli.cli(token, requestId === undefined ? argv : ['--request-id', requestId, ...argv]);
  };
  return {
    cp: plane,
    admin,
    cli,
    async json<T>(who: string, argv: string[], requestId?: string): Promise<T> {
      const r = await cli(who, [...argv, '-o', 'json'], requestId);
      if (r.code !== 0) throw new Error(`strata ${argv.join(' ')} exited ${r.code}: ${r.err.trim()}`);
      return JSON.parse(r.out) as T;
    },
    lastSeq: () => plane.lastSeq(),
    async expectRefused(who: string, argv: string[], message: string): Promise<void> {
      const seq = await plane.lastSeq();
      const r = await cli(who, argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.err, argv.join(' ')).toContain(message);
      expect(await plane.lastSeq(), `${argv.join(' ')} wrote an event`).toBe(seq);
    },
    stop: () => plane.destroy(),
  };
}
