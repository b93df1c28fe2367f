/**
 * One batch of events into the model, in ONE transaction with the
 * checkpoint: either every row of the batch and the new `last_seq` commit,
 * or nothing does. The checkpoint row is locked first (FOR UPDATE) and only
 * events past it are written, so a position already applied — redelivered
 * because the process died between the commit and the acknowledgement, or
 * because its ack was lost — is skipped inside the same transaction that
 * would otherwise write it twice. Two writers (which the advisory lock
 * prevents anyway) would queue on that row lock and the second would skip
 * what the first wrote.
 */
import type { ClientBase } from 'pg';
import type { AuditKind } from '@strata/contracts/audit/kinds';
import type { StoredEvent } from '@strata/eventlog';
import { eventRow, resourcesOf, versionTable, type EventRow } from './rows.js';

export interface Checkpoint {
  generation: string;
  lastSeq: number;
}

/** The model was created again (a rebuild) since the projector read its checkpoint. */
export class ModelRebuilt extends Error {
  constructor(readonly expected: string, readonly found: string) {
    super(`the read model was rebuilt (generation ${found}, this projector started from ${expected}): starting over from its checkpoint`);
  }
}

export interface AppliedBatch {
  /** Events written. */
  applied: number;
  /** Events at or below the checkpoint: already in the model. */
  skipped: number;
  /** The checkpoint after the batch. */
  lastSeq: number;
}

export async function readCheckpoint(db: ClientBase, schema: string): Promise<Checkpoint> {
  const r = await db.query<{ generation: string; last_seq: string }>(`SELECT generation, last_seq FROM ${schema}.checkpoint`);
  const row = r.rows[0];
  if (row === undefined) throw new Error(`${schema}.checkpoint has no row: the model's schema is damaged; rebuild it`);
  return { generation: row.generation, lastSeq: Number(row.last_seq) };
}

