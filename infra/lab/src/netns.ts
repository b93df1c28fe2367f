/**
 * Network namespaces the lab creates. Every name starts with the lab's
 * per-run prefix; `deleteAll(prefix)` removes them all, which is what
 * teardown (and the exit hook) calls, so a failed run leaves nothing behind.
 */
import { readdirSync } from 'node:fs';
import { sh, succeeds } from './sh.js';

export class Netns {
  constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await sh(['ip', 'netns', 'add', name]);
    await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return new Netns(name);
  }

  /** Run argv inside the namespace. */
  exec(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    return sh(['ip', 'netns', 'exec', this.name, ...argv], options);
  }

  ok(argv: string[], timeoutMs?: number): Promise<boolean> {
    return succeeds(['ip', 'netns', 'exec', this.name, ...argv], timeoutMs);
  }

  /** `ip -n <ns> ...` */
  ip(args: string[]): Promise<string> {
    return sh(['ip', '-n', this.name, ...args]);
  }

  async delete(): Promise<void> {
    await sh(['ip', 'netns', 'del', this.name]).catch(() => undefined);
  }
}

/** Names of existing namespaces that start with `prefix`. */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

export async function deleteAll(prefix: string): Promise<void> {
  for (const name of namespacesWithPrefix(prefix)) await sh(['ip', 'netns', 'del', name]).catch(() => undefined);
}
