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

  it('exits 2 on security-group command lines that cannot be right, before connecting', async () => {
    const env = { STRATA_TOKEN: 't' };
    expect(await strata(['port', 'set-groups', 'p1'], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: INVALID_ARGUMENT: give one or more security groups, or --none to take the port out of every group',
    });
    expect((await strata(['port', 'set-groups', 'p1', 'g1', '--none'], env)).code).toBe(EXIT_USAGE);
    const both = await strata(['secgroup', 'rule', 'create', 'g1', '--direction', 'ingress', '--ethertype', 'IPv4', '--port', '1', '--port-range', '1-2'], env);
    expect(both).toMatchObject({ code: EXIT_USAGE, stderr: 'error: INVALID_ARGUMENT: give --port or --port-range, not both' });
    const peers = ['secgroup', 'rule', 'create', 'g1', '--direction', 'ingress', '--ethertype', 'IPv4', '--remote-group', 'g2', '--remote-cidr', '10.0.0.0/8'];
    expect((await strata(peers, env)).stderr).toBe('error: INVALID_ARGUMENT: give --remote-group or --remote-cidr, not both (neither: any peer)');
  });

  it('exits 2 with commander’s message for a missing or wrong choice', async () => {
    const env = { STRATA_TOKEN: 't' };
    const noDirection = await strata(['secgroup', 'rule', 'create', 'g1', '--ethertype', 'IPv4'], env);
    expect(noDirection.code).toBe(EXIT_USAGE);
    expect(noDirection.stderr).toMatch(/required option '--direction <direction>' not specified/);
    const lower = await strata(['secgroup', 'rule', 'create', 'g1', '--direction', 'ingress', '--ethertype', 'ipv4'], env);
    expect(lower.stderr).toMatch(/Allowed choices are IPv4, IPv6/);
    expect((await strata(['secgroup', 'rule', 'create', 'g1', '--direction', 'in', '--ethertype', 'IPv4'], env)).code).toBe(EXIT_USAGE);
    const state = await strata(['port', 'set-security', 'p1', 'yes'], env);
    expect(state.code).toBe(EXIT_USAGE);
    expect(state.stderr).toMatch(/Allowed choices are on, off/);
    expect((await strata(['secgroup', 'rule', 'create', 'g1', '--direction', 'ingress', '--ethertype', 'IPv4', '--port', 'https'], env)).stderr).toMatch(
      /--port <port>.*must be a port number from 1 to 65535/,
    );
  });
});
