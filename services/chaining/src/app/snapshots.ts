import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when ChainingState's shape changes: older snapshots are then ignored and the log replayed. */
// 2: the ports carry their allowed address pairs (the separate `addressPairs` table is gone).
// 3: every resource carries its description and revision.
export const CHAINING_SNAPSHOT: SnapshotKind = { name: 'chaining', schemaVersion: 3 };
