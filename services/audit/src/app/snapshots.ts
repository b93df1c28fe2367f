import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when CatalogueState's shape changes: older snapshots are then ignored and the log replayed. */
export const CATALOGUE_SNAPSHOT: SnapshotKind = { name: 'audit', schemaVersion: 1 };
