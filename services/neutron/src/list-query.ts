/**
 * A list request's query string as Neutron reads it (neutron/api/api_common.py,
 * pecan_wsgi/hooks/query_parameters.py and userfilters.py): equality filters
 * on attributes (repeated values: any of them), `fields`, `sort_key` /
 * `sort_dir`, `limit` / `marker` / `page_reverse`. Parsing checks everything
 * up front, with Neutron's texts, so a bad query changes nothing and asks
 * no service.
 */
import { badRequest, httpBadRequest, invalidInput } from './errors.js';
import { attributeMap } from './attributes.js';
import type { AttributeSpec, Json, ResourceDefinition } from './resource.js';

/** Query keys that are not filters (api_common's skips). */
const CONTROL_KEYS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);

export interface SortKey {
  key: string;
  ascending: boolean;
}

export interface ListQuery {
  /** Filter name → the values given (non-empty ones; repeated = any). */
  filters: Map<string, string[]>;
  /** The field names asked for (empty: every attribute). */
  fields: string[];
  sorts: SortKey[];
  /** undefined: no pagination (no limit, or limit=0). */
  limit: number | undefined;
  marker: string | undefined;
  pageReverse: boolean;
}

/** Python's repr of a list of strings, as Neutron's messages print them: `['a', 'b']`. */
const pyList = (items: readonly string[]): string => `[${items.map((i) => `'${i.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`).join(', ')}]`;

/** Every value of a key, in order; `list_args` drops empty ones. */
const all = (params: URLSearchParams, key: string): string[] => params.getAll(key).filter((v) => v !== '');

export function parseListQuery(def: ResourceDefinition, params: URLSearchParams): ListQuery {
  const attrs = attributeMap(def);
  const filters = new Map<string, string[]>();
  const invalid: string[] = [];
  for (const key of new Set(params.keys())) {
    if (CONTROL_KEYS.has(key)) continue;
    if (!Object.hasOwn(attrs, key) && !def.filters?.[key]) {
      invalid.push(key);
      continue;
    }
    const values = all(params, key);
    if (values.length > 0) filters.set(key, values);
  }
  if (invalid.length > 0) throw httpBadRequest(`${pyList(invalid)} is invalid attribute for filtering`);
  for (const [key, values] of filters) if (!def.filters?.[key]) for (const v of values) checkFilterValue(attrs[key]!, v);
  return { filters, fields: all(params, 'fields'), sorts: parseSorts(attrs, params), ...parsePagination(params) };
}

