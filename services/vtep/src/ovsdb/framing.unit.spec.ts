import { describe, expect, it } from 'vitest';
import { JsonSplitter, OvsdbFramingError } from './framing.js';

describe('JsonSplitter', () => {
  it('cuts back-to-back messages, one split across chunks, strings with braces and escapes', () => {
    const s = new JsonSplitter();
    expect(s.push('{"id":1,"result":["a}"]}{"id":2,')).toEqual([{ id: 1, result: ['a}'] }]);
    expect(s.push('"result":"q\\"{"}\n  [1,[2]]')).toEqual([{ id: 2, result: 'q"{' }, [1, [2]]]);
    expect(s.push('')).toEqual([]);
  });

  it('refuses bytes outside a message', () => {
    expect(() => new JsonSplitter().push('x{}')).toThrow(OvsdbFramingError);
    expect(() => new JsonSplitter().push('}')).toThrow(OvsdbFramingError);
  });
});
