/**
 * The projector: follows the whole log with a JetStream durable pull
 * consumer (explicit ack) and writes it into PostgreSQL, exactly once.
 *
 * - One active projector at a time: each instance holds one PostgreSQL
 *   session and waits in `pg_advisory_lock` on it. The holder is active; the
 *   others are standbys blocked in that call. When the active dies its
 *   session ends (a kill -9 closes the socket; PostgreSQL sees it at once),
 *   the lock is released and a standby's call returns: it is active.
 *   The model is written on that same session, so an instance that lost its
 *   session lost the lock and cannot write either.
 * - On becoming active it creates the schema if missing, reads the
 *   checkpoint, and creates the durable consumer again starting right after
 *   it. PostgreSQL's checkpoint is the authority on what is applied; the
 *   consumer is only the transport. Re-creating it means the messages the
 *   dead instance had pulled but not acknowledged come at once instead of
 *   after the ack wait, and a consumer left ahead of the model (a rebuild, a
 *   restored database) cannot skip anything.
 * - Batches: messages are pulled ahead (bounded by the consumer's
 *   max_ack_pending) and whatever has arrived, up to `batch`, is applied in
 *   one transaction with the checkpoint (apply.ts); the messages are
 *   acknowledged only after the commit. A death between the commit and the
 *   acknowledgements is harmless: the next active starts after the
 *   checkpoint, and any redelivery at or below it is skipped inside the
 *   transaction.
 * - Any failure (PostgreSQL, NATS, a rebuild seen as a new generation)
 *   ends the session — and so the lock — and the instance starts over as a
 *   standby after a pause.
 */
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import pg from 'pg';
import { decodeEvent } from '@strata/eventlog';
import { applyBatch, readCheckpoint, type AppliedBatch } from './apply.js';
import { REBUILT_CHANNEL, ensureSchema } from './schema.js';

export interface ProjectorLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface ProjectorOptions {
  nc: NatsConnection;
  /** PostgreSQL connection string. */
  pgUrl: string;
  /** The model's schema (schema.ts). */
  schema: string;
  /** The event stream (STRATA_EVENTS). */
  stream: string;
  /** The durable consumer only this service may use (render-accounts.mjs). */
  durable: string;
  /** Subject filter of the consumer: every event. */
  filter: string;
  /** Most events per transaction. */
  batch?: number;
  /** Wait before starting over after a failure. */
  retryDelayMs?: number;
  log: ProjectorLog;
  onRole?: (role: 'standby' | 'active') => void;
  onBatch?: (b: AppliedBatch, ms: number) => void;
  /** The model's position as this instance knows it: at each takeover (the checkpoint) and after each batch. */
  onPosition?: (lastSeq: number) => void;
  /**
   * Test hook (STRATA_PG_PROJECTOR_CRASH_AFTER_COMMIT): called after every
   * commit, before the acknowledgements; the crash tests make it kill the
   * process there.
   */
  afterCommit?: (b: AppliedBatch) => void;
}

/** Key of the advisory lock: one active projector per schema. */
const lockKey = (schema: string): string => `strata-pg-projector:${schema}`;

export class PgProjector {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private db: pg.Client | undefined;
  private messages: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private role: 'standby' | 'active' | 'stopped' = 'standby';
  private applied = 0;
  /** A rebuild was announced on this session: stop consuming and start over. */
  private rebuilt = false;

  constructor(private readonly o: ProjectorOptions) {}

  get isActive(): boolean {
    return this.role === 'active';
  }

