import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when ChainingState's shape changes: older snapshots are then ignored and the log replayed. */
export const CHAINING_SNAPSHOT: SnapshotKind = { name: 'chaining', schemaVersion: 1 };
