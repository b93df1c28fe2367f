import { describe, expect, it } from 'vitest';
import { blameAt, diffBetween, fieldChanges, flattenView, showAt } from './derive.js';
import type { EventRef, ResourceVersion } from './history.js';

const ev = (seq: number, actor = 'alice', reason: string | null = null): EventRef => ({
  seq,
  storedAt: `2026-12-06T14:00:0${seq}.000Z`,
  occurredAt: `2026-12-06T14:00:0${seq}.000Z`,
  eventId: `e${seq}`,
  type: 'secgroup.RuleAdded',
  actor,
  reason,
  correlationId: `c${seq}`,
  causationId: null,
});
const rule = (id: string, port: number) => ({ id, protocol: 'tcp', portMin: port, portMax: port });
const versions: ResourceVersion[] = [
  { event: ev(2), view: { id: 'g', name: 'web', rules: [] } },
  { event: ev(4), view: { id: 'g', name: 'web', rules: [rule('r1', 80)] } },
  { event: ev(6, 'bob', 'CHG-7: open 443'), view: { id: 'g', name: 'web', rules: [rule('r1', 80), rule('r2', 443)] } },
  { event: ev(8, 'bob', 'oops'), view: { id: 'g', name: 'web', rules: [rule('r1', 8080), rule('r2', 443)] } },
  { event: ev(9), view: null },
];
const at = (seq: number) => ({ seq, storedAt: 't', requested: `position ${seq}` });

describe('audit derivations', () => {
  it('keys arrays of objects with ids by id and keeps other arrays whole', () => {
    expect([...flattenView({ a: { b: 1 }, rules: [rule('x', 1)], ips: ['1', '2'], e: [] }).keys()]).toEqual([
      'a.b',
      'e',
      'ips',
      'rules[x].id',
      'rules[x].portMax',
      'rules[x].portMin',
      'rules[x].protocol',
    ]);
  });

  it('removing one keyed entry is that entry only, not a shift of the others', () => {
    const changes = fieldChanges({ rules: [rule('a', 1), rule('b', 2)] }, { rules: [rule('b', 2)] }, ev(1));
    expect(changes.map((c) => c.path)).toEqual(['rules[a].id', 'rules[a].portMax', 'rules[a].portMin', 'rules[a].protocol']);
    expect(changes.every((c) => 'before' in c && !('after' in c))).toBe(true);
  });

  it('shows the version in force at a point, or nothing before creation and after deletion', () => {
    expect(showAt('security-group', 'g', versions, at(1)).view).toBeNull();
    expect(showAt('security-group', 'g', versions, at(5)).view).toEqual(versions[1]!.view);
    expect(showAt('security-group', 'g', versions, at(5)).lastChange?.seq).toBe(4);
    expect(showAt('security-group', 'g', versions, at(9)).view).toBeNull();
    expect(showAt('security-group', 'g', versions, at(9)).lastChange?.seq).toBe(9);
  });

  it('diffs field by field, each change naming its event, actor and reason', () => {
    const d = diffBetween('security-group', 'g', versions, at(4), at(8));
    expect(d.changes.map((c) => [c.path, c.before, c.after, c.event.seq, c.event.reason])).toEqual([
      ['rules[r2].id', undefined, 'r2', 6, 'CHG-7: open 443'],
      ['rules[r2].portMax', undefined, 443, 6, 'CHG-7: open 443'],
      ['rules[r2].portMin', undefined, 443, 6, 'CHG-7: open 443'],
      ['rules[r2].protocol', undefined, 'tcp', 6, 'CHG-7: open 443'],
      ['rules[r1].portMax', 80, 8080, 8, 'oops'],
      ['rules[r1].portMin', 80, 8080, 8, 'oops'],
    ]);
    expect(d.before).toEqual(versions[1]!.view);
    expect(d.after).toEqual(versions[3]!.view);
  });

  it('blames each current field on the event that last set it', () => {
    const b = blameAt('security-group', 'g', versions, at(8));
    const by = Object.fromEntries(b.fields.map((f) => [f.path, f.event.seq]));
    expect(by).toEqual({ id: 2, name: 2, 'rules[r1].id': 4, 'rules[r1].protocol': 4, 'rules[r1].portMin': 8, 'rules[r1].portMax': 8, 'rules[r2].id': 6, 'rules[r2].protocol': 6, 'rules[r2].portMin': 6, 'rules[r2].portMax': 6 });
    expect(blameAt('security-group', 'g', versions, at(9)).fields).toEqual([]);
  });
});
