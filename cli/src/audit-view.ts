/**
 * `strata audit`: reading a point in the log from the command line, and
 * rendering the AuditService's answers for people (pure, so the tests pin
 * the text). Every answer names the position it was taken at and how it was
 * asked; every change names its event (position, time, type, actor, reason,
 * correlation).
 */
import { InvalidArgumentError } from 'commander';
import type {
  AuditBlameResponse__Output,
  AuditDiffResponse__Output,
  AuditEventRef__Output,
  AuditHostDiffResponse__Output,
  AuditHostLine__Output,
  AuditHostResponse__Output,
  AuditPoint,
  AuditPosition__Output,
  AuditShowResponse__Output,
  AuditUnreadableEvent__Output,
} from '@strata/proto';

const RELATIVE = /^-(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
export const POINT_HELP = 'a log position (digits), an ISO-8601 time like 2026-12-06T14:03:00Z, or a time ago like -15m (s, m, h, d)';

/**
 * `--at`/`--from`/`--to`: digits only are a log position; `-15m` is that long
 * before now (this machine's clock), sent as the time it names; anything
 * else must look like an ISO-8601 date-time (the API checks it exactly and
 * resolves it to a position).
 */
export function logPoint(value: string, now: () => number = Date.now): AuditPoint {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`log positions start at 1 and are at most ${Number.MAX_SAFE_INTEGER}`);
    return { position: String(n) };
  }
  const ago = RELATIVE.exec(value);
  if (ago) return { time: new Date(now() - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString() };
  if (ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return { time: value };
  throw new InvalidArgumentError(`must be ${POINT_HELP}`);
}

/** "position 1234 (stored 2026-12-06T14:03:00.123Z; asked: time 2026-12-06T14:03:00Z)". */
export function positionLabel(p: AuditPosition__Output | null): string {
  return p === null ? 'position ?' : `position ${p.seq} (stored ${p.storedAt}; asked: ${p.requested})`;
}

/** Who, when and why of the event that made a change. */
export function eventLabel(e: AuditEventRef__Output | null): string {
  if (e === null) return 'between the two points';
  return `position ${e.seq}, ${e.storedAt}, ${e.type}, actor ${e.actor}, reason ${e.reason === '' ? '-' : JSON.stringify(e.reason)}, correlation ${e.correlationId}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const scalarText = (v: unknown): string => (typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v));

/** A JSON value as indented `key: value` lines (arrays as `- ` items, YAML-like). */
export function treeLines(value: unknown, indent = 0): string[] {
  const pad = ' '.repeat(indent);
  const nested = (v: unknown): boolean => (isObject(v) && Object.keys(v).length > 0) || (Array.isArray(v) && v.length > 0);
  const empty = (v: unknown): string => (Array.isArray(v) ? '[]' : isObject(v) ? '{}' : scalarText(v));
  if (isObject(value)) {
    return Object.entries(value).flatMap(([k, v]) => (nested(v) ? [`${pad}${k}:`, ...treeLines(v, indent + 2)] : [`${pad}${k}: ${empty(v)}`]));
  }
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!nested(item)) return [`${pad}- ${empty(item)}`];
      const [first, ...rest] = treeLines(item, indent + 2);
      return [`${pad}- ${first!.trimStart()}`, ...rest];
    });
  }
  return [`${pad}${scalarText(value)}`];
}

/** Left parts padded to one column (at most `cap` wide) so the events line up. */
function aligned(rows: Array<[string, string]>, cap = 60): string[] {
  const width = Math.min(cap, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`);
}

const view = (json: string): unknown => JSON.parse(json) as unknown;
const NOT_THERE = '(did not exist at this point: not yet created, or deleted)';

export function renderShow(r: AuditShowResponse__Output): string {
  const v = view(r.viewJson);
  return [
    `${r.kind} ${r.id} at ${positionLabel(r.at)}`,
    ...(r.lastChange ? [`last change: ${eventLabel(r.lastChange)}`] : []),
    ...(v === null ? [NOT_THERE] : treeLines(v, 2)),
  ].join('\n');
}

function changeText(c: { beforeJson?: string; afterJson?: string; path: string }): string {
  if (c.beforeJson === undefined) return `+ ${c.path}: ${c.afterJson ?? ''}`;
  if (c.afterJson === undefined) return `- ${c.path}: ${c.beforeJson}`;
  return `~ ${c.path}: ${c.beforeJson} -> ${c.afterJson}`;
}

export function renderDiff(r: AuditDiffResponse__Output): string {
  const head = `${r.kind} ${r.id} from ${positionLabel(r.from)} to ${positionLabel(r.to)}`;
  if (r.changes.length === 0) return `${head}\nno changes`;
  const rows = r.changes.map((c): [string, string] => [changeText(c), eventLabel(c.event)]);
  return [head, ...aligned(rows), `${r.changes.length} field change${r.changes.length === 1 ? '' : 's'}`].join('\n');
}

export function renderBlame(r: AuditBlameResponse__Output): string {
  const head = `${r.kind} ${r.id} at ${positionLabel(r.at)}`;
  if (view(r.viewJson) === null) return `${head}\n${NOT_THERE}`;
  return [head, ...aligned(r.fields.map((f): [string, string] => [`${f.path}: ${f.valueJson}`, eventLabel(f.event)]))].join('\n');
}

const lineGroup = (l: AuditHostLine__Output | null): string => (l === null ? '' : `${l.kind}  ${l.where}`);

export function renderHost(r: AuditHostResponse__Output): string {
  const groups = new Map<string, string[]>();
  for (const l of r.lines) groups.set(lineGroup(l), [...(groups.get(lineGroup(l)) ?? []), `  ${l.text}`]);
  return [
    `host ${r.hostId} at ${positionLabel(r.at)}`,
    `${r.lines.length} lines from ${r.keys} host-view keys (replayed ${r.replayed} events after position ${r.snapshotSeq})`,
    ...[...groups].flatMap(([group, lines]) => [`${group}:`, ...lines]),
  ].join('\n');
}

export function renderHostDiff(r: AuditHostDiffResponse__Output): string {
  const head = `host ${r.hostId} from ${positionLabel(r.from)} to ${positionLabel(r.to)}`;
  const note = r.perEvent ? [] : ['(too many events in between to attribute each line: only the two points were rendered; the events are listed below)'];
  const rows = r.changes.map((c): [string, string] => [`${c.change === 'added' ? '+' : '-'} ${lineGroup(c.line)}  ${c.line?.text ?? ''}`, eventLabel(c.event)]);
  const events = r.events.map((e) => `  ${eventLabel(e.event)}: ${e.keys.length} key${e.keys.length === 1 ? '' : 's'}`);
  return [
    head,
    ...note,
    ...(rows.length === 0 ? ['no changes'] : aligned(rows, 100)),
    ...(events.length === 0 ? [] : [`events that changed the host's view (${events.length}):`, ...events]),
  ].join('\n');
}

/** Quarantined events of the resource's aggregate: said on stderr, so the answer on stdout stays as it is. */
export function unreadableWarnings(unreadable: readonly AuditUnreadableEvent__Output[]): string[] {
  return unreadable.map((u) => `warning: the event at position ${u.seq} could not be read (${u.reason}): the views after it may lack its effect`);
}
