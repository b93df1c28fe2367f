/**
 * Rendering results: readable tables for people, the API's result as JSON
 * for scripts. Writers are injected (Io) so tests capture output.
 */
import Table from 'cli-table3';

export type Format = 'table' | 'json';
export const FORMATS: readonly Format[] = ['table', 'json'];

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Present when stderr is a terminal: replace the current line of it with `text` (progress). */
  redraw?(text: string): void;
}

export interface Column<T> {
  header: string;
  value(row: T): string | number | boolean | null | undefined;
}

// No colours or ANSI codes: output is copied into tickets and diffed in tests.
const plain = { head: [], border: [] };

function cell(v: string | number | boolean | null | undefined): string {
  return v === undefined || v === null || v === '' ? '-' : String(v);
}

/** One row per item, one column per field. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const table = new Table({ head: columns.map((c) => c.header), style: plain });
  for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
  return table.toString();
}

/** One item as field/value pairs, for `show`. */
export function renderRecord<T>(row: T, columns: readonly Column<T>[]): string {
  const table = new Table({ style: plain });
  for (const c of columns) table.push({ [c.header]: cell(c.value(row)) });
  return table.toString();
}

/**
 * The API's result as JSON. proto-loader adds a virtual `_name` key for each
 * proto3 optional field (a decoding artefact, not API data): dropped here.
 */
export function renderJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key.startsWith('_') ? undefined : v), 2);
}

/** One line per value (JSON Lines), for streams. */
export function renderJsonLine(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key.startsWith('_') ? undefined : v));
}

export function printOne<T>(io: Io, format: Format, item: T, columns: readonly Column<T>[]): void {
  io.out(format === 'json' ? renderJson(item) : renderRecord(item, columns));
}

export function printPage<T>(io: Io, format: Format, page: { items: T[]; next: string }, columns: readonly Column<T>[]): void {
  if (format === 'json') {
    io.out(renderJson(page));
    return;
  }
  io.out(renderTable(page.items, columns));
  // On stderr so the table on stdout stays clean for people piping it.
  if (page.next !== '') io.err(`more results: repeat with --after ${page.next}`);
}

export function printDeleted(io: Io, format: Format, kind: string, result: { id: string }): void {
  io.out(format === 'json' ? renderJson(result) : `deleted ${kind} ${result.id}`);
}
