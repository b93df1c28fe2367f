/**
 * The crash tests' hook: with probability `p`, after a commit and before
 * the acknowledgements, say so on stderr (the test counts these lines) and
 * kill -9 this process. Nothing runs between the commit and the kill, so
 * every such death is exactly the case "committed, not acknowledged".
 */
import { writeSync } from 'node:fs';
import type { AppliedBatch } from './apply.js';

export const CRASH_MARKER = 'pg-projector: crash after commit at';

export function crashAfterCommit(p: number): (b: AppliedBatch) => void {
  return (b) => {
    if (b.applied === 0 || Math.random() >= p) return;
    writeSync(2, `${CRASH_MARKER} ${b.lastSeq}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
