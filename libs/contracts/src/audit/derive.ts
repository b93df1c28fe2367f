/**
 * Show, diff and blame of one resource, derived from its versions (the
 * owning service's `history` answer): pure, so the api answers them without
 * a rule of its own and the tests can check them on any list of versions.
 *
 * Fields are compared by path: a dotted path into the view; an array whose
 * entries are all objects with a string `id` (a group's rules, a port's
 * address pairs with ids) is keyed by those ids (`rules[<id>].protocol`), so
 * removing one rule is one change, not a shift of every later index; any
 * other array is one value (`fixedIps`, `groupIds`): it changed or it did not.
 */
import type { EventRef, ResourceVersion, ResourceView } from './history.js';
import type { AuditKind } from './kinds.js';
import type { AuditBlame, AuditDiff, AuditPoint, AuditShow, BlamedField, FieldChange } from './views.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyedById = (a: unknown[]): a is Array<Record<string, unknown> & { id: string }> =>
  a.length > 0 && a.every((x) => isObject(x) && typeof x.id === 'string') && new Set(a.map((x) => (x as { id: string }).id)).size === a.length;

/** Every leaf of a view by path (see the file comment); an empty object or array is a leaf. */
export function flattenView(view: ResourceView): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (value: unknown, path: string): void => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const k of Object.keys(value).sort()) walk(value[k], path ? `${path}.${k}` : k);
    } else if (Array.isArray(value) && keyedById(value)) {
      for (const entry of value) walk(entry, `${path}[${entry.id}]`);
    } else {
      out.set(path, value);
    }
  };
  if (view) walk(view, '');
  return out;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The field changes from one view to the next, all made by `event`, in path order. */
export function fieldChanges(before: ResourceView, after: ResourceView, event: EventRef): FieldChange[] {
  const b = flattenView(before);
  const a = flattenView(after);
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort();
  const out: FieldChange[] = [];
  for (const path of paths) {
    const was = b.has(path);
    const is = a.has(path);
    if (was && is && same(b.get(path), a.get(path))) continue;
    out.push({ path, ...(was ? { before: b.get(path) } : {}), ...(is ? { after: a.get(path) } : {}), event });
  }
  return out;
}

/** The version in force at a position: the last one at or before it (undefined: none yet). */
export function versionAt(versions: readonly ResourceVersion[], seq: number): ResourceVersion | undefined {
  let found: ResourceVersion | undefined;
  for (const v of versions) {
    if (v.event.seq > seq) break;
    found = v;
  }
  return found;
}

export function showAt(kind: AuditKind, id: string, versions: readonly ResourceVersion[], at: AuditPoint): AuditShow {
  const v = versionAt(versions, at.seq);
  return { kind, id, at, view: v?.view ?? null, lastChange: v?.event ?? null };
}

export function diffBetween(kind: AuditKind, id: string, versions: readonly ResourceVersion[], from: AuditPoint, to: AuditPoint): AuditDiff {
  const start = versionAt(versions, from.seq)?.view ?? null;
  let current: ResourceView = start;
  const changes: FieldChange[] = [];
  for (const v of versions) {
    if (v.event.seq <= from.seq) continue;
    if (v.event.seq > to.seq) break;
    changes.push(...fieldChanges(current, v.view, v.event));
    current = v.view;
  }
  return { kind, id, from, to, before: start, after: current, changes };
}

export function blameAt(kind: AuditKind, id: string, versions: readonly ResourceVersion[], at: AuditPoint): AuditBlame {
  const setBy = new Map<string, EventRef>();
  let current: ResourceView = null;
  for (const v of versions) {
    if (v.event.seq > at.seq) break;
    for (const c of fieldChanges(current, v.view, v.event)) setBy.set(c.path, c.event);
    current = v.view;
  }
  const fields: BlamedField[] = [...flattenView(current)].map(([path, value]) => ({ path, value, event: setBy.get(path)! }));
  return { kind, id, at, view: current, fields };
}
