/**
 * Starting a packet capture: tcpdump (run directly, or inside a container)
 * is ready once it says "listening on"; until then every packet would be
 * missed. Shared by the hostile tier's loopback capture and the compose
 * lab's captures in containers' namespaces.
 */
import type { ChildProcess } from 'node:child_process';

export interface Listening {
  /** Resolves with tcpdump's (or its container's) exit code. */
  exited: Promise<number | null>;
  /** What it wrote to stderr so far (for errors). */
  stderr(): string;
}

/**
 * Resolves once `proc` (spawned with stderr piped) reports it is listening;
 * rejects when `command` cannot run or `capturer` exits first.
 */
export async function untilListening(proc: ChildProcess, command: string, capturer: string): Promise<Listening> {
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) resolve();
    });
    proc.once('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
    void exited.then((code) => reject(new Error(`${capturer} exited (${code}) before capturing: ${stderr}`)));
  });
  return { exited, stderr: () => stderr };
}
