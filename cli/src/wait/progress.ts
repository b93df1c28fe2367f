/**
 * Where a wait shows how far it is: on a terminal one line updated in place
 * ("applied on 2 of 3 hosts; behind: h3 (agent applied 120 of 131)"); on a
 * pipe or file a plain line each time it changes, so logs stay readable.
 */
import type { Io } from '../output.js';

export interface Progress {
  update(line: string): void;
  /** Erases the updated line (the result or the error is printed in its place). */
  done(): void;
}

export function progressOn(io: Io): Progress {
  let last: string | undefined;
  let drawn = false;
  return {
    update(line) {
      if (line === last) return;
      last = line;
      if (io.redraw) {
        io.redraw(line);
        drawn = true;
      } else io.err(line);
    },
    done() {
      if (drawn) io.redraw?.('');
      drawn = false;
    },
  };
}
