import { describe, expect, it } from 'vitest';
import { ValidationError } from '@strata/errors';
import { aggregateSubject, subjectMatches } from './subjects.js';
import { newEventId } from './ids.js';

describe('aggregateSubject', () => {
  it('builds strata.evt.<context>.<type>.<id>', () => {
    expect(aggregateSubject({ context: 'ipam', type: 'network', id: '01HX' })).toBe('strata.evt.ipam.network.01HX');
    expect(aggregateSubject({ context: 'ipam', type: 'network', id: 'x' }, 't1.evt')).toBe('t1.evt.ipam.network.x');
  });

  it.each(['', '.', 'a.b', '*', '>', 'a>', 'a b', ' ', 'a\nb'])('rejects the token %j', (bad) => {
    expect(() => aggregateSubject({ context: 'ipam', type: 'network', id: bad })).toThrow(ValidationError);
    expect(() => aggregateSubject({ context: bad, type: 'network', id: 'x' })).toThrow(ValidationError);
    expect(() => aggregateSubject({ context: 'ipam', type: bad, id: 'x' })).toThrow(ValidationError);
  });
});

describe('subjectMatches', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.*.c', 'a.b.c', true],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.*', 'a.b.c', false],
    ['a.b', 'a.b.c', false],
    ['a.b.c.d', 'a.b.c', false],
    ['>', 'a', true],
    ['*.b.>', 'x.b.y.z', true],
  ])('%s ~ %s = %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});

describe('newEventId', () => {
  it('is a ULID, unique and increasing even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newEventId());
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});
