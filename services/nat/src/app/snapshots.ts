import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when NatState's shape changes: older snapshots are then ignored and the log replayed. */
export const NAT_SNAPSHOT: SnapshotKind = { name: 'nat', schemaVersion: 3 };
