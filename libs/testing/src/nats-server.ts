import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './free-port.js';
import { stopChild, watchServer } from './server-child.js';

export interface NatsServerOptions {
  /**
   * Extra configuration text (accounts, users, permissions...). When given,
   * the server runs from a generated config file: `listen` and `jetstream`
   * are written for you, so don't repeat them. Accounts that need JetStream
   * must say `jetstream: enabled` themselves.
   */
  config?: string;
  /** nats-server binary; default $NATS_SERVER_BIN, then `nats-server` on PATH, then /usr/sbin/nats-server. */
  binary?: string;
  /** How long to wait for the server to accept connections (default 15 s). */
  startTimeoutMs?: number;
  /** Extra environment of the server process (e.g. the password variables a config refers to). */
  env?: Record<string, string>;
  /** Listen on this port instead of a free one (a port in use is then an error). */
  port?: number;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  /** JetStream store directory; kept across restart() and kill9(), removed by stop(). */
  storeDir: string;
  /** PID of the running process, undefined while stopped. */
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM), then delete the store. Idempotent. */
  stop(): Promise<void>;
  /** Crash the server (SIGKILL), keeping the store; call restart() or stop() afterwards. */
  kill9(): Promise<void>;
  /** Stop the server gracefully (SIGTERM), keeping the store; call restart() or stop() afterwards. */
  halt(): Promise<void>;
  /** Stop the server if it runs (gracefully) and start it again on the same port and store. */
  restart(): Promise<void>;
  /** The last few KiB of the server's output, for failure messages. */
  logs(): string;
}

const LOG_LIMIT = 64 * 1024;

function resolveBinary(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env['NATS_SERVER_BIN']) return process.env['NATS_SERVER_BIN'];
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return '/usr/sbin/nats-server';
}

/** Start a real nats-server with JetStream on a free loopback port. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = resolveBinary(opts.binary);
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const baseDir = mkdtempSync(join(tmpdir(), 'strata-nats-'));
  const storeDir = join(baseDir, 'store');
  await mkdir(storeDir);

  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  let stopped = false;

  const argsFor = (p: number): string[] => {
    if (opts.config === undefined) return ['-a', '127.0.0.1', '-p', String(p), '-js', '-sd', storeDir];
    const confPath = join(baseDir, 'server.conf');
    writeFileSync(
      confPath,
      `listen: "127.0.0.1:${p}"\njetstream { store_dir: ${JSON.stringify(storeDir)} }\n${opts.config}\n`,
    );
    return ['-c', confPath];
  };

  const launch = async (p: number): Promise<void> => {
    const proc = spawn(binary, argsFor(p), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    child = proc;
    const server = watchServer(proc, baseDir, (text) => (log = (log + text).slice(-LOG_LIMIT)));
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    await waitUntilAccepting(`nats://127.0.0.1:${p}`, timeoutMs, () => {
      if (spawnError) throw new Error(`cannot run ${binary}: ${spawnError.message}`);
      if (server.exited()) throw new ServerExited(log);
    });
  };

  const start = async (reusePort: boolean): Promise<void> => {
    // A free port can be taken between freePort() and the bind: retry a few times.
    for (let attempt = 0; ; attempt++) {
      if (!reusePort) port = opts.port ?? (await freePort());
      try {
        await launch(port);
        return;
      } catch (err) {
        if (err instanceof ServerExited && /address already in use/i.test(err.logs) && !reusePort && opts.port === undefined && attempt < 5) continue;
        await terminate('SIGKILL');
        throw err;
      }
    }
  };

  const terminate = (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    // A graceful stop that hangs is escalated rather than waited on forever.
    return stopChild(proc, signal);
  };

  try {
    await start(false);
  } catch (err) {
    rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }

  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      rmSync(baseDir, { recursive: true, force: true });
    },
    async kill9() {
      await terminate('SIGKILL');
    },
    async halt() {
      await terminate('SIGTERM');
    },
    async restart() {
      if (stopped) throw new Error('nats-server was stopped; start a new one');
      await terminate('SIGTERM');
      await start(true);
    },
    logs: () => log,
  };
}

class ServerExited extends Error {
  constructor(readonly logs: string) {
    super(`nats-server exited during startup:\n${logs}`);
  }
}

/** Poll with real connection attempts until the server answers (an auth rejection counts: it is up). */
async function waitUntilAccepting(url: string, timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    check();
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
      await nc.close();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'AUTHORIZATION_VIOLATION') return;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`nats-server at ${url} did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
