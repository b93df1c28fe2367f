/**
 * The read model's tables, all in one PostgreSQL schema (default `strata`):
 *
 * - `checkpoint`: one row — the last log position applied (`last_seq`) and
 *   the model's `generation`, a random id drawn when the schema is created.
 *   A rebuild creates the schema again with a new generation; an active
 *   projector that finds another generation than the one it started from
 *   stops and starts over from the new checkpoint (position 1).
 * - `events`: every event of the log, one row per position: the envelope's
 *   fields and the payload as jsonb.
 * - `versions_<kind>` for each audit kind (security-group →
 *   versions_security_group): one row per version of a resource. A version
 *   is what one event made of the resource; the row holds that event (its
 *   position, type, actor, reason, time and data) and the range in which
 *   the version was current: from its event (`valid_from_seq`/`valid_from`)
 *   to the resource's next event (`valid_to_seq`/`valid_to`, both null
 *   while current). The row does not hold the resource's full state: that
 *   needs the owning service's fold, and a read model that folded would be
 *   a second implementation of the domain (the `strata audit` commands ask
 *   the owner). A deleted resource's last version is its deleting event,
 *   so "did it exist at T" is "its version at T is not a deletion".
 *
 * Times are the log's (`stored_at`, the JetStream timestamp: it grows with
 * the position), so "as of T" and "as of position S" pick the same rows.
 */
import { AUDIT_KIND_NAMES } from '@strata/contracts/audit/kinds';
import type { ClientBase } from 'pg';
import { versionTable } from './rows.js';

/** The LISTEN/NOTIFY channel on which a rebuild tells the active projector (payload: the schema). */
export const REBUILT_CHANNEL = 'strata_pg_projector_rebuilt';

/** A schema name that is a plain SQL identifier (it is written into statements unquoted). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema name as an SQL identifier (plain, so it needs no quoting). */
export function schemaName(s: string): string {
  if (!SCHEMA_NAME.test(s)) throw new Error(`STRATA_PG_SCHEMA must be a plain lower-case SQL identifier (a-z 0-9 _, at most 63), got ${JSON.stringify(s)}`);
  return s;
}

const versionDdl = (schema: string, table: string): string[] => [
  `CREATE TABLE IF NOT EXISTS ${schema}.${table} (
    resource_id text NOT NULL,
    version integer NOT NULL,
    tenant text NOT NULL,
    valid_from_seq bigint NOT NULL REFERENCES ${schema}.events (seq),
    valid_to_seq bigint,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    event_id text NOT NULL,
    event_type text NOT NULL,
    actor text NOT NULL,
    reason text,
    occurred_at timestamptz,
    data jsonb,
    PRIMARY KEY (resource_id, version),
    CHECK (valid_to_seq IS NULL OR valid_to_seq > valid_from_seq)
  )`,
  // One current version per resource: what the projector closes when the next event comes.
  `CREATE UNIQUE INDEX IF NOT EXISTS ${table}_current ON ${schema}.${table} (resource_id) WHERE valid_to_seq IS NULL`,
  `CREATE INDEX IF NOT EXISTS ${table}_seq ON ${schema}.${table} (valid_from_seq, valid_to_seq)`,
  `CREATE INDEX IF NOT EXISTS ${table}_time ON ${schema}.${table} (tenant, valid_from, valid_to)`,
  `CREATE INDEX IF NOT EXISTS ${table}_actor ON ${schema}.${table} (actor, valid_from)`,
];

/** Every statement that creates the model (idempotent); the checkpoint row comes with a fresh generation. */
export function schemaDdl(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE IF NOT EXISTS ${schema}.checkpoint (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      generation text NOT NULL,
      last_seq bigint NOT NULL,
      last_stored_at timestamptz
    )`,
    `INSERT INTO ${schema}.checkpoint (generation, last_seq) VALUES (md5(random()::text || clock_timestamp()::text), 0) ON CONFLICT DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS ${schema}.events (
      seq bigint PRIMARY KEY,
      id text NOT NULL,
      type text NOT NULL,
      version integer NOT NULL,
      context text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      subject text NOT NULL,
      tenant text NOT NULL,
      actor text NOT NULL,
      occurred_at timestamptz,
      stored_at timestamptz NOT NULL,
      correlation_id text NOT NULL,
      causation_id text,
      reason text,
      trace jsonb,
      data jsonb,
      unreadable text
    )`,
    `CREATE INDEX IF NOT EXISTS events_aggregate ON ${schema}.events (context, aggregate_type, aggregate_id, seq)`,
    `CREATE INDEX IF NOT EXISTS events_stored_at ON ${schema}.events (stored_at)`,
    `CREATE INDEX IF NOT EXISTS events_occurred_at ON ${schema}.events (occurred_at)`,
    `CREATE INDEX IF NOT EXISTS events_actor ON ${schema}.events (actor, stored_at)`,
    `CREATE INDEX IF NOT EXISTS events_type ON ${schema}.events (type, stored_at)`,
    `CREATE INDEX IF NOT EXISTS events_tenant ON ${schema}.events (tenant, seq)`,
    `CREATE INDEX IF NOT EXISTS events_id ON ${schema}.events (id)`,
    `CREATE INDEX IF NOT EXISTS events_correlation ON ${schema}.events (correlation_id)`,
    ...AUDIT_KIND_NAMES.flatMap((k) => versionDdl(schema, versionTable(k))),
  ];
}

/** Every table of the model, each with the columns that order its rows (for hashing and comparing). */
export function modelTables(): Array<{ table: string; orderBy: string }> {
  return [
    { table: 'events', orderBy: 'seq' },
    ...AUDIT_KIND_NAMES.map((k) => ({ table: versionTable(k), orderBy: 'resource_id, version' })),
  ];
}

/**
 * Create the model if it is not there, in one transaction (a crash half-way
 * leaves nothing). A takeover checks with one query instead of a hundred
 * statements: the checkpoint table is created in the same transaction as
 * everything else, so it exists only with the rest.
 */
export async function ensureSchema(db: ClientBase, schema: string): Promise<void> {
  const r = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${schema}.checkpoint`]);
  if (r.rows[0]?.t != null) return;
  await db.query('BEGIN');
  try {
    await db.query(schemaDdl(schema).join(';\n'));
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
