import { describe, expect, it } from 'vitest';
import { fnv1a32, owner, parsePartition, partitionOf } from './partition.js';

describe('partitions', () => {
  it('parses "i/n" and rejects anything else with a message that says what is wrong', () => {
    expect(parsePartition('0/1')).toEqual({ index: 0, count: 1 });
    expect(parsePartition(' 2/4 ')).toEqual({ index: 2, count: 4 });
    for (const bad of ['', '1/1', '4/4', '0/0', '-1/2', 'a/b', '1', '1/2/3']) {
      expect(() => parsePartition(bad)).toThrow(/partition must be "i\/n" with 0 <= i < n/);
    }
  });

  it('hashes with FNV-1a, so every instance, version and platform agrees', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('gives every host exactly one owner among n instances, and spreads hosts over them', () => {
    const hosts = Array.from({ length: 1000 }, (_, i) => `hv-${i}`);
    const owners = [0, 1, 2, 3].map((index) => owner({ index, count: 4 }));
    for (const h of hosts) expect(owners.filter((owns) => owns(h))).toHaveLength(1);
    const counts = [0, 1, 2, 3].map((i) => hosts.filter((h) => partitionOf(h, 4) === i).length);
    for (const c of counts) expect(c).toBeGreaterThan(150);
    expect(owner({ index: 0, count: 1 })('anything')).toBe(true);
  });
});

describe('HOSTVIEW_PARTITION in the service config', () => {
  it('defaults to the single partition and reports a bad value by variable name', async () => {
    const { loadConfig, ConfigError } = await import('@strata/runtime');
    const { hostviewConfig } = await import('../service.js');
    expect(loadConfig(hostviewConfig, {}).HOSTVIEW_PARTITION).toEqual({ index: 0, count: 1 });
    expect(loadConfig(hostviewConfig, { HOSTVIEW_PARTITION: '1/3' }).HOSTVIEW_PARTITION).toEqual({ index: 1, count: 3 });
    try {
      loadConfig(hostviewConfig, { HOSTVIEW_PARTITION: '3/3' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/HOSTVIEW_PARTITION: partition must be "i\/n" with 0 <= i < n/);
    }
  });
});
