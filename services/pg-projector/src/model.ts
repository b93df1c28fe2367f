/**
 * Operations on the model as a whole: rebuild it from the log, and a hash
 * of every table (what the crash test compares before and after a rebuild;
 * an operator can compare two models the same way).
 */
import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { REBUILT_CHANNEL, modelTables, schemaDdl } from './schema.js';

/**
 * Drop the model and create it empty, with a new generation and the
 * checkpoint at 0, in one transaction. Running projectors need not be
 * stopped: the active one finds the new generation at its next batch,
 * starts over, and replays the log from position 1 (told at once by a
 * notification on REBUILT_CHANNEL, or by the generation at its next batch).
 */
export async function rebuildModel(db: ClientBase, schema: string): Promise<void> {
  await db.query('BEGIN');
  try {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.query(schemaDdl(schema).join(';\n'));
    // Delivered at the commit: an idle active projector (no new events to make it see the new generation) starts over now.
    await db.query('SELECT pg_notify($1, $2)', [REBUILT_CHANNEL, schema]);
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** SHA-256 of each table's rows in key order (text form), and of the checkpoint's position. */
export async function modelHashes(db: ClientBase, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const { table, orderBy } of [...modelTables(), { table: 'checkpoint', orderBy: 'last_seq' }]) {
    // The checkpoint's generation differs by design between a model and its rebuild.
    const row = table === 'checkpoint' ? '(t.last_seq, t.last_stored_at)::text' : 't::text';
    const r = await db.query<{ row: string }>(`SELECT ${row} AS row FROM ${schema}.${table} t ORDER BY ${orderBy}`);
    const h = createHash('sha256');
    for (const { row } of r.rows) h.update(row).update('\n');
    out[table] = `${r.rows.length}:${h.digest('hex')}`;
  }
  return out;
}
