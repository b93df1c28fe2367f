import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { duration } from '../args.js';
import { CliContext } from '../context.js';
import { describeError, EXIT_NOT_REALISABLE, EXIT_TIMEOUT, NotRealisedError } from '../errors.js';
import { buildProgram } from '../program.js';
import { commandPath, RESOURCE_RULES } from './after-write.js';

function leaves(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leaves);
}

const program = buildProgram(new CliContext({ out: () => undefined, err: () => undefined }, {}));
const withWait = new Set(leaves(program).filter((c) => c.options.some((o) => o.long === '--wait')).map(commandPath));

describe('--wait', () => {
  it('is on every write a hypervisor applies, and on no read', () => {
    for (const path of ['port create', 'port bind', 'port delete', 'port set-groups', 'network create', 'network delete', 'subnet create', 'router add-interface', 'secgroup rule create', 'floatingip associate', 'sfc chain create', 'hypervisor register']) {
      expect(withWait, path).toContain(path);
    }
    for (const path of ['port show', 'port list', 'port security', 'events tail', 'wait port', 'bgp peer create', 'pool create']) {
      expect(withWait, path).not.toContain(path);
    }
  });

  it('names only commands that exist (or will: update) in its resource rules', () => {
    const all = new Set(leaves(program).map(commandPath));
    for (const path of Object.keys(RESOURCE_RULES)) if (!path.endsWith(' update')) expect(all, path).toContain(path);
  });
});

describe('wait exit codes and durations', () => {
  it('exits 3 on a timeout and 4 when it cannot be realised, with the reason', () => {
    expect(describeError(new NotRealisedError('TIMEOUT', 'not realised within 2s: port p1: DOWN (not bound to a hypervisor)'))).toEqual({
      message: 'error: TIMEOUT: not realised within 2s: port p1: DOWN (not bound to a hypervisor)',
      exitCode: EXIT_TIMEOUT,
    });
    expect(describeError(new NotRealisedError('NOT_REALISABLE', 'port p1 cannot become ACTIVE')).exitCode).toBe(EXIT_NOT_REALISABLE);
    expect(new Set([EXIT_TIMEOUT, EXIT_NOT_REALISABLE, 0, 1, 2]).size).toBe(5);
  });

  it('reads --timeout as a duration', () => {
    expect(duration('60')).toBe(60_000);
    expect(duration('90s')).toBe(90_000);
    expect(duration('2m')).toBe(120_000);
    expect(duration('500ms')).toBe(500);
    for (const bad of ['', '0', '1h', '-5s', '1.5s']) expect(() => duration(bad), bad).toThrow(/duration like 60s/);
  });
});
