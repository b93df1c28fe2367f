import { describe, expect, it } from 'vitest';
import { stateDigest, writeCanonical } from './digest.js';

const canonical = (v: unknown): string => {
  let s = '';
  writeCanonical(v, (chunk) => (s += chunk));
  return s;
};

describe('writeCanonical', () => {
  it('writes object keys sorted, at every depth', () => {
    expect(canonical({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('does not depend on the order keys were inserted in', () => {
    const one: Record<string, unknown> = {};
    one['x'] = 1;
    one['y'] = { p: 1, q: 2 };
    const two: Record<string, unknown> = {};
    two['y'] = { q: 2, p: 1 };
    two['x'] = 1;
    expect(JSON.stringify(one)).not.toBe(JSON.stringify(two));
    expect(canonical(one)).toBe(canonical(two));
  });

  it('keeps array order (it is meaning, not construction)', () => {
    expect(canonical([1, 2])).not.toBe(canonical([2, 1]));
  });

  it('is valid JSON equal to the value', () => {
    const v = { s: 'quote " and \\ and ü', n: -1.5, e: [], o: {}, nil: null };
    expect(JSON.parse(canonical(v))).toEqual(v);
  });
});

describe('stateDigest', () => {
  it('is equal for equal states however they were built, and carries the sequence', () => {
    const a = { seq: 3, things: { t1: { id: 't1', tags: ['x'] }, t2: { id: 't2', tags: [] } } };
    const b = { things: { t2: { tags: [], id: 't2' }, t1: { tags: ['x'], id: 't1' } }, seq: 3 };
    expect(stateDigest(a)).toEqual(stateDigest(b));
    expect(stateDigest(a)).toMatchObject({ seq: 3, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('differs when the states differ', () => {
    const a = { seq: 1, v: 'a' };
    const b = { seq: 1, v: 'b' };
    expect(stateDigest(a).sha256).not.toBe(stateDigest(b).sha256);
  });
});
