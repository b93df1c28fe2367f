import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { describeIf, kernel } from './suites.js';
import { LAB_MARKER_ENV, namespaceInode, netnsOfProcess, processesIn, teardownNamespaces } from './namespaces.js';
import { waitFor } from './wait-for.js';

const d = describeIf(kernel());

d('teardownNamespaces', () => {
  const prefix = `stt${randomBytes(3).toString('hex')}-`;
  const children: ChildProcess[] = [];

  const add = (name: string): number => {
    expect(spawnSync('ip', ['netns', 'add', `${prefix}${name}`]).status).toBe(0);
    return namespaceInode(`${prefix}${name}`)!;
  };
  /** A detached process, as an agent starts dnsmasq: not our child's child, reparented when its starter goes. */
  const start = (argv: string[], env: Record<string, string> = {}): number => {
    const c = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
    c.unref();
    children.push(c);
    return c.pid!;
  };
  const running = (pid: number): boolean => netnsOfProcess(pid) !== null;

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const n of (spawnSync('ip', ['netns', 'list']).stdout?.toString() ?? '').split('\n')) {
      const name = n.split(' ')[0]!;
      if (name.startsWith(prefix)) spawnSync('ip', ['netns', 'del', name]);
    }
  });

  it('stops the processes inside before deleting the names, and only those', async () => {
    const inode = add('a');
    const inside = start(['ip', 'netns', 'exec', `${prefix}a`, 'sleep', '600']);
    // Ignores SIGTERM: must get SIGKILL after the grace period.
    const stubborn = start(['ip', 'netns', 'exec', `${prefix}a`, 'sh', '-c', "trap '' TERM; while :; do sleep 1; done"]);
    const outside = start(['sleep', '600']);
    await waitFor(() => netnsOfProcess(inside) === inode && netnsOfProcess(stubborn) === inode, { message: 'processes in the namespace' });
    // (and the shell's `sleep 1`, when it runs)
    expect(processesIn({ names: [`${prefix}a`] })).toEqual(expect.arrayContaining([inside, stubborn]));
    expect(processesIn({ names: [`${prefix}a`] })).not.toContain(outside);

    expect(await teardownNamespaces({ names: [`${prefix}a`] }, 200)).toEqual([]);
    expect(running(inside)).toBe(false);
    expect(running(stubborn)).toBe(false);
    expect(running(outside)).toBe(true);
    expect(namespaceInode(`${prefix}a`)).toBeNull();
  });

  it('finds processes by the recorded inode after the name is gone, and by marker wherever they run', async () => {
    const inode = add('b');
    const hidden = start(['ip', 'netns', 'exec', `${prefix}b`, 'sleep', '600']);
    await waitFor(() => netnsOfProcess(hidden) === inode, { message: 'process in the namespace' });
    // The name goes while the process still holds the namespace: what a crashed run leaves behind.
    expect(spawnSync('ip', ['netns', 'del', `${prefix}b`]).status).toBe(0);
    const marker = randomBytes(4).toString('hex');
    const marked = start(['sleep', '600'], { [LAB_MARKER_ENV]: marker });
    const otherMarker = start(['sleep', '600'], { [LAB_MARKER_ENV]: `${marker}x` });
    await waitFor(() => running(marked) && running(otherMarker), { message: 'marked processes' });

    expect(processesIn({ names: [`${prefix}b`] })).toEqual([]);
    expect(await teardownNamespaces({ names: [], inodes: [inode], marker }, 1_000)).toEqual([]);
    expect(running(hidden)).toBe(false);
    expect(running(marked)).toBe(false);
    expect(running(otherMarker)).toBe(true);
  });
});
