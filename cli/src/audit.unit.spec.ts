import { describe, expect, it } from 'vitest';
import type { AuditEventRef__Output, AuditPosition__Output } from '@strata/proto';
import { eventLabel, logPoint, unreadableWarnings, positionLabel, renderBlame, renderDiff, renderHost, renderHostDiff, renderShow, treeLines } from './audit-view.js';
import { EXIT_USAGE } from './errors.js';
import { run } from './run.js';

const NOW = Date.parse('2026-12-06T14:30:00.000Z');
const at = (seq: string, requested: string): AuditPosition__Output => ({ seq, storedAt: '2026-12-06T14:03:00.123Z', requested });
const ev = (seq: string, actor: string, reason = ''): AuditEventRef__Output => ({
  seq,
  storedAt: `2026-12-06T14:0${seq.slice(-1)}:00.000Z`,
  occurredAt: '2026-12-06T14:00:00.000Z',
  eventId: `e${seq}`,
  type: 'secgroup.RuleAdded',
  actor,
  reason,
  correlationId: `c${seq}`,
  _causationId: 'causationId',
});

describe('audit points on the command line', () => {
  it('reads digits as a position, an ISO-8601 time as a time, -15m as that long before now', () => {
    expect(logPoint('1234')).toEqual({ position: '1234' });
    expect(logPoint('2026-12-06T14:03:00Z')).toEqual({ time: '2026-12-06T14:03:00Z' });
    expect(logPoint('2026-12-06T15:03:00+01:00')).toEqual({ time: '2026-12-06T15:03:00+01:00' });
    expect(logPoint('-15m', () => NOW)).toEqual({ time: '2026-12-06T14:15:00.000Z' });
    expect(logPoint('-2h', () => NOW)).toEqual({ time: '2026-12-06T12:30:00.000Z' });
    expect(logPoint('-1d', () => NOW)).toEqual({ time: '2026-12-05T14:30:00.000Z' });
    expect(logPoint('-30s', () => NOW)).toEqual({ time: '2026-12-06T14:29:30.000Z' });
  });

  it('refuses what is neither, position 0, and positions past any log', () => {
    for (const bad of ['yesterday', '14:03', '2026-12-06', '-15x', '15m', '', '12a', '2026-13-45T99:99:00Z']) {
      expect(() => logPoint(bad), bad).toThrow(/must be a log position \(digits\), an ISO-8601 time/);
    }
    expect(() => logPoint('0')).toThrow(/log positions start at 1/);
    expect(() => logPoint('99999999999999999999')).toThrow(/log positions start at 1 and are at most/);
  });

  it('exits 2 on a bad point or contradictory host options, before connecting', async () => {
    const strata = async (argv: string[]) => {
      const err: string[] = [];
      const code = await run(argv, { io: { out: () => undefined, err: (s) => err.push(s) }, env: { STRATA_TOKEN: 't', STRATA_SERVER: '127.0.0.1:1', STRATA_PLAINTEXT: '1' } });
      return { code, err: err.join('\n') };
    };
    expect(await strata(['audit', 'show', 'security-group', 'g1', '--at', 'noon'])).toMatchObject({ code: EXIT_USAGE, err: expect.stringMatching(/--at.*must be a log position/) });
    expect(await strata(['audit', 'show', 'security-group', 'g1'])).toMatchObject({ code: EXIT_USAGE, err: expect.stringMatching(/--at <point>.*not specified/) });
    expect(await strata(['audit', 'diff', 'security-group', 'g1', '--from', '0'])).toMatchObject({ code: EXIT_USAGE });
    expect(await strata(['audit', 'host', 'hv1'])).toMatchObject({ code: EXIT_USAGE, err: 'error: INVALID_ARGUMENT: give --at <point> (the host at a point) or --from <point> [--to <point>] (what changed)' });
    expect(await strata(['audit', 'host', 'hv1', '--at', '5', '--from', '3'])).toMatchObject({ code: EXIT_USAGE });
    expect(await strata(['audit', 'host', 'hv1', '--at', '5', '--to', '9'])).toMatchObject({ code: EXIT_USAGE, err: 'error: INVALID_ARGUMENT: --to goes with --from, not with --at' });
    // Audit only reads: no --wait.
    const help: string[] = [];
    await run(['audit', 'host', '--help'], { io: { out: (s) => help.push(s), err: (s) => help.push(s) }, env: {} });
    expect(help.join('\n')).toMatch(/--from <point>/);
    expect(help.join('\n')).not.toMatch(/--wait/);
    // A relative time starts with a dash and is still --at's value: the command gets as far as connecting (nothing listens there).
    expect(await strata(['audit', 'show', 'security-group', 'g1', '--at', '-15m'])).toMatchObject({ code: 1, err: expect.stringMatching(/^error: UNAVAILABLE/) });
  });
});

