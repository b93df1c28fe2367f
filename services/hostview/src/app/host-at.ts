/**
 * A hypervisor's view at a past log position (the audit service's
 * `strata.qry.hostview.at`, libs/contracts/src/audit/hostview-at.ts),
 * rebuilt in a model of its own — the live model, which has moved on, is
 * never read or touched:
 *
 *   1. the nearest audit snapshot at or before the position (or the empty model);
 *   2. the log from there up to the position (EventStore.read with toSeq),
 *      folded by the same input nodes as live (applyEvent);
 *   3. the host's keys by the same key families as live (computeHost: the
 *      full recompute of one host, the incremental engine's oracle).
 *
 * With `fromSeq`: the model is built at `fromSeq`, then each event up to
 * `toSeq` is applied and the host's view kept by the live incremental engine
 * (HostViews, owning this host only); each event that changed a key is
 * recorded with the keys it changed (new value, or null when removed).
 *
 * Bounded: the events to fold (from the snapshot used to `toSeq`) must not
 * exceed `maxReplay` (RESOURCE_EXHAUSTED before any work, naming the
 * snapshot and the bound); the replay yields to the event loop every
 * `yieldEvery` events so the live projection and queries keep being served.
 * Events this build cannot decode are skipped, as the live projection
 * quarantines them.
 */
import { isEventSchemaError, type EventStore, type StoredEvent } from '@strata/eventlog';
import { ExhaustedError, ValidationError } from '@strata/errors';
import type { HostViewChange, HostviewAtReply, HostviewAtRequest, HostViewKeys } from '@strata/contracts';
import { eventRef } from '@strata/service-kit';
import { computeHost } from '../core/derive.js';
import { applyEvent, emptyModel, toModelEvent, type Model, type ModelEvent } from '../core/model.js';
import { HostViews } from '../core/views.js';
import type { AuditSnapshots } from './audit-snapshots.js';

export interface HostAtOptions {
  /** The log (its `read` with toSeq, and its end). */
  store: Pick<EventStore, 'read' | 'lastSeq'>;
  /** How a stored event becomes a model event (default the live projection's decoding, toModelEvent; undefined: not the model's). */
  decode?: (stored: StoredEvent) => ModelEvent | undefined;
  /** Absent: no audit snapshots (replay from the start of the log). */
  snapshots?: AuditSnapshots | undefined;
  /** Most events one answer may fold (from the snapshot used up to toSeq). */
  maxReplay: number;
  /** Yield to the event loop after this many events (default 1000). */
  yieldEvery?: number;
}

const decodeOrSkip = (stored: StoredEvent, decode: (stored: StoredEvent) => ModelEvent | undefined): ModelEvent | undefined => {
  try {
    return decode(stored);
  } catch (err) {
    if (isEventSchemaError(err)) return undefined;
    throw err;
  }
};

const parseKeys = (keys: ReadonlyMap<string, string>): HostViewKeys => {
  const out: HostViewKeys = {};
  for (const k of [...keys.keys()].sort()) out[k] = JSON.parse(keys.get(k)!) as unknown;
  return out;
};

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function hostAt(req: HostviewAtRequest, o: HostAtOptions): Promise<HostviewAtReply> {
  const { hostId, toSeq, fromSeq } = req;
  if (fromSeq !== undefined && fromSeq >= toSeq) throw new ValidationError(`fromSeq (${fromSeq}) must be before toSeq (${toSeq})`, { field: 'fromSeq' });
  const last = await o.store.lastSeq();
  if (toSeq > last) throw new ValidationError(`toSeq ${toSeq} is past the end of the log (its last position is ${last})`, { field: 'toSeq' });
  const start = fromSeq ?? toSeq;
  const snap = (await o.snapshots?.nearest(start)) ?? null;
  const snapshotSeq = snap?.seq ?? 0;
  const toFold = toSeq - snapshotSeq;
  if (toFold > o.maxReplay) {
    throw new ExhaustedError(
      `answering needs ${toFold} events replayed (from ${snapshotSeq === 0 ? 'the start of the log' : `the audit snapshot at ${snapshotSeq}`} to ${toSeq}), over the limit of ${o.maxReplay}`,
    );
  }
  const model: Model = snap?.model ?? emptyModel();
  const every = o.yieldEvery ?? 1000;
  const decode = o.decode ?? toModelEvent;
  let replayed = 0;
  const fold = async (from: number, to: number, each?: (stored: StoredEvent, change: ReturnType<typeof applyEvent>) => void): Promise<void> => {
    if (to < from) return;
    for await (const stored of o.store.read({ fromSeq: from, toSeq: to })) {
      if (stored.seq > to) break;
      replayed++;
      if (replayed % every === 0) await tick();
      const event = decodeOrSkip(stored, decode);
      if (event === undefined) {
        model.seq = stored.seq;
        continue;
      }
      const change = applyEvent(model, event);
      each?.(stored, change);
    }
  };

  await fold(snapshotSeq + 1, start);
  if (fromSeq === undefined) {
    return { hostId, toSeq, view: parseKeys(computeHost(model, hostId).keys), snapshotSeq, replayed };
  }
  const views = new HostViews((h) => h === hostId);
  views.rebuild(model);
  const fromView = parseKeys(views.keysOf(hostId));
  const changes: HostViewChange[] = [];
  await fold(fromSeq + 1, toSeq, (stored, change) => {
    const { ops } = views.apply(model, change);
    if (ops.length === 0) return;
    const keys: HostViewChange['keys'] = {};
    for (const op of ops) keys[op.key] = op.op === 'put' ? (JSON.parse(op.value) as unknown) : null;
    changes.push({ event: eventRef(stored), keys });
  });
  return {
    hostId,
    toSeq,
    view: parseKeys(computeHost(model, hostId).keys),
    from: { seq: fromSeq, view: fromView, changes },
    snapshotSeq,
    replayed,
  };
}
