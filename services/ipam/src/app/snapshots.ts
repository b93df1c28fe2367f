/**
 * Snapshot policy: after every `every` applied events, write the state (with
 * its sequence) to the snapshot store, so a restart replays only the tail.
 * A snapshot is an optimisation: losing one costs replay time, never data.
 */
import type { SnapshotStorePort } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import type { IpamState } from '../domain/state.js';

/** Bump when IpamState's shape changes: older snapshots are then ignored and the log replayed. */
export const STATE_SCHEMA_VERSION = 2;
export const SNAPSHOT_NAME = 'ipam';

export async function loadSnapshot(store: SnapshotStorePort, logger: Logger): Promise<IpamState | undefined> {
  const snap = await store.load(SNAPSHOT_NAME);
  if (!snap) return undefined;
  if (snap.schemaVersion !== STATE_SCHEMA_VERSION) {
    logger.warn({ found: snap.schemaVersion, want: STATE_SCHEMA_VERSION }, 'ignoring snapshot of another state schema; replaying the log');
    return undefined;
  }
  logger.info({ seq: snap.seq }, 'loaded snapshot');
  return snap.state as IpamState;
}

export class SnapshotPolicy {
  private sinceLast = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: SnapshotStorePort,
    private readonly every: number,
    private readonly logger: Logger,
  ) {}

  onApplied(state: IpamState): void {
    if (this.every <= 0 || ++this.sinceLast < this.every || this.writing) return;
    this.sinceLast = 0;
    this.writing = this.save(state).finally(() => (this.writing = undefined));
  }

  /** Write now (e.g. at shutdown) and wait for it. */
  async flush(state: IpamState): Promise<void> {
    await this.writing;
    await this.save(state);
  }

  private async save(state: IpamState): Promise<void> {
    // Serialise synchronously: the projection cannot change the state between here and the copy.
    const copy = JSON.parse(JSON.stringify(state)) as IpamState;
    try {
      await this.store.save(SNAPSHOT_NAME, { seq: copy.seq, state: copy, schemaVersion: STATE_SCHEMA_VERSION });
      this.logger.info({ seq: copy.seq }, 'snapshot saved');
    } catch (err) {
      this.logger.warn({ err }, 'snapshot not saved; will try again later');
    }
  }
}
