export { hostviewService, hostviewConfig } from './service.js';
export { applyEvent, toModelEvent, emptyModel, emptyChange, isEmptyChange, type Change, type Model, type ModelEvent } from './core/model.js';
export { domainOf, domainNetworks, hostsNeeding, hostsOfDomain, hostsOnNetwork } from './core/topology.js';
export { hostNeeds, hostNetworkNeeds, hostSecurityNeeds, type HostNeeds, type NetworkNeeds, type SecurityNeeds } from './core/needs.js';
export { groupIdsOf, hostsReferencing, hostsWithMembers, isMember } from './core/inputs/secgroup.js';
export { FAMILIES, type KeyFamily } from './core/families/index.js';
export { affectedHosts, computeHost, deriveHost, keyValue, hostOfKey, kindOfKey, type HostKeys, type HostState } from './core/derive.js';
export { diffMaps, diffKeys, applyOps, orderForAgents, type KvOp } from './core/diff.js';
export { HostViews, type ViewUpdate } from './core/views.js';
export { canonicalJson } from './core/json.js';
export { parsePartition, owner, partitionOf, fnv1a32, type Partition } from './core/partition.js';
export {
  KvPublisher,
  JetStreamHostBuckets,
  DEFAULT_PUBLISHER_OPTIONS,
  type KvPublisherOptions,
  type HostBuckets,
  type HostBucket,
  type BucketOp,
} from './app/publisher.js';
export { HostviewProjection, type ProjectionOptions, type StartResult } from './app/projection.js';
export { ViewPositions, resourcesOfKey, positionValue, type HostPosition } from './core/positions.js';
export { answerPositions, servePositions, type PositionsSource, type PositionsQueryOptions } from './app/positions-query.js';
export { hostAt, type HostAtOptions } from './app/host-at.js';
export { answerAt, serveAt, type AtQueryOptions } from './app/at-query.js';
export {
  AuditSnapshots,
  AuditSnapshotPolicy,
  auditSnapshotName,
  auditSnapshotSeq,
  inMemoryAuditStore,
  jetStreamObjectNames,
  type AuditSnapshot,
  type AuditSnapshotStore,
  type ObjectNames,
} from './app/audit-snapshots.js';
export { modelToPlain, modelFromPlain, MODEL_SCHEMA_VERSION } from './core/model-codec.js';
