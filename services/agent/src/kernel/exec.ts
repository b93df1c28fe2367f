/**
 * How the agent runs programs: injectable, so managers are tested without a
 * kernel, and wrappable, so one agent process can manage another namespace
 * (`ip netns exec <ns> …`: the lab's hypervisors, the integration tests).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface SpawnOptions {
  /** Append the process's stdout and stderr to this file (default: discard). */
  logFile?: string;
}

export interface Exec {
  /** Run to completion. Never throws for a non-zero exit: look at `code`. */
  run(argv: readonly string[], input?: string): Promise<ExecResult>;
  /**
   * Run outside any `ip netns exec` wrapper: `ip netns add/del` must run in the
   * machine's own mount namespace, because `ip netns exec` gives its command a
   * private (slave) mount namespace and a namespace mounted or unmounted there
   * is never seen by anyone else ("setting the network namespace … failed:
   * Invalid argument"). Defaults to `run`.
   */
  runHost?(argv: readonly string[], input?: string): Promise<ExecResult>;
  /** Start a long-running process, detached from the agent (it survives an agent restart); returns its PID. */
  spawnDetached(argv: readonly string[], opts?: SpawnOptions): number;
  /** Start a process whose stdout the caller reads line by line (e.g. `ip monitor`); `stop` kills it by PID. */
  watch(argv: readonly string[], onLine: (line: string) => void, onExit: (code: number | null) => void): { stop(): void };
  /** Like `watch`, and the caller writes to its stdin (a long-lived worker, e.g. kernel/nft-worker.ts). Optional. */
  interact?(argv: readonly string[], onLine: (line: string) => void, onExit: (code: number | null) => void): { write(text: string): void; stop(): void };
}

export class ExecError extends Error {
  override readonly name = 'ExecError';
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
    readonly input?: string,
  ) {
    super(`${argv.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Run and throw ExecError on a non-zero exit. */
export async function runOk(exec: Exec, argv: readonly string[], input?: string, host = false): Promise<string> {
  const r = host && exec.runHost ? await exec.runHost(argv, input) : await exec.run(argv, input);
  if (r.code !== 0) throw new ExecError(argv, r, input);
  return r.stdout;
}

export const nodeExec: Exec = {
  run(argv, input) {
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (err) => resolve({ stdout, stderr: `${stderr}${err.message}`, code: 127 }));
      child.on('close', (code, signal) => resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  },
  spawnDetached(argv, opts = {}) {
    const fd = opts.logFile === undefined ? 'ignore' : openSync(opts.logFile, 'a');
    try {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], detached: true });
      child.on('error', () => undefined);
      child.unref();
      if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
      return child.pid;
    } finally {
      if (typeof fd === 'number') closeSync(fd);
    }
  },
  watch(argv, onLine, onExit) {
    return lineProcess(argv, false, onLine, onExit);
  },
  interact(argv, onLine, onExit) {
    return lineProcess(argv, true, onLine, onExit);
  },
};

/** A child whose stdout is read line by line; with `stdin`, the caller may write to it. Stopped by PID. */
function lineProcess(argv: readonly string[], stdin: boolean, onLine: (line: string) => void, onExit: (code: number | null) => void): { write(text: string): void; stop(): void } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  child.stdin?.on('error', () => undefined);
  child.on('error', () => undefined);
  child.on('close', (code) => onExit(code));
  return {
    write: (text) => {
      if (!child.stdin || child.stdin.destroyed) throw new Error(`${argv[0]} is not running`);
      child.stdin.write(text);
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    },
  };
}

/** Every command runs inside network namespace `ns` (`ip netns exec ns …`). */
export function inNetns(base: Exec, ns: string): Exec {
  const wrap = (argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  return {
    run: (argv, input) => base.run(wrap(argv), input),
    runHost: (argv, input) => (base.runHost ?? base.run).call(base, argv, input),
    spawnDetached: (argv, opts) => base.spawnDetached(wrap(argv), opts),
    watch: (argv, onLine, onExit) => base.watch(wrap(argv), onLine, onExit),
    ...(base.interact ? { interact: (argv: readonly string[], onLine: (line: string) => void, onExit: (code: number | null) => void) => base.interact!(wrap(argv), onLine, onExit) } : {}),
  };
}
