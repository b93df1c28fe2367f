import { describe, expect, it } from 'vitest';
import { CallPositions, positionMetadata } from './positions.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CallPositions', () => {
  it("gives each call the highest position of its own commands, and the shared tracker everyone's", async () => {
    const positions = new CallPositions();
    const a = positions.track(async () => {
      positions.observe(5);
      await tick();
      positions.observe(9);
      await tick();
      positions.observe(7);
      return 'a';
    });
    const b = positions.track(async () => {
      await tick();
      positions.observe(6);
      return 'b';
    });
    const reader = positions.track(async () => 'read');
    expect(await a).toEqual({ result: 'a', position: 9 });
    expect(await b).toEqual({ result: 'b', position: 6 });
    expect(await reader).toEqual({ result: 'read', position: undefined });
    expect(positions.minSeq()).toBe(9);
  });

  it('still tracks read-your-writes outside any call', () => {
    const positions = new CallPositions();
    positions.observe(3);
    positions.observe(undefined);
    expect(positions.minSeq()).toBe(3);
  });

  it('puts the position in the strata-position metadata', () => {
    expect(positionMetadata(42).get('strata-position')).toEqual(['42']);
  });
});
