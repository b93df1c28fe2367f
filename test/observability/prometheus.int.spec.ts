/**
 * The compose lab's Prometheus configuration and alert rules
 * (infra/prometheus), checked by Debian's promtool (package `prometheus`,
 * installed by scripts/setup.sh): the configuration and rules are valid,
 * and `promtool test rules` proves with series of its own that each alert
 * fires on its condition and not on a healthy neighbour (alerts.test.yml).
 * Also: every metric the rules read is one a Strata service exports (a
 * renamed metric would leave an alert that can never fire).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const DIR = new URL('../../infra/prometheus/', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: DIR });
    return stdout + stderr;
  } catch (err) {
    const e = err as { code?: string | number; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool not found: install Debian package prometheus (scripts/setup.sh does)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Every TypeScript source file of the services and libraries (not tests). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('Prometheus in the compose lab (infra/prometheus)', () => {
  it('promtool check config: the scrape configuration and its rule file are valid', async () => {
    expect(await promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS: prometheus.yml is valid/);
  });

  it('promtool check rules: four alerts', async () => {
    expect(await promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 4 rules found/);
  });

  it('promtool test rules: each alert fires on its condition and not otherwise', async () => {
    expect(await promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });

  it('every metric the alerts read is exported by a service', () => {
    const rules = readFileSync(join(DIR, 'alerts.yml'), 'utf8');
    const used = new Set([...rules.matchAll(/\b(strata_[a-z_]+)\b/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(0);
    const code = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'services'))].map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const metric of used) expect(code.includes(`'${metric}'`), `${metric} is defined somewhere`).toBe(true);
  });
});
