import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { allocationPool, collect, fixedIp, positiveInt } from './args.js';

describe('option parsers', () => {
  it('positiveInt accepts digits only', () => {
    expect(positiveInt('42')).toBe(42);
    for (const bad of ['0', '-1', '1.5', '1e3', 'x', '']) expect(() => positiveInt(bad)).toThrow(InvalidArgumentError);
  });

  it('collect accumulates repeated options', () => {
    expect(collect('b', collect('a', undefined))).toEqual(['a', 'b']);
  });

  it('allocationPool reads START-END', () => {
    expect(allocationPool('10.0.0.2-10.0.0.9', undefined)).toEqual([{ start: '10.0.0.2', end: '10.0.0.9' }]);
    expect(allocationPool('2001:db8::2-2001:db8::9', undefined)).toEqual([{ start: '2001:db8::2', end: '2001:db8::9' }]);
    expect(() => allocationPool('10.0.0.2', undefined)).toThrow(InvalidArgumentError);
  });

  it('fixedIp reads subnet= and ip= pairs', () => {
    expect(fixedIp('subnet=s1,ip=10.0.0.5', undefined)).toEqual([{ subnetId: 's1', ip: '10.0.0.5' }]);
    expect(fixedIp('ip=10.0.0.6', [{ subnetId: 's1' }])).toEqual([{ subnetId: 's1' }, { ip: '10.0.0.6' }]);
    expect(() => fixedIp('address=10.0.0.5', undefined)).toThrow(/unknown key address/);
    expect(() => fixedIp('10.0.0.5', undefined)).toThrow(InvalidArgumentError);
  });
});
