/**
 * `ip monitor link`: tells the agent when a link appears or disappears, so a
 * VM's tap is plugged as soon as the hypervisor creates it instead of at the
 * next periodic resync. Restarted if it exits; stopped by PID.
 */
import type { Exec } from './exec.js';

export interface LinkMonitor {
  stop(): void;
}

/** Parse `ip -o monitor link` output: `5: tap1234: <…>` or `Deleted 5: tap1234: <…>`. */
export function parseMonitorLine(line: string): { name: string; deleted: boolean } | null {
  const m = /^(Deleted )?\d+: ([^:@\s]+)[@:]/.exec(line.trim());
  return m ? { name: m[2]!, deleted: m[1] !== undefined } : null;
}

/**
 * `onRestart`: the monitor exited and runs again; links may have come and
 * gone meanwhile unseen.
 */
export function startLinkMonitor(exec: Exec, onLink: (name: string, deleted: boolean) => void, o: { restartMs?: number; onRestart?: () => void } = {}): LinkMonitor {
  const restartMs = o.restartMs ?? 1_000;
  let stopped = false;
  let handle: { stop(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const start = (): void => {
    handle = exec.watch(
      ['ip', '-o', 'monitor', 'link'],
      (line) => {
        const p = parseMonitorLine(line);
        if (p) onLink(p.name, p.deleted);
      },
      () => {
        if (!stopped)
          timer = setTimeout(() => {
            start();
            o.onRestart?.();
          }, restartMs);
      },
    );
  };
  start();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      handle?.stop();
    },
  };
}
