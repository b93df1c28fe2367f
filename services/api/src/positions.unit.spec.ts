import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@strata/errors';
import { CallPositions, clientPosition, LogEnd, positionMetadata, positionWaitMs } from './positions.js';

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

const sent = (...values: string[]): Metadata => {
  const md = new Metadata();
  for (const v of values) md.add('strata-position', v);
  return md;
};

describe('clientPosition', () => {
  it('reads the position a client sent back, and none when it sent none', () => {
    expect(clientPosition(sent('131'))).toBe(131);
    expect(clientPosition(sent(String(Number.MAX_SAFE_INTEGER)))).toBe(Number.MAX_SAFE_INTEGER);
    expect(clientPosition(new Metadata())).toBeUndefined();
  });

  it.each([['abc'], ['0'], ['-1'], ['+1'], ['01'], ['1e3'], [' 1'], ['1.0'], ['9007199254740993'], ['9'.repeat(17)], ['9'.repeat(5000)]])(
    'refuses %j with INVALID_ARGUMENT naming the header',
    (v) => {
      expect(() => clientPosition(sent(v))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, details: { field: 'strata-position' } }));
    },
  );

  it('refuses two values, and never echoes a long one', () => {
    expect(() => clientPosition(sent('1', '2'))).toThrow(/must be given once/);
    expect(() => clientPosition(sent('x'.repeat(5000)))).toThrow(/is 5000 characters, longer than any position \(16\)/);
  });
});

describe('LogEnd', () => {
  it('admits positions up to the log end, asking the log only past the highest known', async () => {
    let last = 10;
    let asked = 0;
    const end = new LogEnd(async () => (asked++, last));
    await end.admit(10);
    await end.admit(3);
    expect(asked).toBe(1);
    await expect(end.admit(11)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringMatching(/11 is beyond the end of the event log \(10\)/) });
    last = 12;
    await end.admit(11);
    expect(asked).toBe(3);
  });

  it('is UNAVAILABLE when the log cannot be read', async () => {
    const end = new LogEnd(() => Promise.reject(new Error('no JetStream')));
    await expect(end.admit(1)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
  });
});

describe('positionWaitMs', () => {
  it("is what is left of the client's deadline and the request timeout, less a margin to answer", () => {
    expect(positionWaitMs(5_000, undefined, 0)).toBe(4_500);
    expect(positionWaitMs(5_000, Infinity, 0)).toBe(4_500);
    expect(positionWaitMs(5_000, new Date(2_000), 0)).toBe(1_500);
    expect(positionWaitMs(5_000, 400, 0)).toBe(300);
    expect(positionWaitMs(5_000, 100, 200)).toBe(0);
  });
});
