/**
 * The skip rule of suites.ts, in a real vitest run of a fixture whose kernel
 * suite cannot run: skipped (the run passes) outside CI, failed under CI.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const VITEST = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));

function runFixture(ci: string | undefined): { status: number | null; out: string } {
  const env = { ...process.env };
  delete env.CI;
  delete env.FORCE_COLOR;
  env.NO_COLOR = '1';
  if (ci !== undefined) env.CI = ci;
  const r = spawnSync(process.execPath, [VITEST, 'run', '--root', FIXTURES, '--reporter', 'verbose'], { env, encoding: 'utf8', timeout: 100_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('a kernel suite that cannot run', () => {
  it('is skipped outside CI, and the run passes', () => {
    const r = runFixture(undefined);
    expect(r.out).toMatch(/1 passed \| 2 skipped/);
    expect(r.status).toBe(0);
  });

  it('fails the run under CI=true, saying what it needs', () => {
    const r = runFixture('true');
    expect(r.out).toContain('needs a requirement this machine lacks');
    expect(r.out).toMatch(/2 failed \| 1 passed/);
    expect(r.status).not.toBe(0);
  });
});
