/**
 * The vtep controller: one DeviceLink per `ovsdb` gateway device in the
 * state (started, restarted when its target or VTEP changes, stopped when
 * it goes), every link poked when the state changes, and what the devices
 * report written to the log as `vtep.*` events through the executor — one
 * event per step until the log matches (domain/learned.ts decides). A
 * device that left the state has everything recorded for it withdrawn.
 */
import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { Logger, ServiceMetrics } from '@strata/runtime';
import type { Append, Executor } from '@strata/service-kit';
import { recordObserved, type NewVtepEvent, type Observed } from '../domain/learned.js';
import type { VtepState } from '../domain/state.js';
import { DeviceLink } from './device-link.js';

export interface ControllerOptions {
  projection: { readonly state: VtepState };
  executor: Executor<VtepState, NewVtepEvent>;
  logger: Logger;
  metrics: ServiceMetrics;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxBackoffMs: number;
}

/** Same decision, same id: two instances (or a retry) recording one observation write it once. */
export const vtepEventId = (d: Append<NewVtepEvent>): string => `${d.event.type}:${d.aggregate.type}.${d.aggregate.id}@${d.expectedVersion}`;

export class VtepController {
  private readonly links = new Map<string, { link: DeviceLink; key: string }>();
  private readonly m;
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.m = {
      passes: o.metrics.counter('strata_vtep_passes_total', 'reconcile passes against devices\u2019 hardware_vtep databases', ['outcome']),
      recorded: o.metrics.counter('strata_vtep_events_total', 'learned/withdrawn physical MACs and VTEPs written to the log', ['type']),
      ignored: new Gauge({ name: 'strata_vtep_ignored_local_rows', help: 'local MAC rows on logical switches of no network bound on their device', labelNames: ['device'], registers: [o.metrics.registry] }),
      connected: new Gauge({ name: 'strata_vtep_device_connected', help: '1 while the hardware_vtep session with the device is open', labelNames: ['device'], registers: [o.metrics.registry] }),
    };
  }

  /** Bring the links in line with the state's devices and poke every link (after each relevant event). */
  sync(): void {
    if (this.stopped) return;
    const devices = this.o.projection.state.devices;
    for (const [id, { link, key }] of this.links) {
      const d = devices[id];
      if (d && `${d.target}|${d.vtepIp}` === key) continue;
      link.stop();
      this.links.delete(id);
      if (!d) void this.record(id, null);
    }
    for (const d of Object.values(devices)) {
      const entry = this.links.get(d.id);
      if (entry) {
        entry.link.poke();
        continue;
      }
      const link = new DeviceLink({
        device: d,
        state: () => this.o.projection.state,
        logger: this.o.logger,
        connectTimeoutMs: this.o.connectTimeoutMs,
        requestTimeoutMs: this.o.requestTimeoutMs,
        maxBackoffMs: this.o.maxBackoffMs,
        onObserved: (id, observed) => this.record(id, observed),
        onPass: (outcome) => this.m.passes.inc({ outcome }),
        onConnected: (id, up) => this.m.connected.set({ device: id }, up ? 1 : 0),
      });
      this.links.set(d.id, { link, key: `${d.target}|${d.vtepIp}` });
      link.start();
    }
    // Devices deleted while this instance was down: their records go too.
    for (const id of Object.keys(this.o.projection.state.macs)) if (!devices[id]) void this.record(id, null);
    for (const id of Object.keys(this.o.projection.state.vteps)) if (!devices[id]) void this.record(id, null);
  }

  stop(): void {
    this.stopped = true;
    for (const { link } of this.links.values()) link.stop();
    this.links.clear();
  }

  private async record(deviceId: string, observed: Observed | null): Promise<void> {
    if (observed) this.m.ignored.set({ device: deviceId }, observed.ignored);
    try {
      for (;;) {
        if (this.stopped) return;
        const done = await this.o.executor.execute((s) => recordObserved(s, deviceId, observed), {
          caller: { actor: 'vtep', tenant: '_system', admin: true, requestId: randomUUID(), at: new Date().toISOString() },
          correlationId: `vtep-observation:${deviceId}`,
          causationId: null,
          eventId: vtepEventId,
        });
        if (!done.written) return;
        this.m.recorded.inc({ type: 'event' });
      }
    } catch (e) {
      this.o.logger.warn({ deviceId, err: (e as Error).message }, 'recording what the device reports failed; the next pass retries');
    }
  }
}
