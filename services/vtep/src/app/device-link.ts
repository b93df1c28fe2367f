/**
 * The controller's link to one `ovsdb` device: a session with its
 * hardware_vtep database (reopened after any failure, with backoff), and a
 * pass — plan and write the database's desired contents, then hand what the
 * device reports to `onObserved` — after the monitor's initial contents,
 * after every update, and whenever the controller's state changed
 * (`poke`). Passes never overlap; changes during one run another after it.
 */
import type { Logger } from '@strata/runtime';
import { desiredDevice, desiredElsewhere } from '../domain/desired.js';
import { observeDevice, type Observed } from '../domain/learned.js';
import { deviceSwitch, planDevice } from '../domain/plan.js';
import type { OvsdbDevice, VtepState } from '../domain/state.js';
import { OvsdbTargetError, parseTarget } from '../ovsdb/connection.js';
import { VtepSession } from '../ovsdb/session.js';
import { vtepView } from '../ovsdb/vtep-view.js';

export interface DeviceLinkOptions {
  device: OvsdbDevice;
  state: () => VtepState;
  logger: Logger;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Longest wait between reconnects (it doubles from 100 ms up to this). */
  maxBackoffMs: number;
  onObserved: (deviceId: string, observed: Observed) => Promise<void>;
  onPass: (outcome: 'written' | 'unchanged' | 'failed') => void;
  onConnected: (deviceId: string, up: boolean) => void;
}

export class DeviceLink {
  private session: VtepSession | undefined;
  private stopped = false;
  private running = false;
  private again = false;
  private backoffMs = 100;
  private retry: NodeJS.Timeout | undefined;
  /** The problems last reported, so a pass that finds the same ones does not log them again. */
  private problems = '';

  constructor(private readonly o: DeviceLinkOptions) {}

  get deviceId(): string {
    return this.o.device.id;
  }

  start(): void {
    void this.connect();
  }

  /** The controller's state changed: run a pass. */
  poke(): void {
    void this.pass();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.session?.close();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { device, logger } = this.o;
    try {
      this.session = await VtepSession.open(parseTarget(device.target), {
        connectTimeoutMs: this.o.connectTimeoutMs,
        requestTimeoutMs: this.o.requestTimeoutMs,
        onChange: () => void this.pass(),
        onClose: (cause) => {
          this.o.onConnected(device.id, false);
          if (this.stopped) return;
          logger.warn({ deviceId: device.id, target: device.target, err: cause?.message }, 'hardware_vtep session closed; reconnecting');
          this.later();
        },
      });
      this.backoffMs = 100;
      this.o.onConnected(device.id, true);
      logger.info({ deviceId: device.id, target: device.target }, 'hardware_vtep session open');
      void this.pass();
    } catch (e) {
      if (e instanceof OvsdbTargetError) {
        // Retrying cannot help (an ssl: target: no certificates in the device model yet): say so once.
        logger.error({ deviceId: device.id, target: device.target, err: e.message }, 'hardware_vtep target not supported; the device is not driven');
        return;
      }
      logger.warn({ deviceId: device.id, target: device.target, err: (e as Error).message }, 'hardware_vtep connect failed');
      this.later();
    }
  }

  private later(): void {
    if (this.stopped) return;
    this.session = undefined;
    this.retry = setTimeout(() => void this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs);
  }

  private async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.once();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private async once(): Promise<void> {
    const session = this.session;
    if (!session || session.isClosed || this.stopped) return;
    const { device, logger } = this.o;
    const state = this.o.state();
    const desired = desiredDevice(state, device.id);
    const view = vtepView(session.replica);
    const plan = planDevice(view, desired, device.vtepIp, desiredElsewhere(state, device.id));
    const problems = plan.problems.join('; ');
    if (problems !== this.problems) {
      this.problems = problems;
      if (problems) logger.warn({ deviceId: device.id, problems: plan.problems }, 'hardware_vtep database lacks what the bindings name');
    }
    if (plan.ops.length > 0) {
      try {
        await session.transact(plan.ops);
        this.o.onPass('written');
      } catch (e) {
        this.o.onPass('failed');
        logger.warn({ deviceId: device.id, err: (e as Error).message }, 'hardware_vtep transaction failed; resynchronising');
        // The replica may be behind what made it fail: start again from a fresh monitor.
        session.close(e as Error);
        return;
      }
      // The monitor's update for our own write runs the next pass (and the observation with it).
      return;
    }
    this.o.onPass('unchanged');
    const tunnelIps = new Set(deviceSwitch(view, device.vtepIp)?.tunnelIps ?? [device.vtepIp]);
    await this.o.onObserved(device.id, observeDevice(view, desired, device.id, tunnelIps));
  }
}
