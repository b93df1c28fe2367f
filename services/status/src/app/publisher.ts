/**
 * Status changes, published as they happen (core NATS, JSON StatusChange):
 * `strata.realised.<tenant>.<kind>.<id>` and
 * `strata.realised._admin.hypervisor.<host>`. What is re-derived, and when:
 *
 *   - a host's agent reported something new (applied position, generation,
 *     error, ports): its hypervisor view, the ports whose reported state
 *     changed (all of that host's for a new agent process), and every
 *     tracked resource; its liveness was decided: its view and all its ports;
 *   - a followed event changed a resource (domain/tracking.ts): it is
 *     tracked from then until its status settles (realised; a port out of
 *     BUILD) or for the tracking window, whichever is first;
 *   - every sweep interval while something is tracked (a hostview that was
 *     unavailable, a peer's progress this instance missed).
 *
 * A status is published only when it differs from the last one published
 * (ignoring the answer's position `seq` and what moves on every heartbeat).
 * Passes never overlap: triggers during a pass are collected for the next.
 */
import type { NatsConnection } from 'nats';
import { realisedHypervisorSubject, realisedSubject, type RealisedKind, type StatusChange } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import { statusFollows } from '../domain/evolve.js';
import { hypervisorChangeKey } from '../domain/hypervisor.js';
import type { StatusState } from '../domain/state.js';
import { deletedBy, livenessOf, touchedBy, type TrackedRef } from '../domain/tracking.js';
import { mapBounded } from '@strata/service-kit';
import { HOSTVIEW_CONCURRENCY } from './hostview.js';
import type { StatusReader } from './reader.js';

export interface PublisherOptions {
  nc: NatsConnection;
  state: () => StatusState;
  reader: StatusReader;
  logger: Logger;
  metrics: ServiceMetrics;
  now: () => number;
  /** How long a changed resource is tracked at most (ms). */
  trackMs: number;
  sweepMs: number;
}

const refKey = (kind: RealisedKind, id: string): string => `${kind}/${id}`;

export class ChangePublisher {
  private readonly tracked = new Map<string, { ref: TrackedRef; until: number }>();
  private readonly last = new Map<string, string>();
  private readonly dirtyHosts = new Set<string>();
  /** Hosts all of whose ports are derived again at the next pass. */
  private readonly allPortsOf = new Set<string>();
  private readonly dirtyPorts = new Set<string>();
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly published;

  constructor(private readonly o: PublisherOptions) {
    this.published = o.metrics.counter('strata_status_changes_published_total', 'status changes published, by kind', ['kind']);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.tracked.size > 0 || this.dirtyHosts.size > 0 || this.dirtyPorts.size > 0) this.schedule();
    }, this.o.sweepMs);
  }

  /** A live event was applied to the state. */
  onEvent(stored: StoredEvent): void {
    const event = statusFollows.decode(stored);
    if (event === undefined) return;
    const until = this.o.now() + this.o.trackMs;
    const touched = touchedBy(event);
    for (const ref of touched) this.tracked.set(refKey(ref.kind, ref.id), { ref, until });
    const gone = deletedBy(event);
    if (gone) {
      this.tracked.delete(refKey(gone.kind, gone.id));
      this.last.delete(refKey(gone.kind, gone.id));
    }
    const host = livenessOf(event);
    if (host !== undefined) {
      this.dirtyHosts.add(host);
      this.allPortsOf.add(host);
    }
    // An event that changes no status derived here (a registration, a deletion) starts no pass.
    if (touched.length > 0 || host !== undefined) this.schedule();
  }

  /** A host's agent said something new; `ports`: those whose reported state may have changed. */
  onHostChanged(hostId: string, ports: readonly string[] | 'all'): void {
    this.dirtyHosts.add(hostId);
    if (ports === 'all') this.allPortsOf.add(hostId);
    else for (const p of ports) this.dirtyPorts.add(p);
    this.schedule();
  }

  /** Tracked resources (for tests and metrics). */
  get trackedCount(): number {
    return this.tracked.size;
  }

  schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((err: unknown) => this.o.logger.warn({ err }, 'status changes not derived (tried again at the next change or sweep)'));
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async pass(): Promise<void> {
    const state = this.o.state();
    const now = this.o.now();
    const hosts = [...this.dirtyHosts];
    const allOf = new Set(this.allPortsOf);
    const ports = new Set(this.dirtyPorts);
    this.dirtyHosts.clear();
    this.allPortsOf.clear();
    this.dirtyPorts.clear();
    for (const hostId of hosts) this.publishHypervisor(state, hostId);

    for (const [key, t] of this.tracked) if (t.until <= now) this.tracked.delete(key);
    if (allOf.size > 0) for (const p of Object.values(state.ports)) if (p.hostId !== null && allOf.has(p.hostId)) ports.add(p.id);
    const others: TrackedRef[] = [];
    for (const { ref } of this.tracked.values()) {
      if (ref.kind === 'port') ports.add(ref.id);
      else others.push(ref);
    }
    let failure: unknown;
    await mapBounded([...ports], HOSTVIEW_CONCURRENCY, (portId) =>
      this.publishPort(state, portId).catch((err: unknown) => {
        failure = err;
        // Derived again at the next sweep.
        this.dirtyPorts.add(portId);
      }),
    );
    await mapBounded(others, HOSTVIEW_CONCURRENCY, (ref) => this.publishResource(state, ref).catch((err: unknown) => (failure = err)));
    if (failure !== undefined) throw failure;
  }

  private async publishPort(state: StatusState, portId: string): Promise<void> {
    const port = state.ports[portId];
    const status = port && (await this.o.reader.port(state, portId));
    const key = refKey('port', portId);
    if (!port || !status) {
      this.tracked.delete(key);
      return;
    }
    // Settled: no longer tracked. In BUILD (again, e.g. plugged while a peer is behind): tracked until it settles.
    if (status.status !== 'BUILD') this.tracked.delete(key);
    else if (!this.tracked.has(key)) this.tracked.set(key, { ref: { kind: 'port', id: portId, tenant: port.tenant }, until: this.o.now() + this.o.trackMs });
    this.publish(key, JSON.stringify({ ...status, realisation: { ...status.realisation, seq: 0 } }), realisedSubject(port.tenant, 'port', portId), {
      kind: 'port',
      tenant: port.tenant,
      id: portId,
      status,
    });
  }

  private async publishResource(state: StatusState, ref: TrackedRef): Promise<void> {
    const key = refKey(ref.kind, ref.id);
    if (ref.kind === 'port' || state.owners[ref.kind][ref.id] === undefined) {
      this.tracked.delete(key);
      return;
    }
    const realisation = await this.o.reader.resource(state, ref);
    if (realisation.realised) this.tracked.delete(key);
    this.publish(key, JSON.stringify({ ...realisation, seq: 0 }), realisedSubject(ref.tenant, ref.kind, ref.id), { kind: ref.kind, tenant: ref.tenant, id: ref.id, realisation });
  }

  private publishHypervisor(state: StatusState, hostId: string): void {
    const hypervisor = this.o.reader.hypervisor(state, hostId, undefined);
    this.publish(`hypervisor/${hostId}`, hypervisorChangeKey(hypervisor), realisedHypervisorSubject(hostId), { kind: 'hypervisor', tenant: '', id: hostId, hypervisor });
  }

  private publish(key: string, changeKey: string, subject: string, change: StatusChange): void {
    if (this.last.get(key) === changeKey) return;
    this.last.set(key, changeKey);
    if (this.o.nc.isClosed()) return;
    this.o.nc.publish(subject, JSON.stringify(change));
    this.published.inc({ kind: change.kind });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
