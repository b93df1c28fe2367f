/**
 * Tearing down the network namespaces a test harness made, and everything
 * that runs inside them: one function for every lab, test and benchmark.
 *
 * Deleting a namespace's name does not end the namespace. Every process still
 * inside it (a DHCP server an agent started detached, on purpose; a daemon a
 * test forgot) keeps it alive, with its links and addresses, and nothing can
 * find it by name any more. So teardown stops every process inside first
 * (SIGTERM, a grace period, SIGKILL), then deletes the names.
 *
 * A namespace is identified by its inode (`stat -L -c %i /run/netns/NAME` is
 * the number in `/proc/PID/ns/net`), which a harness records when it makes
 * the namespace: that still finds the processes after the name is gone.
 * A harness may also mark the processes it starts with an environment entry
 * (`STRATA_LAB_RUN=<marker>`, inherited by everything they start), which
 * finds them in namespaces the harness never saw (one an agent made and then
 * deleted). Processes are found only by these two identities, never by name,
 * and signalled by PID, each time after checking that the PID is still one of
 * them (PIDs are reused).
 */
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The environment entry that marks a process (and its descendants) as started by one harness run. */
export const LAB_MARKER_ENV = 'STRATA_LAB_RUN';

/** What one harness made: namespaces by name and by inode, and the marker of the processes it started. */
export interface OwnedNamespaces {
  /** Namespaces to delete by name (their inodes count as owned too). */
  names: readonly string[];
  /** Inodes of namespaces the harness made, recorded at creation: found even after their names are gone. */
  inodes?: Iterable<number>;
  /** Value of `STRATA_LAB_RUN` on the processes the harness started. */
  marker?: string;
}

/** Inode of a named namespace, or null if there is no such name. */
export function namespaceInode(name: string): number | null {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return null;
  }
}

/** Names in /run/netns that start with `prefix`. */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Inode of the network namespace a process is in; null when it is gone or a zombie (which holds no namespace). */
export function netnsOfProcess(pid: number): number | null {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${LAB_MARKER_ENV}=${marker}`);
  } catch {
    return false;
  }
}

interface Identity {
  inodes: ReadonlySet<number>;
  marker: string | undefined;
}

function identity(owned: OwnedNamespaces): Identity {
  const inodes = new Set(owned.inodes ?? []);
  for (const name of owned.names) {
    const ino = namespaceInode(name);
    if (ino !== null) inodes.add(ino);
  }
  return { inodes, marker: owned.marker };
}

/** The process runs and is one of the owned ones (checked again before every signal). */
function isOwned(pid: number, id: Identity): boolean {
  if (pid === process.pid) return false;
  const ns = netnsOfProcess(pid);
  if (ns === null) return false;
  return id.inodes.has(ns) || (id.marker !== undefined && hasMarker(pid, id.marker));
}

function ownedPids(id: Identity): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => isOwned(pid, id));
}

/** Running processes inside the owned namespaces or carrying the owned marker (this process excluded). */
export function processesIn(owned: OwnedNamespaces): number[] {
  return ownedPids(identity(owned));
}

function signal(pids: number[], id: Identity, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    if (!isOwned(pid, id)) continue;
    try {
      process.kill(pid, sig);
    } catch {
      /* gone meanwhile */
    }
  }
}

async function waitGone(pids: number[], id: Identity, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter((pid) => isOwned(pid, id));
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Stop every owned process (SIGTERM, `graceMs`, SIGKILL), then delete the
 * namespaces' names. Repeats the search, since a process being stopped may
 * have started another; after the names are gone, anything still inside is
 * killed too. Resolves with the PIDs that survived even SIGKILL (normally none).
 */
export async function teardownNamespaces(owned: OwnedNamespaces, graceMs = 5_000): Promise<number[]> {
  const id = identity(owned);
  let survivors: number[] = [];
  for (let round = 0; round < 3; round++) {
    const pids = ownedPids(id);
    if (pids.length === 0) break;
    signal(pids, id, 'SIGTERM');
    const stubborn = await waitGone(pids, id, graceMs);
    signal(stubborn, id, 'SIGKILL');
    survivors = await waitGone(stubborn, id, 5_000);
  }
  for (const name of owned.names) await execFileAsync('ip', ['netns', 'del', name]).catch(() => undefined);
  const late = ownedPids(id);
  signal(late, id, 'SIGKILL');
  return [...new Set([...survivors, ...(await waitGone(late, id, 5_000))])];
}

/** The same for a `process.on('exit')` hook, which cannot wait: SIGKILL at once, then delete the names. */
export function teardownNamespacesSync(owned: OwnedNamespaces): void {
  const id = identity(owned);
  signal(ownedPids(id), id, 'SIGKILL');
  for (const name of owned.names) spawnSync('ip', ['netns', 'del', name]);
}
