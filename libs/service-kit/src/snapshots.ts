/**
 * Snapshot policy: once the projection has caught up with the log, write the
 * state (with its sequence) to the snapshot store every `every` applied
 * events, and once more at a graceful stop, so a restart replays only the
 * tail. A snapshot is an optimisation: losing one costs replay time, never
 * data, so nothing here may take the service down. A failed save is logged,
 * counted and tried again after the next `every` events; a snapshot that
 * cannot be loaded is logged, counted and replaced by a full replay.
 */
import type { SnapshotStorePort } from '@strata/eventlog';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import type { ProjectedState } from './projection.js';

/** Which snapshots a service writes and reads. */
export interface SnapshotKind {
  /** Object name in the snapshot store (one per service). */
  name: string;
  /** Bump when the state's shape changes: older snapshots are then ignored and the log replayed. */
  schemaVersion: number;
}

export interface SnapshotMetricsOptions {
  /** Where `strata_snapshot_saves_total` / `strata_snapshot_loads_total` (labels `snapshot`, `outcome`) are counted. */
  metrics?: ServiceMetrics | undefined;
}

function savesCounter(metrics: ServiceMetrics | undefined) {
  return metrics?.counter('strata_snapshot_saves_total', 'snapshot saves by outcome (saved | failed)', ['snapshot', 'outcome'] as const);
}

/**
 * The latest snapshot's state, or undefined: none, another schema version,
 * another format (e.g. format 1), or unreadable. Never throws: without a
 * snapshot the service replays the whole log.
 */
export async function loadSnapshot<S>(
  store: SnapshotStorePort,
  kind: SnapshotKind,
  logger: Logger,
  options: SnapshotMetricsOptions = {},
): Promise<S | undefined> {
  const loads = options.metrics?.counter('strata_snapshot_loads_total', 'snapshot loads at start by outcome', ['snapshot', 'outcome'] as const);
  const count = (outcome: 'loaded' | 'none' | 'ignored' | 'failed'): void => loads?.inc({ snapshot: kind.name, outcome });
  const started = performance.now();
  let snap;
  try {
    snap = await store.load(kind.name);
  } catch (err) {
    const format = err instanceof Error && err.name === 'SnapshotFormatError';
    count(format ? 'ignored' : 'failed');
    if (format) logger.warn({ reason: err.message }, 'ignoring a snapshot that does not verify (damaged, another format or another snapshot); replaying the log');
    else logger.warn({ err }, 'snapshot could not be loaded; replaying the log');
    return undefined;
  }
  if (!snap) {
    count('none');
    return undefined;
  }
  if (snap.schemaVersion !== kind.schemaVersion) {
    count('ignored');
    logger.warn({ found: snap.schemaVersion, want: kind.schemaVersion }, 'ignoring snapshot of another state schema; replaying the log');
    return undefined;
  }
  count('loaded');
  logger.info({ seq: snap.seq, savedAt: snap.savedAt, ms: Math.round(performance.now() - started) }, 'loaded snapshot');
  return snap.state as S;
}

export class SnapshotPolicy<S extends ProjectedState> {
  /** Events applied since the last attempt (replayed ones included): what the period counts. */
  private sinceAttempt = 0;
  /** Events applied since this instance started. */
  private applied = 0;
  private live = false;
  private savedSeq: number | undefined;
  private writing: Promise<void> | undefined;
  private readonly saves: ReturnType<typeof savesCounter>;

  constructor(
    private readonly store: SnapshotStorePort,
    private readonly kind: SnapshotKind,
    private readonly every: number,
    private readonly logger: Logger,
    options: SnapshotMetricsOptions = {},
  ) {
    this.saves = savesCounter(options.metrics);
  }

  /**
   * After each applied event. While the projection replays history (before
   * `caughtUp`) this only counts: a snapshot per `every` replayed events
   * would serialise the whole state again and again, quadratic in the log.
   */
  onApplied(state: S): void {
    this.applied++;
    this.sinceAttempt++;
    if (this.live) this.maybeSave(state);
  }

  /**
   * The projection has applied everything stored before it started: from now
   * on, a snapshot every `every` events. If the replay itself was that long,
   * one is written right after (in a later event-loop turn, so the caller
   * finishes starting first), and the next start does not replay it all again.
   */
  caughtUp(state: S): void {
    this.live = true;
    if (this.every > 0 && this.sinceAttempt >= this.every) setImmediate(() => this.maybeSave(state)).unref();
  }

  /** Write now (e.g. at shutdown, the projection stopped) and wait for it. Never rejects. */
  async flush(state: S): Promise<void> {
    await this.writing;
    // Nothing applied since the start (the state is the loaded snapshot, or empty) or since the last save.
    if (this.savedSeq === state.seq || (this.savedSeq === undefined && this.applied === 0)) return;
    await this.save(state);
  }

  private maybeSave(state: S): void {
    if (this.every <= 0 || this.sinceAttempt < this.every || this.writing) return;
    this.writing = this.save(state).finally(() => (this.writing = undefined));
  }

  /**
   * Never rejects. The store serialises the state synchronously inside
   * `save()` (a consistent cut: the projection cannot apply an event until
   * it returns), then uploads the lines while events go on being applied.
   */
  private async save(state: S): Promise<void> {
    this.sinceAttempt = 0;
    const seq = state.seq;
    try {
      const saved = await this.store.save(this.kind.name, { seq, state, schemaVersion: this.kind.schemaVersion });
      this.savedSeq = seq;
      this.saves?.inc({ snapshot: this.kind.name, outcome: 'saved' });
      this.logger.info(
        { seq, lines: saved?.lines, bytes: saved?.bytes, encodeMs: round(saved?.encodeMs), writeMs: round(saved?.writeMs) },
        'snapshot saved',
      );
    } catch (err) {
      this.saves?.inc({ snapshot: this.kind.name, outcome: 'failed' });
      this.logger.warn({ err, seq }, `snapshot not saved; will try again after ${this.every} more events`);
    }
  }
}

const round = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms));
