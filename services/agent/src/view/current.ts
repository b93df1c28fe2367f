/**
 * The host view as its readers see it: a complete snapshot, the KV revision
 * it includes and, when the source keeps one, its change journal. The view
 * store (store.ts) and watcher (kv-watch.ts) provide it; the agent schedules
 * on it and the dataplane applies it.
 */
import type { HostInfo, ViewPosition } from '@strata/contracts';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { ViewChange } from './store.js';

/**
 * The change journal of a host view (view/store.ts): what changed after a
 * position, so a pass can see that only member keys changed without
 * comparing whole views. `epoch` names the store: a re-watch starts a new one.
 */
export interface ViewJournal {
  epoch: number;
  /** The position after the last change (live: read it together with `view`). */
  readonly position: number;
  changesSince(from: number): ViewChange[] | null;
  trim(upTo: number): void;
}

/** The current host view; null until the initial snapshot is complete. */
export interface CurrentView {
  /** A complete snapshot (may be computed on access: read it only when needed). */
  readonly view: HostViewSnapshot;
  /** The KV revision the view includes. */
  revision: number;
  /**
   * The log position the view reflects (`<h>.position.view`: hostview writes
   * it after every key it covers); null while the view has none. Read it
   * together with `view` (no await in between): it is the position of that view.
   */
  readonly viewPosition: number | null;
  /** The trace context written with that position (hostview's publish span), read with it: the pass applying it continues that trace. */
  readonly viewTrace?: ViewPosition['trace'];
  journal?: ViewJournal;
}

export type ViewSource = () => CurrentView | null;

type Collections = Omit<HostViewSnapshot, 'host'>;

/** A journal entry that changes kernel objects (the view's position changes none: it has no delta). */
export type ObjectChange = ViewChange & { field: Exclude<ViewChange['field'], 'position'> };
export const isObjectChange = (c: ViewChange): c is ObjectChange => c.field !== 'position';

/**
 * One journalled change, typed by the collection it is in: `before` and
 * `after` are the values the store parsed with that collection's schema
 * (absent: no object). What the dataplane's managers receive on their fast paths.
 */
export type ViewDelta =
  | { [F in keyof Collections]: { field: F; id: string; before?: Collections[F][string]; after?: Collections[F][string] } }[keyof Collections]
  | { field: 'host'; id: ''; before?: HostInfo; after?: HostInfo };

/** A journal entry as a typed delta (the store only journals values that passed the field's schema). */
export function viewDelta(c: ObjectChange): ViewDelta {
  return { field: c.field, id: c.id, ...(c.before !== undefined ? { before: c.before } : {}), ...(c.after !== undefined ? { after: c.after } : {}) } as ViewDelta;
}