/** Apply `events` (in log order) on top of generation `generation`; the caller acknowledges them only after this resolves. */
export async function applyBatch(db: ClientBase, schema: string, generation: string, events: readonly StoredEvent[]): Promise<AppliedBatch> {
  await db.query('BEGIN');
  try {
    const r = await db.query<{ generation: string; last_seq: string }>(`SELECT generation, last_seq FROM ${schema}.checkpoint FOR UPDATE`);
    const cp = r.rows[0];
    if (cp === undefined) throw new Error(`${schema}.checkpoint has no row`);
    if (cp.generation !== generation) throw new ModelRebuilt(generation, cp.generation);
    let lastSeq = Number(cp.last_seq);
    const fresh: StoredEvent[] = [];
    for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
      if (e.seq <= lastSeq) continue;
      fresh.push(e);
      lastSeq = e.seq;
    }
    if (fresh.length > 0) {
      const rows = fresh.map(eventRow);
      await insertEvents(db, schema, rows);
      await writeVersions(db, schema, fresh, rows);
      await db.query(`UPDATE ${schema}.checkpoint SET last_seq = $1, last_stored_at = $2`, [lastSeq, rows[rows.length - 1]!.storedAt]);
    }
    await db.query('COMMIT');
    return { applied: fresh.length, skipped: events.length - fresh.length, lastSeq };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function insertEvents(db: ClientBase, schema: string, rows: readonly EventRow[]): Promise<void> {
  const col = <K extends keyof EventRow>(k: K): Array<EventRow[K]> => rows.map((r) => r[k]);
  await db.query(
    `INSERT INTO ${schema}.events (seq, id, type, version, context, aggregate_type, aggregate_id, subject, tenant, actor,
       occurred_at, stored_at, correlation_id, causation_id, reason, trace, data, unreadable)
     SELECT seq, id, type, version, context, aggregate_type, aggregate_id, subject, tenant, actor,
       occurred_at, stored_at, correlation_id, causation_id, reason, trace::jsonb, data::jsonb, unreadable
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
       $11::timestamptz[], $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])
       AS u(seq, id, type, version, context, aggregate_type, aggregate_id, subject, tenant, actor,
       occurred_at, stored_at, correlation_id, causation_id, reason, trace, data, unreadable)`,
    [
      col('seq'), col('id'), col('type'), col('version'), col('context'), col('aggregateType'), col('aggregateId'), col('subject'), col('tenant'), col('actor'),
      col('occurredAt'), col('storedAt'), col('correlationId'), col('causationId'), col('reason'), col('trace'), col('data'), col('unreadable'),
    ],
  );
}

interface VersionRow {
  resourceId: string;
  /** 0 until numbered after the previous current version is known. */
  version: number;
  row: EventRow;
  toSeq: number | null;
  to: string | null;
}

/**
 * Per kind touched by the batch: close each resource's current version at
 * its first event in the batch (one UPDATE per table, which also tells the
 * number of that version), then insert the batch's versions, each closed by
 * the resource's next event in the batch, the last one current.
 */
async function writeVersions(db: ClientBase, schema: string, events: readonly StoredEvent[], rows: readonly EventRow[]): Promise<void> {
  const byKind = new Map<AuditKind, VersionRow[]>();
  events.forEach((e, i) => {
    for (const ref of resourcesOf(e)) {
      let list = byKind.get(ref.kind);
      if (list === undefined) byKind.set(ref.kind, (list = []));
      list.push({ resourceId: ref.id, version: 0, row: rows[i]!, toSeq: null, to: null });
    }
  });
  for (const [kind, versions] of byKind) {
    const table = `${schema}.${versionTable(kind)}`;
    const firstOf = new Map<string, VersionRow>();
    const latest = new Map<string, VersionRow>();
    for (const v of versions) {
      const prev = latest.get(v.resourceId);
      if (prev) {
        prev.toSeq = v.row.seq;
        prev.to = v.row.storedAt;
        v.version = prev.version + 1;
      } else {
        firstOf.set(v.resourceId, v);
        v.version = 1;
      }
      latest.set(v.resourceId, v);
    }
    const firsts = [...firstOf.values()];
    const closed = await db.query<{ resource_id: string; version: number }>(
      `UPDATE ${table} t SET valid_to_seq = u.to_seq, valid_to = u.to_time
       FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(resource_id, to_seq, to_time)
       WHERE t.resource_id = u.resource_id AND t.valid_to_seq IS NULL
       RETURNING t.resource_id, t.version`,
      [firsts.map((v) => v.resourceId), firsts.map((v) => v.row.seq), firsts.map((v) => v.row.storedAt)],
    );
    const before = new Map(closed.rows.map((r) => [r.resource_id, r.version]));
    // Number each resource's versions after its last one in the table.
    for (const v of versions) v.version += before.get(v.resourceId) ?? 0;
    const col = <T>(f: (v: VersionRow) => T): T[] => versions.map(f);
    await db.query(
      `INSERT INTO ${table} (resource_id, version, tenant, valid_from_seq, valid_to_seq, valid_from, valid_to,
         event_id, event_type, actor, reason, occurred_at, data)
       SELECT resource_id, version, tenant, valid_from_seq, valid_to_seq, valid_from, valid_to,
         event_id, event_type, actor, reason, occurred_at, data::jsonb
       FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::bigint[], $6::timestamptz[], $7::timestamptz[],
         $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[])
         AS u(resource_id, version, tenant, valid_from_seq, valid_to_seq, valid_from, valid_to,
         event_id, event_type, actor, reason, occurred_at, data)`,
      [
        col((v) => v.resourceId), col((v) => v.version), col((v) => v.row.tenant), col((v) => v.row.seq), col((v) => v.toSeq),
        col((v) => v.row.storedAt), col((v) => v.to), col((v) => v.row.id), col((v) => v.row.type), col((v) => v.row.actor),
        col((v) => v.row.reason), col((v) => v.row.occurredAt), col((v) => v.row.data),
      ],
    );
  }
}
