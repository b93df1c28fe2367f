import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { allocationPool, collect, federationTag, fixedIp, icmpNumber, portNumber, portRange, positiveInt } from './args.js';

describe('option parsers', () => {
  it('positiveInt accepts digits only', () => {
    expect(positiveInt('42')).toBe(42);
    for (const bad of ['0', '-1', '1.5', '1e3', 'x', '']) expect(() => positiveInt(bad)).toThrow(InvalidArgumentError);
  });

  it('federationTag takes digits from 1 and leaves the upper bound to the server; 0 (the API\'s "remove") is refused', () => {
    expect(federationTag('10')).toBe(10);
    expect(federationTag('70000')).toBe(70000);
    for (const bad of ['0', '-1', '1.5', 'x', '']) expect(() => federationTag(bad)).toThrow(/--no-federation-tag removes it/);
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

  it('portNumber takes digits and leaves the 1-65535 range to the server', () => {
    expect(portNumber('443')).toBe(443);
    expect(portNumber('0')).toBe(0);
    expect(portNumber('65536')).toBe(65536);
    for (const bad of ['-1', '44.3', '1e3', 'https', '', '4294967296']) {
      expect(() => portNumber(bad)).toThrow(/must be a port number from 1 to 65535/);
    }
  });

  it('portRange reads MIN-MAX', () => {
    expect(portRange('1000-2000')).toEqual({ min: 1000, max: 2000 });
    expect(portRange('2000-1000')).toEqual({ min: 2000, max: 1000 });
    for (const bad of ['1000', '1000-', '-2000', '1000:2000', '1-2-3', '1-99999999999']) {
      expect(() => portRange(bad)).toThrow(/must be MIN-MAX, e.g. 1000-2000/);
    }
  });

  it('icmpNumber takes digits', () => {
    expect(icmpNumber('8')).toBe(8);
    expect(icmpNumber('256')).toBe(256);
    expect(() => icmpNumber('echo')).toThrow(/must be a number from 0 to 255/);
  });
});
