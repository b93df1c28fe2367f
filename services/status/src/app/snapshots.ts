import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when StatusState's shape changes: older snapshots are then ignored and the log replayed. */
export const STATUS_SNAPSHOT: SnapshotKind = { name: 'status', schemaVersion: 1 };