function parseSorts(attrs: Readonly<Record<string, AttributeSpec>>, params: URLSearchParams): SortKey[] {
  const keys = all(params, 'sort_key');
  const dirs = all(params, 'sort_dir');
  if (keys.length !== dirs.length) throw httpBadRequest('The number of sort_keys and sort_dirs must be same');
  const unsortable = new Set(['list', 'kvp-list', 'object']);
  const absent = keys.filter((k) => !Object.hasOwn(attrs, k) || unsortable.has(attrs[k]!.type ?? 'string'));
  if (absent.length > 0) throw httpBadRequest(`${pyList(absent)} is invalid attribute for sort_keys`);
  const invalidDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (invalidDirs.length > 0) throw httpBadRequest(`${pyList(invalidDirs)} is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  return keys.map((key, i) => ({ key, ascending: dirs[i] === 'asc' }));
}

function parsePagination(params: URLSearchParams): Pick<ListQuery, 'limit' | 'marker' | 'pageReverse'> {
  const raw = params.get('limit') ?? '0';
  // Python's int(): optional sign, digits, surrounding whitespace.
  if (!/^\s*[+-]?\d+\s*$/.test(raw) || Number(raw) < 0) throw badRequest('limit', `Limit must be an integer 0 or greater and not '${raw}'`);
  const limit = Number(raw);
  const pageReverse = (params.get('page_reverse') ?? 'False').toLowerCase() === 'true';
  if (limit === 0) return { limit: undefined, marker: undefined, pageReverse };
  return { limit, marker: params.get('marker') ?? undefined, pageReverse };
}

// oslo strutils.bool_from_string(strict=True), which neutron-lib's convert_to_boolean uses.
const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

export function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw invalidInput(`'${value}' cannot be converted to boolean`);
}

function parseInteger(value: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw invalidInput(`'${value}' is not an integer`);
  return Number(value);
}

/** neutron-lib convert_kvp_str_to_list: `key=value` (the value may be empty, may hold more `=`). */
function parseKvp(value: string): [string, string] {
  const at = value.indexOf('=');
  if (at < 0) throw invalidInput(`'${value}' is not of the form <key>=[value]`);
  return [value.slice(0, at), value.slice(at + 1)];
}

function checkFilterValue(spec: AttributeSpec, value: string): void {
  if (spec.type === 'boolean') parseBoolean(value);
  else if (spec.type === 'integer') parseInteger(value);
  else if (spec.type === 'kvp-list') parseKvp(value);
}

/** A scalar as the text a filter compares with (Neutron compares converted values; for strings that is the text). */
function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function matchesScalar(value: unknown, wanted: string, spec: AttributeSpec): boolean {
  const type = spec.type ?? (typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'integer' : 'string');
  if (type === 'boolean') return typeof value === 'boolean' && value === parseBoolean(wanted);
  if (type === 'integer') return typeof value === 'number' && value === parseInteger(wanted);
  return text(value) === wanted;
}

/**
 * One filter on one item. Lists match when any element equals a wanted
 * value; `kvp-list` attributes (`fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=S`)
 * when one element has, for each key named, one of the values named for it.
 */
function matches(item: Json, key: string, wanted: readonly string[], spec: AttributeSpec): boolean {
  const value = item[key];
  const type = spec.type ?? (Array.isArray(value) ? (value.some((e) => typeof e === 'object' && e !== null) ? 'kvp-list' : 'list') : undefined);
  if (type === 'kvp-list') {
    const want = new Map<string, Set<string>>();
    for (const [k, v] of wanted.map(parseKvp)) want.set(k, (want.get(k) ?? new Set()).add(v));
    const elements = Array.isArray(value) ? value : [];
    return elements.some((e) => typeof e === 'object' && e !== null && [...want].every(([k, vs]) => vs.has(text((e as Json)[k]) ?? '')));
  }
  if (type === 'list') return Array.isArray(value) && value.some((e) => wanted.some((w) => text(e) === w));
  return wanted.some((w) => matchesScalar(value, w, spec));
}

export function filterItems(def: ResourceDefinition, items: readonly Json[], filters: ReadonlyMap<string, readonly string[]>): Json[] {
  const attrs = attributeMap(def);
  return items.filter((item) =>
    [...filters].every(([key, wanted]) => {
      const custom = def.filters?.[key];
      return custom ? custom(item, wanted) : matches(item, key, wanted, attrs[key]!);
    }),
  );
}

/** Python 3 ordering of two values of one attribute; None (null) first, as Neutron's emulated sort puts it. */
function compare(a: unknown, b: unknown): number {
  const na = a === null || a === undefined;
  const nb = b === null || b === undefined;
  if (na || nb) return na && nb ? 0 : na ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = text(a)!;
  const sb = text(b)!;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * The sort the request asked for; paginated lists end with `id` as the last
 * key (Neutron's native pagination adds it), so pages are stable.
 */
export function sortItems(items: readonly Json[], sorts: readonly SortKey[], paginated: boolean): Json[] {
  const keys = paginated && !sorts.some((s) => s.key === 'id') ? [...sorts, { key: 'id', ascending: true }] : sorts;
  if (keys.length === 0) return [...items];
  return [...items].sort((x, y) => {
    for (const { key, ascending } of keys) {
      const c = compare(x[key], y[key]);
      if (c !== 0) return ascending ? c : -c;
    }
    return 0;
  });
}

/** api_common PaginationEmulatedHelper.paginate: a marker not in the list gives an empty page. */
export function paginate(items: readonly Json[], q: Pick<ListQuery, 'limit' | 'marker' | 'pageReverse'>): Json[] {
  if (q.limit === undefined || items.length === 0) return [...items];
  let i: number;
  if (q.marker !== undefined) {
    i = items.findIndex((item) => item['id'] === q.marker);
    if (i < 0) return [];
  } else {
    i = q.pageReverse ? items.length : 0;
  }
  if (q.pageReverse) return items.slice(Math.max(i - q.limit, 0), i);
  if (q.marker !== undefined) i += 1;
  return items.slice(i, i + q.limit);
}

export interface Link {
  rel: 'next' | 'previous';
  href: string;
}

/** Python's urlencode (quote_plus): what Neutron's links look like. */
function urlencode(pairs: ReadonlyArray<readonly [string, string]>): string {
  const quote = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replaceAll('%20', '+');
  return pairs.map(([k, v]) => `${quote(k)}=${quote(v)}`).join('&');
}

/**
 * api_common.get_pagination_links: `next` unless a forward page came back
 * short, `previous` unless a reverse page did; each link is this request's
 * query with the marker moved to the page's last (next) or first (previous)
 * item, and page_reverse dropped (next) or set to True (previous).
 */
export function paginationLinks(pathUrl: string, params: URLSearchParams, page: readonly Json[], q: Pick<ListQuery, 'limit' | 'pageReverse'>): Link[] {
  if (q.limit === undefined) return [];
  const base = [...params].filter(([k]) => k !== 'marker');
  const link = (marker: unknown, reverse: boolean): string => {
    const pairs: Array<[string, string]> = base.filter(([k]) => k !== 'page_reverse');
    if (marker !== undefined) pairs.push(['marker', String(marker)]);
    if (reverse) pairs.push(['page_reverse', 'True']);
    return `${pathUrl}?${urlencode(pairs)}`;
  };
  const links: Link[] = [];
  const short = page.length < q.limit;
  if (!(short && !q.pageReverse)) links.push({ rel: 'next', href: link(page.at(-1)?.['id'], false) });
  if (!(short && q.pageReverse)) links.push({ rel: 'previous', href: link(page[0]?.['id'], true) });
  return links;
}

/** userfilters.py: exactly the named keys the item has (a name it lacks is simply absent). */
export function selectFields(item: Json, fields: readonly string[]): Json {
  if (fields.length === 0) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => fields.includes(k)));
}
