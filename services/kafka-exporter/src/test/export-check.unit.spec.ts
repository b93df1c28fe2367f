import { describe, expect, it } from 'vitest';
import { KAFKA_HEADERS } from '../app/record.js';
import { checkExport, type LoggedEntry, type TopicRecord } from './export-check.js';

// Two keys: a at positions 1, 3, 4; b at 2, 5. One partition each (a: 0, b: 1).
const log: LoggedEntry[] = [
  [1, 'a'],
  [2, 'b'],
  [3, 'a'],
  [4, 'a'],
  [5, 'b'],
].map(([position, key]) => ({ position: position as number, id: `e${position}`, key: key as string, type: 't', tenant: 'x', value: Buffer.from(`v${position}`) }));

const offsets = new Map<number, number>();
/** Records in the order the partitions got them. */
function topic(...positions: number[]): TopicRecord[] {
  offsets.clear();
  return positions.map((p) => {
    const e = log.find((l) => l.position === p)!;
    const partition = e.key === 'a' ? 0 : 1;
    const offset = offsets.get(partition) ?? 0;
    offsets.set(partition, offset + 1);
    return {
      partition,
      offset,
      key: e.key,
      value: e.value,
      timestamp: 0,
      headers: { [KAFKA_HEADERS.eventId]: e.id, [KAFKA_HEADERS.type]: 't', [KAFKA_HEADERS.tenant]: 'x', [KAFKA_HEADERS.position]: String(p) },
    };
  });
}

describe('checkExport', () => {
  it('accepts every event once, in order', () => {
    const r = checkExport(log, topic(1, 2, 3, 4, 5));
    expect(r.problems).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect([...r.partitionResends.values()]).toEqual([0, 0]);
  });

  it('accepts a re-send of an already-seen stretch, counting its duplicates and its re-sends', () => {
    // a: 1 3 4 | 3 4 (re-sent after a restart); b: 2 | 2 5
    const r = checkExport(log, topic(1, 2, 3, 4, 3, 2, 4, 5));
    expect(r.problems).toEqual([]);
    expect(r.duplicates).toBe(3);
    expect(r.partitionResends.get(0)).toBe(1);
    expect(r.partitionResends.get(1)).toBe(1);
  });

  it('refuses a lost event', () => {
    expect(checkExport(log, topic(1, 2, 3, 5)).problems.join('\n')).toMatch(/event e4 \(position 4\) never reached the topic/);
  });

  it('refuses a key whose later event comes before an earlier one that was never seen', () => {
    const r = checkExport(log, topic(1, 2, 4, 3, 5));
    expect(r.problems.join('\n')).toMatch(/key a: position 4 .* but 3 has not been seen/);
  });

  it('refuses a re-send that skips ahead past an unseen event', () => {
    // a: 1 3 | 1 4 ... 4 comes after the re-sent 1 although 3 was seen: fine; but 1 | 4 skips 3.
    expect(checkExport(log, topic(1, 2, 3, 1, 3, 4, 5)).problems).toEqual([]);
    expect(checkExport(log, topic(1, 2, 1, 4, 3, 5)).problems.join('\n')).toMatch(/key a: position 4 .*skipped ahead/);
  });

  it('refuses a record that is not what the log holds', () => {
    const rs = topic(1, 2, 3, 4, 5);
    rs[2] = { ...rs[2]!, value: Buffer.from('tampered') };
    rs[3] = { ...rs[3]!, headers: { ...rs[3]!.headers, [KAFKA_HEADERS.eventId]: 'e9' } };
    const problems = checkExport(log, rs).problems.join('\n');
    expect(problems).toMatch(/position 3\): value differs/);
    expect(problems).toMatch(/position 4\): header strata-event-id is e9/);
  });

  it('refuses a key spread over two partitions', () => {
    const rs = topic(1, 2, 3, 4, 5);
    rs[2] = { ...rs[2]!, partition: 1 };
    expect(checkExport(log, rs).problems.join('\n')).toMatch(/key a is in partitions 0, 1/);
  });
});
