/**
 * The generic machinery of an event-sourced Strata service (see
 * docs/architecture.md, "Commands, concurrency and idempotency"): pure
 * deciders answer a `Decision`, the `Executor` appends it with optimistic
 * concurrency, the `Projection` folds the log into the instance's state,
 * `SnapshotPolicy`/`loadSnapshot` shorten replays. Nothing here knows a
 * service's state or events; they are type parameters.
 */
export { KeyedLock } from './keyed-lock.js';
export { SeqWaiters } from './seq-waiters.js';
export { Projection } from './projection.js';
export type { ProjectedState, ProjectionOptions } from './projection.js';
export { allEvents, eventTypes, follow, ownEvents } from './follow.js';
export type { EventDecoder, FollowedEvent, FollowedEvents, Follower } from './follow.js';
export { Executor } from './executor.js';
export type { Executed, ExecuteMeta, ExecutorOptions, NewEvent } from './executor.js';
export { loadSnapshot, SnapshotPolicy } from './snapshots.js';
export type { SnapshotKind } from './snapshots.js';
export { callerOf, clientCommand, createdId } from './decision.js';
export { appliedRequest, pendingRequest, recordRequest, REQUEST_RETENTION_MS, withRequestIndex } from './requests.js';
export type { PendingRequest, RequestIndex, RequestRecord } from './requests.js';
export type { AlreadyDone, Append, Caller, Decision } from './decision.js';
export { canSee, owningTenant, requireAdmin, visible } from './access.js';
export { stateDigest, writeCanonical } from './digest.js';
export { page } from './page.js';
export { applyUpdate, changedFields, checkRevision, isEmpty } from './revisions.js';
export { commandHandlers, queryHandlers } from './handlers.js';
export type { CommandAnswers, CommandHandling, QueryAnswers, TwoStepCommand } from './handlers.js';
export { Reactor, reactorEventId } from './reactor.js';
export type { ReactorOptions } from './reactor.js';
export { startHostedService } from './host.js';
export { emptyQuarantine, isQuarantineRefusal, quarantine, quarantineStatus, quarantinedCount, refuseSuspect, reportQuarantine, usableSnapshot } from './quarantine.js';
export type { QuarantinedEvent, QuarantineRecord } from './quarantine.js';
export { reportProjectionUp } from './projection-health.js';
export type { HostedDeps, HostedProjection, HostedServiceOptions } from './host.js';
export { mapBounded } from './bounded.js';
export { eventRef, resourceHistory } from './history.js';
export type { HistorySource, OwnedView } from './history.js';