  /** Events this instance applied (not skipped) since it started. */
  get appliedCount(): number {
    return this.applied;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop consuming, finish the batch in hand, end the session (releasing the lock). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    this.wake?.();
    // A standby is blocked in pg_advisory_lock: ending its session is what stops it.
    if (this.role !== 'active') await this.db?.end().catch(() => undefined);
    await this.loop;
    this.role = 'stopped';
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.session();
      } catch (err) {
        if (this.stopping) break;
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pg-projector: session ended; starting over as a standby');
      } finally {
        this.messages?.stop();
        this.messages = undefined;
        await this.db?.end().catch(() => undefined);
        this.db = undefined;
        if (this.role === 'active') this.setRole('standby');
      }
      if (!this.stopping) await this.pause(this.o.retryDelayMs ?? 500);
    }
  }

  private setRole(role: 'standby' | 'active'): void {
    this.role = role;
    this.o.onRole?.(role);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** One PostgreSQL session: wait for the lock, then project until something fails or stop(). */
  private async session(): Promise<void> {
    const { schema } = this.o;
    const db = new pg.Client({ connectionString: this.o.pgUrl, application_name: 'strata-pg-projector' });
    this.db = db;
    // A broken connection (the lock is gone with it): stop consuming now rather than at the next batch; the loop starts over.
    db.on('error', () => this.messages?.stop());
    await db.connect();
    this.setRole('standby');
    this.o.log.info({}, 'pg-projector: standby (waiting for the lock)');
    await db.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey(schema)]);
    if (this.stopping) return;
    // Before reading the checkpoint, so a rebuild committed after that read is heard.
    this.rebuilt = false;
    await db.query(`LISTEN ${REBUILT_CHANNEL}`);
    db.on('notification', (n) => {
      if (n.channel !== REBUILT_CHANNEL || n.payload !== schema) return;
      this.o.log.info({ schema }, 'pg-projector: the model was rebuilt; starting over from position 1');
      this.rebuilt = true;
      this.messages?.stop();
    });
    await ensureSchema(db, schema);
    const cp = await readCheckpoint(db, schema);
    await this.recreateConsumer(cp.lastSeq + 1);
    this.setRole('active');
    this.o.onPosition?.(cp.lastSeq);
    this.o.log.info({ generation: cp.generation, fromSeq: cp.lastSeq + 1 }, 'pg-projector: active');
    await this.project(db, cp.generation);
  }

  private async recreateConsumer(fromSeq: number): Promise<void> {
    const { nc, stream, durable, filter } = this.o;
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.delete(stream, durable).catch(() => undefined);
    const batch = this.o.batch ?? 500;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      ...(fromSeq <= 1 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq }),
      ack_wait: nanos(60_000),
      max_deliver: -1,
      // Bounds what is pulled ahead of the commits.
      max_ack_pending: batch * 4,
    });
  }

  /** Pull, batch, apply, acknowledge, until the consumer ends or a batch fails. */
  private async project(db: pg.Client, generation: string): Promise<void> {
    const { nc, stream, durable, schema } = this.o;
    const batch = this.o.batch ?? 500;
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: batch * 2, abort_on_missing_resource: true });
    this.messages = messages;
    if (this.rebuilt) messages.stop();
    const queue: JsMsg[] = [];
    let ended = false;
    let ready: (() => void) | undefined;
    const reader = (async () => {
      try {
        for await (const m of messages) {
          queue.push(m);
          ready?.();
        }
      } finally {
        ended = true;
        ready?.();
      }
    })();
    try {
      for (;;) {
        if (queue.length === 0) {
          if (ended || this.stopping) break;
          await new Promise<void>((r) => (ready = r));
          ready = undefined;
          continue;
        }
        const taken = queue.splice(0, batch);
        const events = taken.map((m) => decodeEvent(m.data, { seq: m.seq, subject: m.subject, storedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString() }));
        const t0 = performance.now();
        const result = await applyBatch(db, schema, generation, events);
        this.o.afterCommit?.(result);
        for (const m of taken) m.ack();
        this.applied += result.applied;
        this.o.onBatch?.(result, performance.now() - t0);
        this.o.onPosition?.(result.lastSeq);
      }
    } finally {
      messages.stop();
      await reader.catch(() => undefined);
    }
    if (!this.stopping) throw new Error('the consumer ended');
  }
}
