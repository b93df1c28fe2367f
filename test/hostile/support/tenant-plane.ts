/**
 * The control plane as production runs it (startControlPlane: nats-server with
 * the users of infra/nats, ipam ×2, secgroup, nat and the gRPC api as real
 * processes, on free ports), driven by the real `strata` CLI over the real
 * API — with the request id the test chooses, as a client (or an attacker)
 * can — plus an admin NATS connection to count what reached the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { run } from '@strata/cli';
import { startControlPlane, type ControlPlane } from '@strata/lab';
import { freePort } from '@strata/testing';

export const EVENT_STREAM = 'STRATA_EVENTS';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface TenantPlane {
  cp: ControlPlane;
  /** Connected as the operator user `admin` (stream administration). */
  admin: NatsConnection;
  /** `strata <argv>` with a principal's token (`admin` or a tenant name), optionally with our own x-request-id. */
  cli(who: string, argv: string[], requestId?: string): Promise<CliResult>;
  /** Like `cli` with `-o json`, parsed; throws with the CLI's error text when it fails. */
  json<T>(who: string, argv: string[], requestId?: string): Promise<T>;
  /** The stream's last sequence: a command refused or answered from the record must not move it. */
  lastSeq(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTenantPlane(tenants: string[]): Promise<TenantPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-hostile-'));
  // The control plane's progress lines; kept out of the test output.
  const lines: string[] = [];
  let cp: ControlPlane | undefined;
  let admin: NatsConnection;
  try {
    cp = await startControlPlane(dir, tenants, (l) => lines.push(l), { natsPort: await freePort(), apiAddr: `127.0.0.1:${await freePort()}` });
    admin = await connect({ servers: cp.natsUrl, user: 'admin', pass: cp.passwords['admin']!, name: 'hostile-test-admin' });
  } catch (e) {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const plane = cp;
  const cli = async (who: string, argv: string[], requestId?: string): Promise<CliResult> => {
    let out = '';
    let err = '';
    const token = plane.tokens[who];
    if (token === undefined) throw new Error(`no token for ${who}`);
    const global = requestId === undefined ? [] : ['--request-id', requestId];
    const code = await run([...global, ...argv], {
      io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
      env: { STRATA_SERVER: plane.apiAddr, STRATA_TOKEN: token },
    });
    return { code, out, err };
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
    async lastSeq(): Promise<number> {
      const jsm = await admin.jetstreamManager();
      return (await jsm.streams.info(EVENT_STREAM)).state.last_seq;
    },
    async stop(): Promise<void> {
      await admin.close().catch(() => undefined);
      await plane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
