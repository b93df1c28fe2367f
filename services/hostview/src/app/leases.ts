/**
 * Partition leases, the I/O shell around core/lease.ts: one key per
 * partition in the `strata_hostview_leases` bucket, looked at every ttl/6;
 * writes carry the revision they expect (create = revision 0, a released
 * lease's tombstone revision, or the revision read), so JetStream lets one
 * writer win. `onGained`/`onLost` are called when this instance starts or
 * stops being allowed to publish a partition (core `holds`), never twice in
 * a row for the same partition; a loss is acted on at once, even while the
 * partition is still starting, and a gain waits for the previous loss.
 *
 * A write whose answer is lost (timeout, connection gone) leaves the state
 * as it was: a renewal that never lands simply lets the hold run out; a
 * take that did land is discovered by the next reading (a record naming us
 * that we do not hold is treated as anyone's, taken again after a ttl).
 * stop() releases every held lease (a revision-checked delete), so a
 * survivor takes it at its next look instead of after a ttl.
 */
import type { KV, KvEntry } from 'nats';
import { hostviewLeaseKey } from '@strata/contracts';
import type { Logger } from '@strata/runtime';
import { acquired, decide, emptyLease, holds, observe, refused, tickEveryMs, type LeaseRecord, type LeaseState } from '../core/lease.js';

/** What the shell needs of the bucket. */
export type LeaseBucket = Pick<KV, 'get' | 'create' | 'update' | 'delete'>;

export interface PartitionLeasesOptions {
  bucket: LeaseBucket;
  /** This instance's id in the records (unique per process). */
  self: string;
  /** Partitions (n of HOSTVIEW_PARTITION "i/n") and the one this instance prefers (i). */
  count: number;
  preferred: number;
  ttlMs: number;
  logger: Logger;
  /** Start publishing partition `index` (its start-up reconcile republishes every view of it). */
  onGained: (index: number) => Promise<void>;
  /** Stop publishing partition `index` at once (the lease ran out or another instance took it). */
  onLost: (index: number) => Promise<void>;
  /** A monotonic clock in ms (default performance.now). */
  now?: () => number;
}

/** JetStream's "wrong last sequence": the record moved on since it was read. */
const WRONG_LAST_SEQUENCE = 10071;
const isRefusal = (err: unknown): boolean =>
  (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String((err as Error | null)?.message));

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The record as read: a put names its holder; a delete or purge (a released lease) names none. */
export function leaseRecordOf(entry: KvEntry | null): LeaseRecord {
  if (entry === null) return { revision: 0, holder: undefined };
  if (entry.operation !== 'PUT') return { revision: entry.revision, holder: undefined };
  try {
    const holder = (JSON.parse(utf8Decoder.decode(entry.value)) as { holder?: unknown }).holder;
    return { revision: entry.revision, holder: typeof holder === 'string' ? holder : '' };
  } catch {
    // Unreadable: someone's, whose; it is taken over like any other once it stops changing.
    return { revision: entry.revision, holder: '' };
  }
}

