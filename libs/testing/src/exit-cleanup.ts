/**
 * Safety net for the servers tests start (nats-server, PostgreSQL): a
 * failing or aborted test file must not leave a server or its directory
 * behind. 'exit' handlers must be synchronous, hence SIGKILL and rmSync.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const live = new Map<ChildProcess, string>();
let installed = false;

/** Kill `child` and remove `dir` if this process exits while the child still runs. */
export function killOnExit(child: ChildProcess, dir: string): void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const [c, d] of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          /* already gone */
        }
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
  live.set(child, dir);
}

/** The child ended (or was stopped) and its directory is gone: nothing left to do at exit. */
export function forgetOnExit(child: ChildProcess): void {
  live.delete(child);
}
