/**
 * Suites that need what a machine may not give (root, network namespaces,
 * nftables): they run where it is there and are skipped where it is not, so
 * a developer without root still runs the rest. Except under CI (`CI` set,
 * not "false" or "0"): there a skipped kernel suite would let a run pass
 * that never touched a kernel, so the suite fails instead, saying what is
 * missing. This file is the one place that rule lives; specs only name what
 * they need.
 *
 * A subpath of @strata/testing (`@strata/testing/suites`) because it imports
 * vitest, which the lab's runtime image (which uses the rest of this
 * library) does not ship.
 */
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** What a suite needs; `missing` says what is not there (null: all of it is). */
export interface Requirement {
  readonly missing: string | null;
}

/** Root: what scripts/lab.sh needs to install and start the container engine (the compose lab's suite). */
export function root(): Requirement {
  const uid = process.getuid?.();
  return { missing: uid === 0 ? null : `root (running as uid ${uid ?? 'unknown'})` };
}

/** Root and a working `ip netns`, plus each extra command (argv) exiting 0, e.g. `['nft', '--version']`. */
export function kernel(...tools: readonly (readonly string[])[]): Requirement {
  const asRoot = root();
  if (asRoot.missing !== null) return asRoot;
  for (const argv of [['ip', 'netns', 'list'], ...tools]) {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    if (r.status !== 0) return { missing: `a working \`${argv.join(' ')}\` (${r.error?.message ?? `exit ${r.status ?? r.signal}`})` };
  }
  return { missing: null };
}

/** Whether this run is CI's, where nothing may be skipped for want of the machine. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

type Body = () => void | Promise<void>;

/** `describe` for a suite needing `req`: runs it when met, skips it when not, fails it under CI when not. */
export function describeIf(req: Requirement): (name: string, body: () => void) => void {
  if (req.missing === null) return (name, body) => describe(name, body);
  if (!underCi()) return (name, body) => describe.skip(name, body);
  return (name) => describe(name, () => it(`needs ${req.missing}`, () => refuse(req)));
}

/** `it` for one test needing `req`, with the same rule as describeIf. */
export function itIf(req: Requirement): (name: string, body: Body, timeout?: number) => void {
  if (req.missing === null) return (name, body, timeout) => it(name, body, timeout);
  if (!underCi()) return (name, body, timeout) => it.skip(name, body, timeout);
  return (name) => it(`${name} (needs ${req.missing})`, () => refuse(req));
}

function refuse(req: Requirement): never {
  throw new Error(`this suite needs ${req.missing}, and under CI (CI=${process.env.CI}) a suite may not be skipped for want of it: run CI as root on a machine that has it`);
}
