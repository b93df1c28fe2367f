/** The README's demo runs to the end (on free ports, so it cannot collide with a running one). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '@strata/testing';

const DEMO = fileURLToPath(new URL('../../infra/lab/dist/demo/main.js', import.meta.url));

describe('scripts/demo.sh', () => {
  it('starts the control plane, runs every step and stops cleanly', async () => {
    const env = {
      ...process.env,
      STRATA_DEMO_EXIT: '1',
      STRATA_DEMO_NATS_PORT: String(await freePort()),
      STRATA_DEMO_API_ADDR: `127.0.0.1:${await freePort()}`,
    };
    const { stdout } = await promisify(execFile)(process.execPath, [DEMO], { env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain('error: NOT_FOUND: network');
    expect(stdout).toMatch(/error: INVALID_ARGUMENT: 10\.0\.0\.128\/25 overlaps subnet/);
    expect(stdout).toContain('ipam.PortCreated');
    expect(stdout).toMatch(/error: INVALID_ARGUMENT: .*portMin/);
    expect(stdout).toContain('secgroup.GroupCreated');
    // The same group's versions from the PostgreSQL read model (creation, then the tcp/443 rule).
    expect(stdout).toMatch(/FROM strata\.versions_security_group[\s\S]*secgroup\.GroupCreated[\s\S]*secgroup\.RuleAdded/);
  });
});
