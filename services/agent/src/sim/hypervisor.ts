/**
 * A simulated hypervisor (issue 18's scale simulation): the agent as it
 * runs on a host — its own NATS connection as its own per-host user
 * (`agent-<host>`, infra/nats/render-accounts.mjs: it may read its own
 * host-view bucket and publish its own status, nothing else), the real
 * host-view watch (view/kv-watch.ts), the real agent loop (agent.ts:
 * debounce, coalescing, fast and full passes, retries, the periodic
 * resync) and the real dataplane with every manager's real derivation —
 * applied to an in-memory kernel (kernel.ts) instead of the host's. It
 * publishes its report after every pass and a heartbeat, and answers the
 * status service's report requests, as the agent service does
 * (service.ts); it runs no programs (no dnsmasq, nft, GARP watcher or
 * health checks).
 *
 * Nova's side: a VM's tap appears when the view binds its port here and
 * goes when the port leaves, so the agent plugs what it would plug.
 *
 * Many run in one process; each counts what it receives (host-view entries
 * and their bytes, and its connection's wire counters) and can be waited on
 * for a condition of its kernel.
 */
import { randomUUID } from 'node:crypto';
import { connect, type ConnectionOptions, type KvEntry, type NatsConnection, type Subscription } from 'nats';
import { agentHeartbeatSubject, agentReportSubject, agentResyncSubject } from '@strata/contracts';
import { Agent, type ApplyReport } from '../agent.js';
import { portDevices } from '../core/desired.js';
import { Dataplane } from '../dataplane/dataplane.js';
import type { AgentLogger } from '../logger.js';
import { HostViewWatcher } from '../view/kv-watch.js';
import { SimKernel } from './kernel.js';
import { simManagers } from './managers.js';

export interface SimHypervisorOptions {
  hostId: string;
  /** NATS server list (comma-separated URLs, as NATS_URL). */
  servers: string;
  /** The host's NATS password (user `agent-<hostId>`). */
  password: string;
  /** Period of the full resync (default 30 s: the agent's default). */
  resyncMs?: number;
  /** Heartbeat period (default 5 s: the agent's default); 0: none. */
  heartbeatMs?: number;
  /** Publish reports and heartbeats (default true). */
  reports?: boolean;
  /** Routing-domain namespace prefix (names only: nothing is created). */
  nsPrefix?: string;
  logger?: AgentLogger;
  /** Extra connection options (TLS, reconnect settings). */
  connection?: Partial<ConnectionOptions>;
}

/** What a host received: host-view entries (key + value bytes) and its connection's wire counters. */
export interface Received {
  entries: number;
  bytes: number;
  wireMsgs: number;
  wireBytes: number;
}

const AGENT_VERSION = 'sim';

/** Counts errors and keeps the last few; says nothing otherwise (a thousand of these share one process). */
export class QuietLogger implements AgentLogger {
  errors = 0;
  warnings = 0;
  readonly last: string[] = [];
  info(): void {}
  debug(): void {}
  warn(obj: object, msg?: string): void {
    this.warnings++;
    this.keep('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.errors++;
    this.keep('error', obj, msg);
  }
  private keep(level: string, obj: object, msg?: string): void {
    const err = (obj as { err?: unknown }).err;
    this.last.push(`${level}: ${msg ?? ''} ${err instanceof Error ? err.message : err !== undefined ? String(err) : ''}`.trim());
    if (this.last.length > 5) this.last.shift();
  }
}

interface Waiter {
  until: (k: SimKernel) => boolean;
  resolve: (at: number) => void;
}

export class SimHypervisor {
  readonly kernel = new SimKernel();
  readonly logger: AgentLogger;
  readonly dataplane: Dataplane;
  readonly agent: Agent;
  private nc: NatsConnection | null = null;
  private watcher: HostViewWatcher | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private resync: Subscription | null = null;
  private waiters: Waiter[] = [];
  private syncWaiters: Array<{ n: number; resolve: () => void }> = [];
  private received = { entries: 0, bytes: 0 };
  /** Passes: full and fast, and failed ones. */
  readonly passes = { full: 0, fast: 0, failed: 0 };

  constructor(private readonly o: SimHypervisorOptions) {
    this.logger = o.logger ?? new QuietLogger();
    this.dataplane = new Dataplane({
      managers: simManagers(this.kernel),
      io: { exec: NO_PROGRAMS, nsPrefix: o.nsPrefix ?? 'strata-', stateDir: '/nonexistent' },
      kernel: this.kernel,
      logger: this.logger,
    });
    this.agent = new Agent({
      hostId: o.hostId,
      view: () => this.watcher?.current() ?? null,
      dataplane: this.dataplane,
      resyncMs: o.resyncMs ?? 30_000,
      logger: this.logger,
      identity: { bootId: randomUUID(), version: AGENT_VERSION, startedAt: new Date().toISOString() },
      onReport: (report) => this.send(agentReportSubject(o.hostId), report),
      onApplied: (r) => this.applied(r),
    });
  }

  get hostId(): string {
    return this.o.hostId;
  }

