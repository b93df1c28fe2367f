import { describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from './errors.js';
import { run } from './run.js';

async function strata(argv: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(argv, { io: { out: (s) => stdout.push(s), err: (s) => stderr.push(s) }, env });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

// None of these reach a server: they fail (or finish) before connecting.
describe('strata usage', () => {
  it('prints help with the exit codes and exits 0', async () => {
    const r = await strata(['--help']);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toMatch(/Usage: strata/);
    expect(r.stdout).toMatch(/Exit codes:/);
  });

  it('exits 2 on an unknown option or a bad option value', async () => {
    expect((await strata(['network', 'list', '--bogus'])).code).toBe(EXIT_USAGE);
    const r = await strata(['network', 'list', '--limit', 'ten'], { STRATA_TOKEN: 't' });
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/--limit.*must be a positive integer/);
    expect((await strata(['-o', 'yaml', 'network', 'list'])).code).toBe(EXIT_USAGE);
  });

  it('exits 2 without a token, saying how to give one', async () => {
    const r = await strata(['network', 'list']);
    expect(r).toMatchObject({ code: EXIT_USAGE, stderr: 'error: INVALID_ARGUMENT: no API token: pass --token or set STRATA_TOKEN' });
  });

  it('exits 2 when options contradict each other', async () => {
    const r = await strata(['port', 'bind', 'p1'], { STRATA_TOKEN: 't' });
    expect(r).toMatchObject({ code: EXIT_USAGE, stderr: 'error: INVALID_ARGUMENT: give exactly one of --host <host> or --unbind' });
  });
});
