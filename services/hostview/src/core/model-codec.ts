/**
 * The model as plain JSON and back, for audit snapshots (app/audit-snapshots.ts).
 *
 * The model is Maps and Sets of plain records. A snapshot is plain JSON, and
 * the snapshot format splits large plain objects over many lines (never
 * arrays), so a Map becomes an object `{"$m": {…}}` and a Set `{"$s": {…}}`
 * whose keys are the Map's keys or the Set's elements, each with a ':' in
 * front: a key that looks like an array index ("42") would otherwise be
 * moved to the front of a JS object, and the Maps' iteration order (which
 * the families may follow) must come back as it was. Records are copied key
 * by key. Map keys and Set elements are strings throughout the model; any
 * other key, or a record with a `$m`/`$s` key of its own, is a programming
 * error and throws (the snapshot is then not written: the log stays the
 * source).
 */
import { emptyModel, type Model } from './model.js';

/** Bump when the model's shape changes: older snapshots are then ignored and the log replayed. (2: gateway devices and bindings; 3: physical MACs and VTEPs; 4: peering segments; 5: group federation tags and tagged physical endpoints.) */
export const MODEL_SCHEMA_VERSION = 5;

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

export function modelToPlain(model: Model): Plain {
  return toPlain(model);
}

export function modelFromPlain(plain: unknown): Model {
  const m = fromPlain(plain) as Model;
  const empty = emptyModel();
  // A snapshot of a model with every part present; anything else is not ours.
  for (const key of Object.keys(empty) as (keyof Model)[]) {
    if (!(key in (m as object))) throw new Error(`audit snapshot has no ${key}`);
  }
  return m;
}

function toPlain(v: unknown): Plain {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Map) {
    const out: Record<string, Plain> = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string') throw new Error(`model map key ${String(k)} is not a string`);
      out[`:${k}`] = toPlain(x);
    }
    return { $m: out };
  }
  if (v instanceof Set) {
    const out: Record<string, Plain> = {};
    for (const k of v) {
      if (typeof k !== 'string') throw new Error(`model set element ${String(k)} is not a string`);
      out[`:${k}`] = 1;
    }
    return { $s: out };
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'object') {
    const out: Record<string, Plain> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '$m' || k === '$s') throw new Error(`model record has a key ${k}`);
      if (x !== undefined) out[k] = toPlain(x);
    }
    return out;
  }
  throw new Error(`model value of type ${typeof v} cannot be snapshotted`);
}

function fromPlain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$m') {
    const m = new Map<string, unknown>();
    for (const [k, x] of Object.entries(o['$m'] as Record<string, unknown>)) m.set(k.slice(1), fromPlain(x));
    return m;
  }
  if (keys.length === 1 && keys[0] === '$s') return new Set(Object.keys(o['$s'] as Record<string, unknown>).map((k) => k.slice(1)));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fromPlain(o[k]);
  return out;
}