describe('audit answers for people', () => {
  it('names the position used, when it was stored and how it was asked', () => {
    expect(positionLabel(at('1234', 'time 2026-12-06T14:03:00Z'))).toBe('position 1234 (stored 2026-12-06T14:03:00.123Z; asked: time 2026-12-06T14:03:00Z)');
    expect(eventLabel(ev('7', 'bob', 'CHG-7: open 443'))).toBe(
      'position 7, 2026-12-06T14:07:00.000Z, secgroup.RuleAdded, actor bob, reason "CHG-7: open 443", correlation c7',
    );
    expect(eventLabel(ev('8', 'alice'))).toContain('actor alice, reason -, correlation c8');
  });

  it('show: the view as indented key: value lines, with the event that made it so', () => {
    const view = { id: 'g1', name: 'web', description: '', rules: [{ id: 'r1', portMin: 80, remoteCidr: null }], tags: [] as string[], ips: ['a', 'b'] };
    const text = renderShow({ kind: 'security-group', id: 'g1', at: at('12', 'position 12'), viewJson: JSON.stringify(view), lastChange: ev('9', 'bob'), unreadable: [] });
    expect(text.split('\n')).toEqual([
      'security-group g1 at position 12 (stored 2026-12-06T14:03:00.123Z; asked: position 12)',
      'last change: position 9, 2026-12-06T14:09:00.000Z, secgroup.RuleAdded, actor bob, reason -, correlation c9',
      '  id: g1',
      '  name: web',
      '  description: ""',
      '  rules:',
      '    - id: r1',
      '      portMin: 80',
      '      remoteCidr: null',
      '  tags: []',
      '  ips:',
      '    - a',
      '    - b',
    ]);
    const gone = renderShow({ kind: 'port', id: 'p', at: at('3', 'now'), viewJson: 'null', lastChange: null, unreadable: [] });
    expect(gone).toBe('port p at position 3 (stored 2026-12-06T14:03:00.123Z; asked: now)\n(did not exist at this point: not yet created, or deleted)');
  });

  it('warns of events the owner could not read', () => {
    expect(unreadableWarnings([{ seq: '17', reason: 'schema v9 unknown' }])).toEqual([
      'warning: the event at position 17 could not be read (schema v9 unknown): the views after it may lack its effect',
    ]);
  });

  it('nests arrays in arrays and objects in objects', () => {
    expect(treeLines({ a: { b: { c: 1 } }, m: [[1, 2], { x: true }] })).toEqual(['a:', '  b:', '    c: 1', 'm:', '  - - 1', '    - 2', '  - x: true']);
  });

  it('diff: one line per field change, added/removed/changed, each with its event', () => {
    const text = renderDiff({
      kind: 'security-group',
      id: 'g1',
      from: at('4', 'position 4'),
      to: at('8', 'time 2026-12-06T14:08:00Z'),
      beforeJson: '{}',
      afterJson: '{}',
      changes: [
        { path: 'rules[r2].portMin', afterJson: '443', event: ev('6', 'bob', 'CHG-7'), _beforeJson: 'beforeJson', _afterJson: 'afterJson' } as never,
        { path: 'rules[r1].portMin', beforeJson: '80', afterJson: '8080', event: ev('8', 'bob', 'oops') } as never,
        { path: 'name', beforeJson: '"web"', event: ev('8', 'bob', 'oops') } as never,
      ],
      unreadable: [],
    });
    expect(text.split('\n')).toEqual([
      'security-group g1 from position 4 (stored 2026-12-06T14:03:00.123Z; asked: position 4) to position 8 (stored 2026-12-06T14:03:00.123Z; asked: time 2026-12-06T14:08:00Z)',
      '+ rules[r2].portMin: 443         position 6, 2026-12-06T14:06:00.000Z, secgroup.RuleAdded, actor bob, reason "CHG-7", correlation c6',
      '~ rules[r1].portMin: 80 -> 8080  position 8, 2026-12-06T14:08:00.000Z, secgroup.RuleAdded, actor bob, reason "oops", correlation c8',
      '- name: "web"                    position 8, 2026-12-06T14:08:00.000Z, secgroup.RuleAdded, actor bob, reason "oops", correlation c8',
      '3 field changes',
    ]);
    expect(renderDiff({ kind: 'port', id: 'p', from: at('1', 'position 1'), to: at('2', 'now'), beforeJson: 'null', afterJson: 'null', changes: [], unreadable: [] })).toMatch(/\nno changes$/);
  });

  it('blame: each field with the event that last set it', () => {
    const text = renderBlame({
      kind: 'security-group',
      id: 'g1',
      at: at('9', 'now'),
      viewJson: '{"name":"web"}',
      fields: [
        { path: 'name', valueJson: '"web"', event: ev('2', 'alice') },
        { path: 'rules[r1].portMin', valueJson: '8080', event: ev('8', 'bob', 'oops') },
      ],
      unreadable: [],
    });
    expect(text.split('\n').slice(1)).toEqual([
      'name: "web"              position 2, 2026-12-06T14:02:00.000Z, secgroup.RuleAdded, actor alice, reason -, correlation c2',
      'rules[r1].portMin: 8080  position 8, 2026-12-06T14:08:00.000Z, secgroup.RuleAdded, actor bob, reason "oops", correlation c8',
    ]);
  });

  it('host: lines grouped by kind and where; host diff: +/- lines each with its event', () => {
    const set = { kind: 'nft-element', where: 'netns hv / table inet strata / set g1-v4', text: '10.0.0.5' };
    const route = { kind: 'route', where: 'netns hv / table 1001', text: '10.0.0.0/24 dev br-1' };
    const host = renderHost({ hostId: 'hv1', at: at('9', 'now'), lines: [set, route, { ...set, text: '10.0.0.6' }], keys: 4, snapshotSeq: '0', replayed: '9' });
    expect(host.split('\n')).toEqual([
      'host hv1 at position 9 (stored 2026-12-06T14:03:00.123Z; asked: now)',
      '3 lines from 4 host-view keys (replayed 9 events after position 0)',
      'nft-element  netns hv / table inet strata / set g1-v4:',
      '  10.0.0.5',
      '  10.0.0.6',
      'route  netns hv / table 1001:',
      '  10.0.0.0/24 dev br-1',
    ]);
    const diff = renderHostDiff({
      hostId: 'hv1',
      from: at('3', 'position 3'),
      to: at('9', 'now'),
      changes: [
        { change: 'added', line: { ...set, text: '10.0.0.6' }, event: ev('5', 'alice', 'join') },
        { change: 'removed', line: route, event: ev('7', 'bob') },
      ],
      events: [{ event: ev('5', 'alice', 'join'), keys: ['sg/g1'] }, { event: ev('7', 'bob'), keys: ['net/1', 'net/2'] }],
      perEvent: true,
      snapshotSeq: '0',
      replayed: '9',
    });
    expect(diff.split('\n').slice(1)).toEqual([
      '+ nft-element  netns hv / table inet strata / set g1-v4  10.0.0.6  position 5, 2026-12-06T14:05:00.000Z, secgroup.RuleAdded, actor alice, reason "join", correlation c5',
      '- route  netns hv / table 1001  10.0.0.0/24 dev br-1               position 7, 2026-12-06T14:07:00.000Z, secgroup.RuleAdded, actor bob, reason -, correlation c7',
      "events that changed the host's view (2):",
      '  position 5, 2026-12-06T14:05:00.000Z, secgroup.RuleAdded, actor alice, reason "join", correlation c5: 1 key',
      '  position 7, 2026-12-06T14:07:00.000Z, secgroup.RuleAdded, actor bob, reason -, correlation c7: 2 keys',
    ]);
    const coarse = renderHostDiff({ hostId: 'hv1', from: at('3', 'position 3'), to: at('9', 'now'), changes: [{ change: 'added', line: set, event: null }], events: [], perEvent: false, snapshotSeq: '0', replayed: '9' });
    expect(coarse).toMatch(/too many events in between/);
    expect(coarse).toMatch(/10\.0\.0\.5  between the two points$/m);
  });
});
