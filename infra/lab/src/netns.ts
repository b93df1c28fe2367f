/**
 * Network namespaces the lab creates. Every name starts with the lab's
 * per-run prefix. Each namespace's inode is recorded when it is made, so
 * teardown finds the processes inside even after its name is gone;
 * `deleteAll(prefix)` stops every process in them (and, given the lab's
 * marker, every process the lab's processes started) and then deletes them:
 * teardown, and the exit hook after a failed run, call it. The mechanism is
 * @strata/testing's `teardownNamespaces`, shared by every harness.
 */
import { namespaceInode, namespacesWithPrefix, teardownNamespaces, teardownNamespacesSync, type OwnedNamespaces } from '@strata/testing';
import { sh, succeeds } from './sh.js';

/** Name → inode of every namespace this process made and has not deleted yet. */
const made = new Map<string, number>();

export class Netns {
  constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await sh(['ip', 'netns', 'add', name]);
    const inode = namespaceInode(name);
    if (inode !== null) made.set(name, inode);
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

  /** Stop every process inside, then delete the namespace. */
  async delete(): Promise<void> {
    await teardownNamespaces(owned([this.name], (n) => n === this.name));
  }
}

export { namespacesWithPrefix };

/**
 * What the lab with `prefix` owns: the namespaces named with it now, those it
 * made (by inode, even if renamed or deleted meanwhile), and the processes
 * marked with `marker`.
 */
function owned(names: string[], mine: (name: string) => boolean, marker?: string): OwnedNamespaces {
  const inodes: number[] = [];
  for (const [name, inode] of made) {
    if (!mine(name)) continue;
    inodes.push(inode);
    made.delete(name);
  }
  return { names, inodes, ...(marker === undefined ? {} : { marker }) };
}

/** Stop every process in the namespaces of `prefix` (and every process carrying `marker`), then delete them. Resolves with survivors of SIGKILL. */
export function deleteAll(prefix: string, marker?: string): Promise<number[]> {
  return teardownNamespaces(owned(namespacesWithPrefix(prefix), (n) => n.startsWith(prefix), marker));
}

/** deleteAll for exit hooks: SIGKILL, no waiting. */
export function deleteAllSync(prefix: string, marker?: string): void {
  teardownNamespacesSync(owned(namespacesWithPrefix(prefix), (n) => n.startsWith(prefix), marker));
}
