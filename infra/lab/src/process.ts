/**
 * Child processes the lab starts (nats-server is started by @strata/testing).
 * Each is tracked by PID and killed on teardown and at process exit; nothing
 * is ever killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when a line matching `readyWhen` appears on stdout/stderr. */
  readonly ready: Promise<void>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash. */
  kill9(): Promise<void>;
  /** False once the process has exited. */
  running(): boolean;
  readonly exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export function startProcess(
  name: string,
  argv: string[],
  options: { env?: Record<string, string>; readyWhen?: RegExp; readyTimeoutMs?: number } = {},
): ManagedProcess {
  hookExit();
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => live.delete(child));
  const readyWhen = options.readyWhen ?? /"msg":"started"/;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${options.readyTimeoutMs ?? 60_000} ms:\n${out.slice(-4000)}`)), options.readyTimeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      out = (out + chunk.toString()).slice(-512 * 1024);
      if (readyWhen.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready:\n${out.slice(-4000)}`));
    });
  });
  ready.catch(() => undefined);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid!,
    ready,
    exited,
    output: () => out,
    running,
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
