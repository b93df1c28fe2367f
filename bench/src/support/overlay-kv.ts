/**
 * Watching what an agent receives, from the benchmark process.
 *
 * HostWatch watches a host's view exactly as the agent does
 * (services/agent/src/view/kv-watch.ts): bucket hostviewBucket(hostId),
 * bound only, `kv.watch({key: '<host>.>'})`, on its own NATS connection, so
 * that the connection's counters (nc.stats()) are the wire-level traffic of
 * one agent's watch: KV entries plus the ordered consumer's idle heartbeats
 * (every 5 s, nats.js 2.29) and flow-control messages.
 *
 * StatusWatch follows the agents' status messages (`strata.status.<host>`):
 * after every reconcile an agent says which view revision it applied and
 * which of its ports are up.
 */
import { connect, type ConnectionOptions, type KvEntry, type NatsConnection, type QueuedIterator, type Subscription } from 'nats';
import { AGENT_REPORTS, AgentReport, hostviewBucket } from '@strata/contracts';

export interface SeenEntry {
  key: string;
  op: 'PUT' | 'DEL' | 'PURGE';
  revision: number;
  /** Value bytes as delivered (0 for a delete). */
  valueBytes: number;
  /** performance.now() when the watch delivered it. */
  at: number;
}

export class HostWatch {
  /** Entries delivered after the initial snapshot. */
  readonly entries: SeenEntry[] = [];
  /** Entries of the initial snapshot (the host's current keys). */
  initial = 0;
  initialBytes = 0;
  private waiters: Array<() => void> = [];
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    readonly hostId: string,
    readonly nc: NatsConnection,
    private iter: QueuedIterator<KvEntry>,
  ) {}

  /** Resolves once the initial snapshot has been delivered (the bucket must exist). */
  /** `nats`: how to connect (the lab's production users: the operator's, `lab.natsUsers.options('admin')`). */
  static async start(nats: ConnectionOptions, hostId: string, timeoutMs = 30_000): Promise<HostWatch> {
    const nc = await connect({ ...nats, name: `bench-watch-${hostId}` });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const kv = await nc.jetstream().views.kv(hostviewBucket(hostId), { bindOnly: true });
        // As the agent does: initializedFn either runs in order inside the iterator (after the snapshot's
        // last entry) or before watch() returns, when everything queued so far is the snapshot.
        let iterRef: QueuedIterator<KvEntry> | undefined;
        let snapshotAt: number | null = null;
        let seen = 0;
        let snapshotBytes = 0;
        let onInit: () => void = () => undefined;
        let check: () => void = () => undefined;
        const initDone = new Promise<void>((r) => (onInit = r));
        const iter = await kv.watch({
          key: `${hostId}.>`,
          initializedFn: () => {
            snapshotAt = iterRef ? seen : -1;
            check();
          },
        });
        iterRef = iter;
        if (snapshotAt === -1) snapshotAt = iter.getReceived();
        const w = new HostWatch(hostId, nc, iter);
        check = (): void => {
          if (snapshotAt !== null && seen >= snapshotAt) {
            w.initial = snapshotAt;
            w.initialBytes = snapshotBytes;
            onInit();
          }
        };
        check();
        w.loop = (async () => {
          for await (const e of iter) {
            if (snapshotAt === null || seen < snapshotAt) {
              seen++;
              snapshotBytes += e.value.length;
              check();
              continue;
            }
            seen++;
            w.entries.push({ key: e.key, op: e.operation, revision: e.revision, valueBytes: e.value.length, at: performance.now() });
            for (const f of w.waiters.splice(0)) f();
          }
        })();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([initDone, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${hostId}: no initial snapshot`)), timeoutMs)))]);
        } catch (err) {
          await w.stop().catch(() => undefined);
          throw err;
        } finally {
          clearTimeout(timer);
        }
        return w;
      } catch (err) {
        if (Date.now() > deadline) {
          await nc.close();
          throw err;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Wire counters of this watch's connection. */
  wire(): { msgs: number; bytes: number } {
    const s = this.nc.stats();
    return { msgs: s.inMsgs, bytes: s.inBytes };
  }

  /** The first entry from index `from` on that matches, waiting at most timeoutMs. */
  async waitFor(pred: (e: SeenEntry) => boolean, from: number, timeoutMs: number): Promise<SeenEntry> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.entries.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.hostId}: expected host-view entry not seen within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.iter.stop();
    await this.loop.catch(() => undefined);
    await this.nc.close();
  }
}

/** The ids of a report's ports in `state`. */
export const portsIn = (s: AgentReport, state: 'up' | 'down' | 'error'): string[] => s.ports.filter((p) => p.state === state).map((p) => p.portId);

export interface SeenStatus {
  status: AgentReport;
  at: number;
}

export class StatusWatch {
  readonly latest = new Map<string, SeenStatus>();
  /** Every status received, per host, in arrival order. */
  readonly history = new Map<string, SeenStatus[]>();
  private waiters: Array<() => void> = [];
  private readonly sub: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    hostIds: string[],
  ) {
    const sub = nc.subscribe(AGENT_REPORTS);
    this.sub = sub;
    const wanted = new Set(hostIds);
    void (async () => {
      for await (const m of sub) {
        const at = performance.now();
        let s: AgentReport;
        try {
          s = AgentReport.parse(JSON.parse(new TextDecoder().decode(m.data)));
        } catch {
          continue;
        }
        if (!wanted.has(s.hostId)) continue;
        this.latest.set(s.hostId, { status: s, at });
        const h = this.history.get(s.hostId) ?? [];
        h.push({ status: s, at });
        this.history.set(s.hostId, h);
        for (const f of this.waiters.splice(0)) f();
      }
    })();
  }

  static async start(nats: ConnectionOptions, hostIds: string[]): Promise<StatusWatch> {
    return new StatusWatch(await connect({ ...nats, name: 'bench-status' }), hostIds);
  }

  /** Number of statuses of `hostId` received so far (a position for waitFor). */
  mark(hostId: string): number {
    return this.history.get(hostId)?.length ?? 0;
  }

  /**
   * The first status of `hostId` received at position `from` or later that satisfies `pred`, with the
   * time it arrived; with `from` undefined, the latest status counts too.
   */
  async waitFor(hostId: string, pred: (s: AgentReport) => boolean, timeoutMs: number, from?: number): Promise<SeenStatus> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const h = this.history.get(hostId) ?? [];
      const hit = from === undefined ? (h.length && pred(h[h.length - 1]!.status) ? h[h.length - 1] : undefined) : h.slice(from).find((x) => pred(x.status));
      if (hit) return hit;
      const left = deadline - performance.now();
      if (left <= 0) {
        const s = this.latest.get(hostId)?.status;
        throw new Error(`${hostId}: agent status not reached within ${timeoutMs} ms (last: ${s ? `rev ${s.viewRevision}, up ${portsIn(s, 'up').length}, down ${portsIn(s, 'down').length}, error ${s.error}` : 'none'})`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.close();
  }
}
