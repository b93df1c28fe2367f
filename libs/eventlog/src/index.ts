export * from './types.js';
export * from './schema.js';
export {
  commandFingerprint,
  newEventId,
  parseRequestEventId,
  requestEventId,
  requestKey,
  requestResourceId,
  uuidFromHash,
  type RequestEventIdParts,
  type RequestScope,
} from './ids.js';
export { decodeEvent, type StoredPosition } from './codec.js';
export { envelopeProblem } from './envelope.js';
export { aggregateSubject, subjectMatches, DEFAULT_SUBJECT_PREFIX } from './subjects.js';
export { feedFilter } from './feed-filter.js';
export {
  DEFAULT_EVENT_LOG_OPTIONS,
  ensureEventStream,
  ensureStreamReplicas,
  eventStreamConfig,
  protectedApiSubjects,
  type EventLogOptions,
} from './stream-config.js';
export { NATS_REPLICAS_VAR, natsReplicas, parseNatsReplicas } from './replicas.js';
export { JetStreamEventStore } from './jetstream-store.js';
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './memory-store.js';
export {
  SnapshotStore,
  InMemorySnapshotStore,
  DEFAULT_SNAPSHOT_OPTIONS,
  snapshotBucket,
  snapshotStream,
  SnapshotFormatError,
  type SnapshotStoreOptions,
} from './snapshots.js';
