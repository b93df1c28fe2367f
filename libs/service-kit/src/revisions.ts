/**
 * The two checks every update decider makes (issue 15, "Updates"): the
 * caller's expected revision against the resource's, and which requested
 * fields really differ (only those produce an event).
 */
import { RevisionConflictError } from '@strata/errors';
import { writeCanonical } from './digest.js';

/** Refuse with RevisionConflictError when the caller named a revision and the resource is at another. */
export function checkRevision(kind: string, id: string, expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) throw new RevisionConflictError(kind, id, expected, actual);
}

const canonical = (v: unknown): string => {
  let out = '';
  writeCanonical(v ?? null, (chunk) => (out += chunk));
  return out;
};

/**
 * The fields of `current` (the updatable ones) whose requested value (absent
 * = unchanged) differs, compared by value (arrays in order, objects by
 * content); other keys of the request are not looked at. Empty: the update
 * changes nothing and writes nothing.
 */
export function changedFields<T extends object>(current: T, requested: { [K in keyof T]?: T[K] | undefined }): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(current) as Array<keyof T>) {
    const next = requested[key];
    if (next !== undefined && canonical(next) !== canonical(current[key])) out[key] = next as T[keyof T];
  }
  return out;
}

/** Did the update change anything? */
export const isEmpty = (fields: object): boolean => Object.keys(fields).length === 0;

/**
 * Fold an update event into the entry it is about: its changed fields, and
 * one revision more. No entry (deleted since): nothing to do.
 */
export function applyUpdate<T extends { revision: number }>(entry: T | undefined, changed: Partial<T>): void {
  if (entry) Object.assign(entry, changed, { revision: entry.revision + 1 });
}
