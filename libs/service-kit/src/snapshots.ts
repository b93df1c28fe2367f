/**
 * Snapshot policy: after every `every` applied events, write the state (with
 * its sequence) to the snapshot store, so a restart replays only the tail.
 * A snapshot is an optimisation: losing one costs replay time, never data.
 */
import type { SnapshotStorePort } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import type { ProjectedState } from './projection.js';

/** Which snapshots a service writes and reads. */
export interface SnapshotKind {
  /** Object name in the snapshot store (one per service). */
  name: string;
  /** Bump when the state's shape changes: older snapshots are then ignored and the log replayed. */
  schemaVersion: number;
}

export async function loadSnapshot<S>(store: SnapshotStorePort, kind: SnapshotKind, logger: Logger): Promise<S | undefined> {
  const snap = await store.load(kind.name);
  if (!snap) return undefined;
  if (snap.schemaVersion !== kind.schemaVersion) {
    logger.warn({ found: snap.schemaVersion, want: kind.schemaVersion }, 'ignoring snapshot of another state schema; replaying the log');
    return undefined;
  }
  logger.info({ seq: snap.seq }, 'loaded snapshot');
  return snap.state as S;
}

export class SnapshotPolicy<S extends ProjectedState> {
  private sinceLast = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: SnapshotStorePort,
    private readonly kind: SnapshotKind,
    private readonly every: number,
    private readonly logger: Logger,
  ) {}

  onApplied(state: S): void {
    if (this.every <= 0 || ++this.sinceLast < this.every || this.writing) return;
    this.sinceLast = 0;
    this.writing = this.save(state).finally(() => (this.writing = undefined));
  }

  /** Write now (e.g. at shutdown) and wait for it. */
  async flush(state: S): Promise<void> {
    await this.writing;
    await this.save(state);
  }

  private async save(state: S): Promise<void> {
    // Serialise synchronously: the projection cannot change the state between here and the copy.
    const copy = JSON.parse(JSON.stringify(state)) as S;
    try {
      await this.store.save(this.kind.name, { seq: copy.seq, state: copy, schemaVersion: this.kind.schemaVersion });
      this.logger.info({ seq: copy.seq }, 'snapshot saved');
    } catch (err) {
      this.logger.warn({ err }, 'snapshot not saved; will try again later');
    }
  }
}
