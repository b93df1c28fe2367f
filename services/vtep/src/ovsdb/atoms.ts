/**
 * OVSDB's JSON value notation (RFC 7047 §5.1): atoms, `["uuid", …]`,
 * `["named-uuid", …]`, `["set", […]]` (a one-element set may be the bare
 * element) and `["map", [[k, v], …]]`, and conversions to plain values.
 */

export type Uuid = ['uuid', string];
export type NamedUuid = ['named-uuid', string];
export type Ref = Uuid | NamedUuid;

export const uuid = (id: string): Uuid => ['uuid', id];
export const namedUuid = (name: string): NamedUuid => ['named-uuid', name];
export const ovsSet = (items: readonly unknown[]): ['set', unknown[]] => ['set', [...items]];
export const ovsMap = (entries: Iterable<readonly [unknown, unknown]>): ['map', unknown[][]] => ['map', [...entries].map(([k, v]) => [k, v])];

const tagged = (v: unknown, tag: string): v is [string, unknown] => Array.isArray(v) && v.length === 2 && v[0] === tag;

/** The row id of a `["uuid", id]`, else undefined. */
export function uuidOf(v: unknown): string | undefined {
  return tagged(v, 'uuid') && typeof v[1] === 'string' ? v[1] : undefined;
}

/** The elements of a set column (a bare atom is a one-element set). */
export function setOf(v: unknown): unknown[] {
  if (tagged(v, 'set') && Array.isArray(v[1])) return v[1];
  return v === undefined ? [] : [v];
}

/** The entries of a map column. */
export function mapOf(v: unknown): [unknown, unknown][] {
  return tagged(v, 'map') && Array.isArray(v[1]) ? (v[1] as [unknown, unknown][]) : [];
}

/** An optional column (a set of at most one) as its value or undefined. */
export function optional(v: unknown): unknown {
  const s = setOf(v);
  return s.length === 1 ? s[0] : undefined;
}
