/**
 * The client's copy of the monitored tables (RFC 7047 §4.1.5-6): the
 * monitor's initial contents, then each `update` notification's
 * `<table-updates>` applied in order. Rows are the monitored columns as the
 * server sent them (OVSDB notation; see atoms.ts).
 */

export type Row = Record<string, unknown>;
export type Table = Map<string, Row>;

export class Replica {
  readonly tables = new Map<string, Table>();

  constructor(tableNames: readonly string[]) {
    for (const t of tableNames) this.tables.set(t, new Map());
  }

  table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new Error(`table ${name} is not monitored`);
    return t;
  }

  /** Apply one `<table-updates>` object: per row, `new` replaces it, no `new` deletes it. */
  apply(updates: unknown): void {
    if (typeof updates !== 'object' || updates === null) return;
    for (const [name, rows] of Object.entries(updates as Record<string, Record<string, { old?: Row; new?: Row }>>)) {
      const t = this.tables.get(name);
      if (!t) continue;
      for (const [id, u] of Object.entries(rows)) {
        if (u.new) t.set(id, u.new);
        else t.delete(id);
      }
    }
  }
}
