/**
 * What the export promises, as a check of a topic's records against the log
 * (used by the crash and outage tests; its own unit spec shows it catches
 * each kind of breach). Per key, with the key's events in log order
 * e_0 < e_1 < ... and its records in partition order:
 *
 * - every record is an entry of the log, byte for byte (value), with the
 *   key and headers that entry gives; so a duplicate (a second record with
 *   one event id) is the same event sent again, never another;
 * - every event of the log is there at least once;
 * - all of a key's records are in one partition;
 * - each record is either the key's next event after the record before it
 *   (e_{i+1} after e_i; e_0 first), or an event of the key already seen: the
 *   start of a re-send. So a key's records are runs of consecutive events,
 *   a run never skips an event, a new run only goes back (re-sends an
 *   already-seen stretch), and the first appearances are in log order;
 * - per partition, the same holds of positions: the records are runs of the
 *   partition's consecutive entries, and `partitionResends[p]` counts the
 *   runs that go back (each is one re-send: a restart or a failed send).
 */
import { KAFKA_HEADERS } from '../app/record.js';

export interface LoggedEntry {
  position: number;
  id: string;
  key: string;
  type: string;
  tenant: string;
  value: Buffer;
}

export interface TopicRecord {
  partition: number;
  /** The record's offset in its partition (records are given in offset order per partition). */
  offset: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** The record's timestamp (kafkajs: the producer's clock when the send began), ms. */
  timestamp: number;
}

export interface ExportReport {
  records: number;
  /** Records whose event id was seen before (re-sends). */
  duplicates: number;
  /** Per partition: how many times its records went back to re-send already-seen entries. */
  partitionResends: Map<number, number>;
  /** Breaches of the promise (empty when kept). */
  problems: string[];
}

export function checkExport(log: readonly LoggedEntry[], records: readonly TopicRecord[]): ExportReport {
  const problems: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < 20) problems.push(p);
  };
  const byPosition = new Map(log.map((e) => [e.position, e]));
  const seen = new Set<string>();
  let duplicates = 0;

  // Records of one key, of one partition, in partition order.
  const byKey = new Map<string, TopicRecord[]>();
  const byPartition = new Map<number, TopicRecord[]>();
  for (const r of records) {
    const position = Number(r.headers[KAFKA_HEADERS.position]);
    const e = byPosition.get(position);
    if (e === undefined) {
      problem(`record ${r.partition}/${r.offset}: position ${r.headers[KAFKA_HEADERS.position]} is no entry of the log`);
      continue;
    }
    if (r.key !== e.key) problem(`record ${r.partition}/${r.offset} (position ${position}): key ${r.key}, the event's aggregate is ${e.key}`);
    if (!r.value.equals(e.value)) problem(`record ${r.partition}/${r.offset} (position ${position}): value differs from the logged envelope`);
    const expected = { [KAFKA_HEADERS.eventId]: e.id, [KAFKA_HEADERS.type]: e.type, [KAFKA_HEADERS.tenant]: e.tenant };
    for (const [h, v] of Object.entries(expected)) {
      if (r.headers[h] !== v) problem(`record ${r.partition}/${r.offset} (position ${position}): header ${h} is ${r.headers[h]}, expected ${v}`);
    }
    if (seen.has(e.id)) duplicates++;
    seen.add(e.id);
    push(byKey, e.key, r);
    push(byPartition, r.partition, r);
  }
  for (const e of log) if (!seen.has(e.id)) problem(`event ${e.id} (position ${e.position}) never reached the topic`);

  const keyEvents = new Map<string, number[]>();
  for (const e of log) push(keyEvents, e.key, e.position);
  for (const [key, rs] of byKey) {
    const partitions = new Set(rs.map((r) => r.partition));
    if (partitions.size > 1) problem(`key ${key} is in partitions ${[...partitions].join(', ')}`);
    checkRuns(`key ${key}`, keyEvents.get(key) ?? [], rs, problem);
  }
  const partitionResends = new Map<number, number>();
  const partitionEntries = new Map<number, number[]>();
  for (const [p, rs] of byPartition) partitionEntries.set(p, [...new Set(rs.map(positionOf))].sort((a, b) => a - b));
  for (const [p, rs] of byPartition) partitionResends.set(p, checkRuns(`partition ${p}`, partitionEntries.get(p)!, rs, problem));
  return { records: records.length, duplicates, partitionResends, problems };
}

/**
 * Records against the ordered list of positions they should follow: each is
 * the next after the previous record, or one already seen (a re-send starts).
 * Returns how many re-sends started.
 */
function checkRuns(what: string, positions: readonly number[], rs: readonly TopicRecord[], problem: (p: string) => void): number {
  const index = new Map(positions.map((p, i) => [p, i]));
  let previous = -1;
  let furthest = -1;
  let resends = 0;
  for (const r of rs) {
    const i = index.get(positionOf(r));
    if (i === undefined) continue; // not an entry of the log: reported already
    if (i === previous + 1) {
      // the next one: new, or the continuation of a re-send
    } else if (i <= furthest) {
      resends++;
    } else {
      problem(`${what}: position ${positionOf(r)} (offset ${r.offset}) follows ${positions[previous] ?? 'nothing'} but ${positions[previous + 1]} has not been seen (skipped ahead)`);
    }
    previous = i;
    furthest = Math.max(furthest, i);
  }
  return resends;
}

const positionOf = (r: TopicRecord): number => Number(r.headers[KAFKA_HEADERS.position]);

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}
