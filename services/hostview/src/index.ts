export { hostviewService, hostviewConfig } from './service.js';
export {
  applyEvent,
  toModelEvent,
  emptyModel,
  emptyChange,
  domainOf,
  domainNetworks,
  hostNeeds,
  hostsNeeding,
  hostNetworkNeeds,
  hostSecurityNeeds,
  hostsReferencing,
  hostsWithMembers,
  isMember,
  type ChangeSet,
  type Model,
  type ModelEvent,
  type HostNeeds,
  type NetworkNeeds,
  type SecurityNeeds,
} from './core/model.js';
export { affectedHosts, computeHost, deriveHost, parseKey, hostOfKey, type HostKeys, type HostState, type KeyKind } from './core/derive.js';
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
