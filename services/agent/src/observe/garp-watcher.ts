/**
 * The GARP watcher's shell: one `tcpdump -i nflog:<GARP_LOG_GROUP>` in the
 * managed namespace while some local port has IPv4 allowed address pairs,
 * its GARPs published as `GarpObservation`s on the host's own status subject
 * (`strata.status.<host>.garp`), where IPAM records the address's owner.
 *
 * Cost: one process per hypervisor, and only while a local port has pairs;
 * it wakes only for what the kernel logged (a pair port's ARP for a pair
 * address, a few per failover): no per-packet process, no capture on any
 * device. It is the agent's child (not detached like dnsmasq: nothing
 * outside needs it while the agent is down), stopped by PID when no port
 * needs it, restarted with backoff if it dies while needed. A GARP sent while
 * it is down is missed; keepalived repeats its GARPs (and hostview's owner
 * stays the last one recorded), so no replay is needed.
 */
import type { GarpObservation, LocalPort } from '@strata/contracts';
import { GARP_LOG_GROUP } from '../core/address-pairs.js';
import type { Exec } from '../kernel/exec.js';
import { GarpDecider, TcpdumpHexReader } from './garp.js';

export interface GarpWatcherOptions {
  hostId: string;
  /** Runs in the managed namespace (the agent's `exec`). */
  exec: Exec;
  publish: (o: GarpObservation) => void;
  logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Restart delays grow from this to 30 s. */
  restartMs?: number;
  now?: () => number;
}

export const garpTcpdumpArgv = (): string[] => ['tcpdump', '-i', `nflog:${GARP_LOG_GROUP}`, '-n', '-l', '-xx', '-s', '512'];

export class GarpWatcher {
  private readonly decider: GarpDecider;
  private proc: { stop(): void } | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private backoff: number;
  private stopped = false;
  /** Processes started (the first start and every restart): the health of the mechanism, for tests and metrics. */
  starts = 0;

  constructor(private readonly o: GarpWatcherOptions) {
    this.decider = new GarpDecider(o.hostId);
    this.backoff = o.restartMs ?? 1000;
  }

  /** The current local ports: start, keep or stop the process. */
  update(ports: Iterable<LocalPort>): void {
    if (this.stopped) return;
    this.decider.setPorts([...ports].filter((p) => (p.allowedAddressPairs ?? []).some((a) => !a.ipAddress.includes(':'))));
    if (this.decider.watching > 0 && this.proc === null && this.restartTimer === null) this.start();
    else if (this.decider.watching === 0) this.halt();
  }

  stop(): void {
    this.stopped = true;
    this.halt();
  }

  private start(): void {
    const reader = new TcpdumpHexReader();
    this.starts++;
    const proc = this.o.exec.watch(
      garpTcpdumpArgv(),
      (line) => {
        const record = reader.push(line);
        const seen = record && this.decider.decide(record, (this.o.now ?? Date.now)());
        if (seen) {
          this.backoff = this.o.restartMs ?? 1000;
          this.o.publish(seen);
        }
      },
      (code) => {
        if (this.proc !== proc) return;
        this.proc = null;
        if (this.stopped || this.decider.watching === 0) return;
        this.o.logger.warn({ code, retryMs: this.backoff }, 'GARP watcher (tcpdump) exited; restarting');
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          if (!this.stopped && this.decider.watching > 0 && this.proc === null) this.start();
        }, this.backoff);
        this.backoff = Math.min(this.backoff * 2, 30_000);
      },
    );
    this.proc = proc;
    this.o.logger.info({ ports: this.decider.watching }, 'GARP watcher started');
  }

  private halt(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const proc = this.proc;
    this.proc = null;
    proc?.stop();
  }
}
