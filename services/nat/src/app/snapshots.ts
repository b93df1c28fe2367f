import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when NatState's shape changes: older snapshots are then ignored and the log replayed. */
// 4: the fold keeps what nat's log says of an entry IPAM makes again, and holds nat events about an entry it lacks (issue 16): replay, do not trust older snapshots.
// 5: a floating IP's revision and a gateway's externalNetworkId (issue 17).
export const NAT_SNAPSHOT: SnapshotKind = { name: 'nat', schemaVersion: 5 };
