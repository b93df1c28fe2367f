/**
 * IPAM as a child process for benchmarks (its typed client is the lab's
 * IpamClient, re-exported here). Adapted from test/support/ipam.ts (which
 * lives in the test workspace, is not compiled, and locates IPAM relative to its own source
 * file). Differences: IPAM's main.js is found through the @strata/ipam
 * package, every JSON log line is kept with the time it arrived (cold-start
 * timing), and stop() escalates to SIGKILL after a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureHarnessCommandKeys } from '@strata/runtime';

export { ADMIN, IpamClient, type Principal } from '@strata/lab';

// @strata/ipam's entry is dist/index.js; the service binary is its sibling dist/main.js.
const IPAM_MAIN = fileURLToPath(new URL('./main.js', import.meta.resolve('@strata/ipam')));

export interface LogLine {
  /** performance.now() in the bench process when the line arrived. */
  at: number;
  msg: string;
  fields: Record<string, unknown>;
}

export interface IpamProcess {
  readonly pid: number;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;
  /** Resolves with the log line `"msg":"started"`; rejects if the process exits first. */
  ready: Promise<LogLine>;
  /** Resolves with the first log line whose msg is `msg` (bounded by timeoutMs). */
  waitForLog(msg: string, timeoutMs: number): Promise<LogLine>;
  lines(): readonly LogLine[];
  /** SIGTERM, wait up to graceMs for exit, then SIGKILL. Resolves with the exit time (performance.now()). */
  stop(graceMs?: number): Promise<number>;
  kill9(): Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** `unset`: variables of this process's environment the child must not inherit (so IPAM uses its default). */
// The IPAM processes this bench spawns inherit the verify key; its client signs with the private key.
ensureHarnessCommandKeys();

export function startIpam(natsUrl: string, env: Record<string, string> = {}, nodeArgs: string[] = [], unset: string[] = []): IpamProcess {
  const spawnedAt = performance.now();
  const childEnv: Record<string, string | undefined> = { ...process.env, NATS_URL: natsUrl, STRATA_LOG_LEVEL: 'info', STRATA_HTTP_PORT: '0', STRATA_HTTP_HOST: '127.0.0.1', ...env };
  for (const k of unset) delete childEnv[k];
  const child = spawn(process.execPath, [...nodeArgs, IPAM_MAIN], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  let partial = '';
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exitedFlag = true;
      live.delete(child);
      resolve();
      for (const l of listeners) l();
    }),
  );
  const onData = (chunk: Buffer): void => {
    const at = performance.now();
    const text = chunk.toString();
    tail = (tail + text).slice(-256 * 1024);
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        const fields = JSON.parse(line) as Record<string, unknown>;
        if (typeof fields['msg'] === 'string') lines.push({ at, msg: fields['msg'], fields });
      } catch {
        /* not a JSON log line */
      }
    }
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const waitForLog = (msg: string, timeoutMs: number): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.find((l) => l.msg === msg);
        if (hit) return done(() => resolve(hit));
        if (exitedFlag) return done(() => reject(new Error(`ipam ${child.pid} exited before logging "${msg}":\n${tail.slice(-4000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`ipam ${child.pid}: no "${msg}" within ${timeoutMs} ms:\n${tail.slice(-4000)}`))), timeoutMs);
      const done = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });

  const ready = waitForLog('started', 30 * 60_000);
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    spawnedAt,
    ready,
    waitForLog,
    lines: () => lines,
    output: () => tail,
    async stop(graceMs = 120_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(escalate);
      return performance.now();
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