export class PartitionLeases {
  private readonly states: LeaseState[];
  /** Per partition: a record of another holder was seen to change (that holder is alive). */
  private readonly renewedByOther: boolean[];
  private readonly publishing: boolean[];
  /** Per partition, the gain/loss in progress: transitions of one partition run in order. */
  private readonly transitions: Array<Promise<void>>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: PartitionLeasesOptions) {
    this.states = Array.from({ length: o.count }, emptyLease);
    this.publishing = Array.from({ length: o.count }, () => false);
    this.renewedByOther = Array.from({ length: o.count }, () => false);
    this.transitions = Array.from({ length: o.count }, () => Promise.resolve());
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * Look at every lease until the preferred partition is published, by this
   * instance or by a live other one (its record seen renewed), and resolve
   * once the partitions gained meanwhile are published; looking every ttl/6
   * goes on meanwhile. After a kill -9 and a restart the instance's own old
   * lease must run out first: start-up then takes up to a ttl longer.
   *
   * The looks (the renewals) start before the gained partitions' start-up
   * is awaited, not after: that start-up republishes every view, which on a
   * long log or a loaded machine takes longer than a lease is valid, and its
   * writes wait for a valid lease, which only a renewal gives.
   */
  async start(): Promise<void> {
    for (;;) {
      await this.tick();
      if (this.publishing[this.o.preferred] || this.renewedByOther[this.o.preferred]) break;
      await new Promise((resolve) => setTimeout(resolve, tickEveryMs(this.o.ttlMs)));
    }
    this.schedule();
    await Promise.all(this.transitions);
  }

  /**
   * Whether partition `index`'s lease is valid at this instant (core
   * `holds`: its last successful renewal started less than 2/3 ttl ago),
   * asked before every write of the partition. Not whether it is published:
   * a process frozen past its lease is still "publishing" until its next
   * look, and must not write meanwhile.
   */
  valid(index: number): boolean {
    const state = this.states[index];
    return state !== undefined && holds(state, this.now(), this.o.ttlMs);
  }

  /** The partitions this instance publishes now. */
  held(): number[] {
    return this.publishing.flatMap((p, i) => (p ? [i] : []));
  }

  /** Stop looking; stop publishing every partition (`stopPartition`, a graceful stop), then release their leases. */
  async stop(stopPartition: (index: number) => Promise<void>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.all(this.transitions);
    await Promise.all(
      this.states.map(async (state, index) => {
        if (this.publishing[index]) await stopPartition(index);
        this.publishing[index] = false;
        if (state.held === undefined) return;
        await this.o.bucket.delete(hostviewLeaseKey(index, this.o.count), { previousSeq: state.held.revision }).catch((err: unknown) => {
          this.o.logger.warn({ err, partition: `${index}/${this.o.count}` }, 'could not release a partition lease: a survivor takes it once it runs out');
        });
      }),
    );
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, tickEveryMs(this.o.ttlMs));
  }

  private async tick(): Promise<void> {
    await Promise.all(this.states.map((_, index) => this.look(index)));
  }

  /** Read the record, write it if the core says so, and start or stop publishing when that changed. */
  private async look(index: number): Promise<void> {
    const key = hostviewLeaseKey(index, this.o.count);
    const policy = { self: this.o.self, ttlMs: this.o.ttlMs, preferred: index === this.o.preferred };
    try {
      const before = this.states[index]!.seen;
      const record = leaseRecordOf(await this.o.bucket.get(key));
      this.states[index] = observe(this.states[index]!, record, this.now());
      this.renewedByOther[index] = before !== undefined && before.revision !== record.revision && record.holder !== undefined && record.holder !== this.o.self;
      const action = decide(this.states[index]!, this.now(), policy);
      if (action.kind === 'acquire') {
        const startedAt = this.now();
        const value = utf8.encode(JSON.stringify({ holder: this.o.self, partition: `${index}/${this.o.count}` }));
        try {
          const revision = action.revision === 0 ? await this.o.bucket.create(key, value) : await this.o.bucket.update(key, value, action.revision);
          this.states[index] = acquired(this.states[index]!, revision, startedAt, this.o.self);
          if (action.why !== 'renew') this.o.logger.info({ partition: `${index}/${this.o.count}`, revision, why: action.why }, 'partition lease taken');
        } catch (err) {
          if (!isRefusal(err)) throw err;
          this.states[index] = refused(this.states[index]!);
        }
      }
    } catch (err) {
      // The bucket unreachable: nothing is known; the hold runs out on its own if this goes on.
      this.o.logger.warn({ err, partition: `${index}/${this.o.count}` }, 'partition lease not checked');
    }
    const may = !this.stopped && holds(this.states[index]!, this.now(), this.o.ttlMs);
    if (may === this.publishing[index]) return;
    this.publishing[index] = may;
    const partition = `${index}/${this.o.count}`;
    if (may) {
      // After the previous loss of this partition completed: never two publishers of it in this process.
      this.transitions[index] = this.transitions[index]!.then(() => this.o.onGained(index)).catch((err: unknown) => {
        this.o.logger.error({ err, partition }, 'could not start publishing a partition: its lease is left to run out');
        this.publishing[index] = false;
        this.states[index] = refused(this.states[index]!);
      });
      return;
    }
    // At once, not behind a gain still starting: the partition's start-up is cut short.
    this.o.logger.warn({ partition }, 'partition lease lost: no longer publishing it');
    const lost = this.o.onLost(index).catch((err: unknown) => this.o.logger.error({ err, partition }, 'could not stop publishing a partition'));
    this.transitions[index] = Promise.all([this.transitions[index], lost]).then(() => undefined);
  }
}
