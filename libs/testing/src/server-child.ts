/**
 * What every server a test starts as a child process needs (nats-server,
 * PostgreSQL, Keystone's uwsgi): its output kept for failure messages, the
 * exit-cleanup safety net while it runs, and a stop that does not hang.
 */
import type { ChildProcess } from 'node:child_process';
import { forgetOnExit, killOnExit } from './exit-cleanup.js';

/** Collect `proc`'s output through `append`; killed (and `dir` removed) if this process exits first. Answers whether it has exited. */
export function watchServer(proc: ChildProcess, dir: string, append: (text: string) => void): { exited(): boolean } {
  killOnExit(proc, dir);
  const onData = (chunk: Buffer): void => append(chunk.toString());
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    forgetOnExit(proc);
  });
  return { exited: () => exited };
}

/** Signal `proc` and wait for it to exit; a graceful stop that hangs is escalated to SIGKILL after 10 s. */
export async function stopChild(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const escalate = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(escalate);
}

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