  /** Completed host-view watches (1 after the first snapshot; one more after each reconnect). */
  get syncs(): number {
    return this.watcher?.syncs ?? 0;
  }

  /** Connect, watch the host view and run the agent loop. */
  async start(): Promise<void> {
    await this.connect();
    this.agent.start();
    const every = this.o.heartbeatMs ?? 5_000;
    if (every > 0) this.heartbeat = setInterval(() => this.send(agentHeartbeatSubject(this.o.hostId), this.agent.heartbeat()), every);
  }

  /**
   * Force the connection to reconnect (nats.js `reconnect()`: the socket is
   * dropped and made again), as after a network failure: the watcher then
   * watches the host view again from scratch and the agent passes against
   * the kernel it left (nothing is flushed meanwhile). Resolves when the
   * new watch has its snapshot.
   */
  async reconnect(): Promise<void> {
    const synced = this.synced(this.syncs + 1);
    await this.nc!.reconnect();
    await synced;
  }

  /** Resolves once the watch has completed `n` snapshots (the first: 1). */
  synced(n = 1): Promise<void> {
    if (this.syncs >= n) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.disconnect();
    await this.agent.stop();
    this.dataplane.close();
  }

  /** What this host received so far. */
  receivedSoFar(): Received {
    const s = this.nc?.stats();
    return { ...this.received, wireMsgs: s?.inMsgs ?? 0, wireBytes: s?.inBytes ?? 0 };
  }

  /** The view position the kernel reflects (null until a pass applied a view with one). */
  get appliedPosition(): number | null {
    return this.agent.report().appliedPosition;
  }

  /** Resolves with the time (performance.now()) of the end of the first pass after which `until` holds of the kernel (now, if it holds already). */
  when(until: (k: SimKernel) => boolean): Promise<number> {
    if (until(this.kernel)) return Promise.resolve(performance.now());
    return new Promise((resolve) => this.waiters.push({ until, resolve }));
  }

  /** Resolves with the time of the end of the first pass after which the kernel reflects the log at `position` or later (now, if it does). */
  whenApplied(position: number): Promise<number> {
    return this.when(() => (this.appliedPosition ?? -1) >= position);
  }

  /** Resolves with the time of the end of the next successful pass. */
  nextPass(): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ until: () => true, resolve }));
  }

  private applied(r: ApplyReport): void {
    if (!r.ok) this.passes.failed++;
    else if (r.members) this.passes.fast++;
    else this.passes.full++;
    if (!r.ok || this.waiters.length === 0) return;
    const at = performance.now();
    this.waiters = this.waiters.filter((w) => {
      if (!w.until(this.kernel)) return true;
      w.resolve(at);
      return false;
    });
  }

  private async connect(): Promise<void> {
    const user = `agent-${this.o.hostId}`;
    const nc = await connect({
      servers: this.o.servers.split(','),
      user,
      pass: this.o.password,
      name: user,
      // The agent user may subscribe to its own inbox prefix only.
      inboxPrefix: `_INBOX_${user}`,
      maxReconnectAttempts: -1,
      // Hundreds connect at once, on a machine others load too: a slow handshake is retried, not fatal.
      waitOnFirstConnect: true,
      timeout: 60_000,
      ...this.o.connection,
    });
    this.nc = nc;
    this.resync = nc.subscribe(agentResyncSubject(this.o.hostId), { callback: (err) => err || this.send(agentReportSubject(this.o.hostId), this.agent.report()) });
    const watcher = new HostViewWatcher({
      nc,
      hostId: this.o.hostId,
      logger: this.logger,
      onEntry: (e: KvEntry) => {
        this.received.entries++;
        this.received.bytes += Buffer.byteLength(e.key) + e.value.length;
      },
      onChange: (whole) => {
        const view = watcher.current()?.view;
        if (view) this.plugVms(view.ports);
        this.agent.viewChanged(whole);
        if (this.syncWaiters.length > 0) {
          const n = watcher.syncs;
          this.syncWaiters = this.syncWaiters.filter((w) => (w.n <= n ? (w.resolve(), false) : true));
        }
      },
    });
    this.watcher = watcher;
    watcher.start();
  }

  private async disconnect(): Promise<void> {
    this.resync?.unsubscribe();
    this.resync = null;
    await this.watcher?.stop();
    const nc = this.nc;
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
  }

  /** Nova's side: a tap for every port bound here, none for a port that left. */
  private plugVms(ports: Parameters<typeof portDevices>[0]['ports']): void {
    const want = new Set(portDevices({ ports } as Parameters<typeof portDevices>[0]).map((p) => p.device));
    for (const d of [...this.kernel.peek().devices]) if (!want.has(d)) this.kernel.removeDevice(d);
    for (const d of want) this.kernel.addDevice(d);
  }

  private send(subject: string, message: unknown): void {
    if (this.o.reports === false) return;
    const nc = this.nc;
    if (nc && !nc.isClosed()) nc.publish(subject, JSON.stringify(message));
  }
}

const noPrograms = (): never => {
  throw new Error('a simulated hypervisor runs no programs');
};
const NO_PROGRAMS = { run: noPrograms, spawnDetached: noPrograms, watch: noPrograms };
