/**
 * The start-up every projection-based service shares (ipam, secgroup, nat,
 * bgp-gateway): snapshot → projection (caught up) → executor → recovery →
 * NATS command and query handlers → optional reactor → the service's own
 * loop, then periodic snapshots; and the reverse on stop. A service supplies
 * only what is its own: state, fold, handlers, and its hooks.
 */
import { Gauge } from 'prom-client';
import type { NatsConnection } from 'nats';
import { commandSubject, domainEvents, querySubject } from '@strata/contracts';
import { JetStreamEventStore, SnapshotStore, snapshotBucket, type EventStore, type StoredEvent } from '@strata/eventlog';
import { commandVerifierFrom, serve, type Handler, type ServiceContext, type StopFn } from '@strata/runtime';
import type { Executor, NewEvent } from './executor.js';
import type { ProjectedState, Projection } from './projection.js';
import { loadSnapshot, SnapshotPolicy, type SnapshotKind } from './snapshots.js';
import { reportProjectionUp } from './projection-health.js';
import { reportQuarantine, usableSnapshot } from './quarantine.js';

/** What the host needs of a projection (a `Projection` of any decoded event type). */
export type HostedProjection<S extends ProjectedState> = Pick<Projection<S>, 'state' | 'start' | 'stop' | 'healthy' | 'quarantine' | 'waitFor'>;

export interface HostedDeps<S extends ProjectedState, E extends NewEvent, P extends HostedProjection<S> = Projection<S>> {
  store: EventStore;
  projection: P;
  executor: Executor<S, E>;
}

export interface HostedServiceOptions<S extends ProjectedState, E extends NewEvent, P extends HostedProjection<S> = Projection<S>> {
  /** Subject token, queue group and metric prefix (`strata_<service>_…`). */
  service: string;
  /** Omitted: the service keeps no snapshots (its state is rebuilt from the log at every start). */
  snapshot?: { kind: SnapshotKind; every: number; use: boolean };
  /** Help text of the applied-events counter; omitted: no such counter. */
  appliedHelp?: string;
  /** Events that count towards snapshots and `onApplied` (others only move the sequence). */
  isRelevant: (event: StoredEvent) => boolean;
  projection: (store: EventStore, initial: S | undefined, onApplied: (state: S, event: StoredEvent) => void) => P;
  executor: (store: EventStore, projection: P, onConflict: () => void) => Executor<S, E>;
  /** Omitted: the service answers no commands or queries (it needs no command verify key; the vtep controller). */
  handlers?: (deps: HostedDeps<S, E, P>) => { commands: Record<string, Handler>; queries: Record<string, Handler> };
  /** After each relevant event is applied (and counted): e.g. wake the service's own loop. */
  onApplied?: (state: S, event: StoredEvent) => void;
  /** Before the handlers serve: finish work a crash interrupted (IPAM's half-deleted networks). */
  recover?: (deps: HostedDeps<S, E, P>) => Promise<void>;
  /** The service's reactor, if this instance runs one; `onHandled` counts its events. */
  reactor?: (
    deps: HostedDeps<S, E, P> & { nc: NatsConnection; stream: string; onHandled: (type: string, outcome: string) => void; onRecreated: () => void },
  ) => { start(): Promise<void>; stop(): Promise<void>; readonly healthy: boolean } | undefined;
  reactorHelp?: string;
  /** Once serving (after the reactor): the service's own loop (the BGP gateway driving gobgpd); stopped first on stop. */
  afterStart?: (deps: HostedDeps<S, E, P>) => Promise<{ stop(): Promise<void> }> | { stop(): Promise<void> };
}

export async function startHostedService<S extends ProjectedState, E extends NewEvent, P extends HostedProjection<S> = Projection<S>>(
  ctx: Pick<ServiceContext, 'nc' | 'logger' | 'metrics' | 'readiness' | 'config'>,
  o: HostedServiceOptions<S, E, P>,
): Promise<StopFn> {
  const { nc, logger, metrics, readiness } = ctx;
  const name = o.service;
  const verifier = o.handlers && commandVerifierFrom(ctx.config, name);
  const store = await JetStreamEventStore.open(nc, { catalog: domainEvents });
  const snapshots = o.snapshot && (await SnapshotStore.open(nc, { bucket: snapshotBucket(name) }));
  const snapshotPolicy = o.snapshot && snapshots && new SnapshotPolicy<S>(snapshots, o.snapshot.kind, o.snapshot.every, logger, { metrics });
  const applied = o.appliedHelp === undefined ? undefined : metrics.counter(`strata_${name}_events_applied_total`, o.appliedHelp);
  const conflicts = metrics.counter(`strata_${name}_conflicts_total`, 'optimistic-concurrency conflicts retried');
  const lastSeq = new Gauge({ name: `strata_${name}_projection_seq`, help: 'last stream sequence applied', registers: [metrics.registry] });

  const started = Date.now();
  const initial = o.snapshot?.use && snapshots ? usableSnapshot(await loadSnapshot<S>(snapshots, o.snapshot.kind, logger, { metrics }), logger) : undefined;
  const projection = o.projection(store, initial, (state, event) => {
    lastSeq.set(state.seq);
    // Other contexts' events only move the sequence; they do not count towards snapshots.
    if (!o.isRelevant(event)) return;
    applied?.inc();
    snapshotPolicy?.onApplied(state);
    o.onApplied?.(state, event);
  });
  await projection.start();
  logger.info({ seq: projection.state.seq, ms: Date.now() - started, fromSnapshot: initial !== undefined }, 'state rebuilt');
  readiness.register('projection', () => projection.healthy);
  reportProjectionUp(metrics, 'projection', () => projection.healthy);
  reportQuarantine({ metrics, readiness }, 'projection', () => projection.quarantine);

  const executor = o.executor(store, projection, () => conflicts.inc());
  const deps = { store, projection, executor };
  await o.recover?.(deps);
  const handlers = o.handlers?.(deps);
  const serving =
    handlers && verifier
      ? [
          await serve(nc, { subjectPrefix: commandSubject(name, '').slice(0, -1), queue: name, logger, metrics, verifier, handlers: handlers.commands }),
          await serve(nc, { subjectPrefix: querySubject(name, '').slice(0, -1), queue: name, logger, metrics, verifier, handlers: handlers.queries }),
        ]
      : [];

  const reacted = o.reactor ? metrics.counter(`strata_${name}_reactor_events_total`, o.reactorHelp ?? 'events handled by the reactor', ['type', 'outcome']) : undefined;
  const recreated = o.reactor
    ? metrics.counter(`strata_${name}_reactor_consumer_recreated_total`, 'times the reactor found its durable consumer gone and created it again')
    : undefined;
  const reactor = o.reactor?.({
    ...deps,
    nc,
    stream: store.options.streamName,
    onHandled: (type, outcome) => reacted?.inc({ type, outcome }),
    onRecreated: () => recreated?.inc(),
  });
  await reactor?.start();
  // Not ready while the reactor has lost its consumer (until it has created it again).
  if (reactor) readiness.register('reactor', () => reactor.healthy);
  const own = await o.afterStart?.(deps);

  // Caught up and serving: periodic snapshots from here on (none during the replay above; a
  // snapshot due after a long replay is cut in a later event-loop turn, after the start).
  snapshotPolicy?.caughtUp(projection.state);

  return async () => {
    await own?.stop();
    await reactor?.stop();
    for (const s of serving) await s.drain();
    await projection.stop();
    if (snapshotPolicy && o.snapshot && o.snapshot.every > 0) await snapshotPolicy.flush(projection.state);
  };
}
