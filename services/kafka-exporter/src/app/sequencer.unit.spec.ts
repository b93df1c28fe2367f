import { describe, expect, it } from 'vitest';
import { Sequencer } from './sequencer.js';

describe('Sequencer', () => {
  it('hands out consecutive positions from the first unacknowledged one, whatever the delivery order', () => {
    const s = new Sequencer<string>(5);
    // New deliveries (7, 8) before the redelivery of a dead process's 5 and 6.
    expect(s.offer(7, 'm7')).toBe('kept');
    expect(s.offer(8, 'm8')).toBe('kept');
    expect(s.take(10)).toEqual([]);
    expect(s.blockedOn).toBe(5);
    expect(s.offer(5, 'm5')).toBe('kept');
    expect(s.take(10).map((t) => t.seq)).toEqual([5]);
    expect(s.offer(6, 'm6')).toBe('kept');
    expect(s.take(2).map((t) => t.message)).toEqual(['m6', 'm7']);
    expect(s.take(2).map((t) => t.seq)).toEqual([8]);
    expect(s.blockedOn).toBeUndefined();
  });

  it('drops copies of what is being produced and re-acknowledges what was produced', () => {
    const s = new Sequencer<string>(1);
    s.offer(1, 'a');
    s.offer(2, 'b');
    expect(s.take(1).map((t) => t.seq)).toEqual([1]);
    expect(s.offer(1, 'a again')).toBe('copy');
    s.produced(1);
    expect(s.offer(1, 'a once more')).toBe('ack');
    // A later copy of a waiting position replaces the earlier one.
    expect(s.offer(2, 'b again')).toBe('kept');
    expect(s.take(5)).toEqual([{ seq: 2, message: 'b again' }]);
    expect(s.lastProduced).toBe(1);
  });

  it('passes over a position only when nothing is in hand at it', () => {
    const s = new Sequencer<string>(3);
    s.offer(4, 'd');
    s.skipMissing(3);
    expect(s.take(5).map((t) => t.seq)).toEqual([4]);
    expect(() => s.skipMissing(5)).toThrow(/cannot skip 5/);
    expect(() => s.produced(9)).toThrow(/outside the taken range/);
    expect(() => new Sequencer(0)).toThrow(/positive integer/);
  });
});
