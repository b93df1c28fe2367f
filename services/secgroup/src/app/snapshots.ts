import type { SnapshotKind } from '@strata/service-kit';

/** Bump `schemaVersion` when SecgroupState's shape changes: older snapshots are then ignored and the log replayed. */
// 4: groups and port settings carry their revision. 5: port settings carry their tenant (the port's history, issue 16).
// 6: groups carry updatedAt and their rules' description and creation time (Neutron's representation, issue 17).
// 7: groups carry their federation tag, the state the tenant's tags (issue 20).
export const SECGROUP_SNAPSHOT: SnapshotKind = { name: 'secgroup', schemaVersion: 7 };
