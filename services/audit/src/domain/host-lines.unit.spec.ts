import { describe, expect, it } from 'vitest';
import { MAX_HOST_DIFF_EVENTS, type EventRef, type HostLine, type HostviewAtReply } from '@strata/contracts';
import { hostAt, hostDiff, lineChanges, type RenderHost } from './host-lines.js';

/** A renderer whose lines are easy to read: one nft rule per `rule.*` key, one route per `route.*` key. */
const render: RenderHost = (hostId, view) =>
  Object.entries(view)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]): HostLine => ({ kind: k.startsWith('rule') ? 'nft-rule' : 'route', where: `${hostId}/host`, text: `${k}=${JSON.stringify(v)}` }));
const ev = (seq: number): EventRef => ({ seq, storedAt: 't', occurredAt: 't', eventId: `e${seq}`, type: 'secgroup.RuleAdded', actor: 'bob', reason: seq === 7 ? 'oops' : null, correlationId: 'c', causationId: null });
const point = (seq: number) => ({ seq, storedAt: 't', requested: `position ${seq}` });

describe('a host at a point and between two', () => {
  it('renders the view at a point', () => {
    const reply: HostviewAtReply = { hostId: 'hv1', toSeq: 9, view: { 'rule.a': 80, 'route.x': '10.0.0.0/24' }, snapshotSeq: 4, replayed: 5 };
    expect(hostAt(render, 'hv1', point(9), reply)).toEqual({
      hostId: 'hv1',
      at: point(9),
      lines: [
        { kind: 'route', where: 'hv1/host', text: 'route.x="10.0.0.0/24"' },
        { kind: 'nft-rule', where: 'hv1/host', text: 'rule.a=80' },
      ],
      keys: 2,
      snapshotSeq: 4,
      replayed: 5,
    });
  });

  it('names the event of every line change, transient ones included, in log order', () => {
    const reply: HostviewAtReply = {
      hostId: 'hv1',
      toSeq: 8,
      view: { 'rule.a': 80, 'rule.b': 443 },
      from: {
        seq: 5,
        view: { 'rule.a': 80, 'rule.c': 22 },
        changes: [
          { event: ev(6), keys: { 'rule.b': 443 } },
          { event: ev(7), keys: { 'rule.a': 8080, 'rule.c': null } },
          { event: ev(8), keys: { 'rule.a': 80 } },
        ],
      },
      snapshotSeq: 0,
      replayed: 8,
    };
    const d = hostDiff(render, 'hv1', point(5), point(8), reply);
    expect(d.perEvent).toBe(true);
    expect(d.changes.map((c) => [c.change, c.line.text, c.event?.seq])).toEqual([
      ['added', 'rule.b=443', 6],
      ['removed', 'rule.a=80', 7],
      ['removed', 'rule.c=22', 7],
      ['added', 'rule.a=8080', 7],
      ['removed', 'rule.a=8080', 8],
      ['added', 'rule.a=80', 8],
    ]);
    expect(d.events.map((e) => [e.event.seq, e.keys])).toEqual([
      [6, ['rule.b']],
      [7, ['rule.a', 'rule.c']],
      [8, ['rule.a']],
    ]);
  });

  it('past MAX_HOST_DIFF_EVENTS events, renders the endpoints only: the net changes, naming no event', () => {
    const changes = Array.from({ length: MAX_HOST_DIFF_EVENTS + 1 }, (_, i) => ({ event: ev(i + 2), keys: { 'rule.a': i } }));
    const reply: HostviewAtReply = { hostId: 'hv1', toSeq: 600, view: { 'rule.a': MAX_HOST_DIFF_EVENTS }, from: { seq: 1, view: {}, changes }, snapshotSeq: 0, replayed: 600 };
    const d = hostDiff(render, 'hv1', point(1), point(600), reply);
    expect(d.perEvent).toBe(false);
    expect(d.changes).toEqual([{ change: 'added', line: { kind: 'nft-rule', where: 'hv1/host', text: `rule.a=${MAX_HOST_DIFF_EVENTS}` }, event: null }]);
    expect(d.events).toHaveLength(MAX_HOST_DIFF_EVENTS + 1);
  });

  it('compares lines by kind, place and text', () => {
    const a: HostLine = { kind: 'route', where: 'ns1', text: 'x' };
    expect(lineChanges([a], [{ ...a, where: 'ns2' }]).map((c) => c.change)).toEqual(['removed', 'added']);
    expect(lineChanges([a], [{ ...a }])).toEqual([]);
  });
});
