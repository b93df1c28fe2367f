/**
 * A throwaway PostgreSQL cluster from Debian's packages (postgresql 15):
 * initdb into a temporary directory, the server on a free loopback port with
 * its unix socket in that directory, stopped and removed by stop() — and by
 * an exit hook if the test process ends without calling it.
 *
 * PostgreSQL refuses to run as root ("root execution of the PostgreSQL
 * server is not permitted"): when the tests run as root (CI, the dev
 * machines), initdb and postgres run as the `postgres` user the Debian
 * package creates, in a directory handed to that user.
 *
 * fsync is off: the tests crash clients of the database, never the database
 * itself, and a durable commit costs a disk flush per transaction on a
 * shared 2-core machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onFreePort } from './free-port.js';
import { stopChild, watchServer } from './server-child.js';

const run = promisify(execFile);

export interface PostgresOptions {
  /** Directory of initdb, postgres and pg_isready; default $PG_BIN, then Debian's /usr/lib/postgresql/15/bin. */
  binDir?: string;
  /** How long to wait for the server to accept connections (default 30 s). */
  startTimeoutMs?: number;
}

export interface PostgresHandle {
  /** `postgres://strata@127.0.0.1:<port>/strata` (trust authentication on loopback). */
  url: string;
  port: number;
  /** Database superuser (trust authentication). */
  user: string;
  /** The database created for the caller. */
  database: string;
  /** URL of another database of this cluster, created with createDatabase(). */
  urlOf(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** PID of the postmaster while it runs. */
  readonly pid: number | undefined;
  /** Fast shutdown, then remove the cluster's directory. Idempotent. */
  stop(): Promise<void>;
  /** The last few KiB of the server's output, for failure messages. */
  logs(): string;
}

const LOG_LIMIT = 64 * 1024;
const USER = 'strata';
const DATABASE = 'strata';

function resolveBinDir(explicit?: string): string {
  const dir = explicit ?? process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
  if (!existsSync(join(dir, 'postgres'))) {
    throw new Error(`no PostgreSQL server in ${dir} (install Debian's postgresql, or set PG_BIN to the directory of initdb and postgres)`);
  }
  return dir;
}

/** The uid/gid to run the server as: ourselves, or `postgres` when we are root. */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string): Promise<number> => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (install Debian\'s postgresql)');
  }
}

/** Start a fresh PostgreSQL cluster with a database `strata` owned by superuser `strata`. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  const bin = resolveBinDir(opts.binDir);
  const identity = await serverIdentity();
  const baseDir = mkdtempSync(join(tmpdir(), 'strata-pg-'));
  if (identity) chownSync(baseDir, identity.uid, identity.gid);
  const dataDir = join(baseDir, 'data');
  const spawnAs = identity ? { uid: identity.uid, gid: identity.gid } : {};
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let stopped = false;

  const terminate = (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    return stopChild(proc, signal);
  };

  const launch = async (p: number): Promise<void> => {
    const args = ['-D', dataDir, '-p', String(p), '-k', baseDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
    const proc = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnAs });
    child = proc;
    const server = watchServer(proc, baseDir, (text) => (log = (log + text).slice(-LOG_LIMIT)));
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    for (;;) {
      if (server.exited()) throw new PostgresExited(log);
      const ready = await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(p), '-U', USER, '-d', 'postgres']).then(
        () => true,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${opts.startTimeoutMs ?? 30_000} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const psql = async (sql: string): Promise<void> => {
    await run(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', 'postgres', '-c', sql]).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`psql ${JSON.stringify(sql)} failed: ${err.stderr ?? err.message}`);
    });
  };

  try {
    await run(join(bin, 'initdb'), ['-D', dataDir, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], spawnAs).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`initdb failed: ${err.stderr ?? err.message}`);
    });
    port = await onFreePort(launch, () => terminate('SIGKILL'), (err) => err instanceof PostgresExited && /could not bind|already in use/i.test(err.logs));
    await psql(`CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    await terminate('SIGKILL');
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }

  const urlOf = (database: string): string => `postgres://${USER}@127.0.0.1:${port}/${database}`;
  return {
    url: urlOf(DATABASE),
    port,
    user: USER,
    database: DATABASE,
    urlOf,
    createDatabase: (name) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${JSON.stringify(name)}`);
      return psql(`CREATE DATABASE ${name}`);
    },
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // SIGINT: fast shutdown (sessions are ended, no waiting for clients to leave).
      await terminate('SIGINT');
      rmSync(baseDir, { recursive: true, force: true });
    },
    logs: () => log,
  };
}

class PostgresExited extends Error {
  constructor(readonly logs: string) {
    super(`postgres exited during startup:\n${logs}`);
  }
}
