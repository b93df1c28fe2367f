/**
 * Audit snapshots: hostview's model (its input nodes' state, everything the
 * incremental engine needs to resume) saved every N events under a name that
 * carries its log position (`audit-<seq, 12 digits>`), so that "the host at
 * position S" starts from the nearest snapshot at or before S instead of the
 * beginning of the log. They live in hostview's own snapshot bucket
 * (`strata-snapshots-hostview`).
 *
 * Derived data, like every snapshot: a missing, damaged or older-schema one
 * only means replaying from an earlier one (or from the start). Hostview
 * itself never starts from them (its start-up replays the log, see
 * projection.ts); only the `at` query reads them.
 *
 * Every partition's model is the whole model (each reads the whole log), so
 * one writer is enough: the instance of partition 0 writes, every partition
 * reads (HOSTVIEW_AUDIT_SNAPSHOT_EVERY, _KEEP in service.ts). The oldest are
 * deleted beyond `keep`: a point older than the oldest kept snapshot replays
 * from the start of the log.
 */
import type { NatsConnection } from 'nats';
import { InMemorySnapshotStore, natsReplicas, snapshotStream, type SnapshotStorePort } from '@strata/eventlog';
import type { Logger } from '@strata/runtime';
import type { Model } from '../core/model.js';
import { MODEL_SCHEMA_VERSION, modelFromPlain, modelToPlain } from '../core/model-codec.js';

const PREFIX = 'audit-';
export const auditSnapshotName = (seq: number): string => `${PREFIX}${String(seq).padStart(12, '0')}`;
export const auditSnapshotSeq = (name: string): number | null => {
  const m = /^audit-(\d{12})$/.exec(name);
  return m ? Number(m[1]) : null;
};

/** The names of the objects in a bucket, and their deletion. */
export interface ObjectNames {
  names(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

export interface AuditSnapshotStore {
  store: SnapshotStorePort;
  objects: ObjectNames;
}

/** A loaded snapshot: the model at `seq`. */
export interface AuditSnapshot {
  seq: number;
  model: Model;
}

/** How long loading one snapshot may take before it is given up (and an older one, or the log, used). */
export const DEFAULT_LOAD_TIMEOUT_MS = 180_000;

export class AuditSnapshots {
  constructor(
    private readonly s: AuditSnapshotStore,
    private readonly logger: Logger,
    private readonly loadTimeoutMs = DEFAULT_LOAD_TIMEOUT_MS,
  ) {}

  /** Positions of the audit snapshots there are, ascending. */
  async positions(): Promise<number[]> {
    const seqs = (await this.s.objects.names()).map(auditSnapshotSeq).filter((x): x is number => x !== null);
    return [...new Set(seqs)].sort((a, b) => a - b);
  }

  /** Serialises the model synchronously (a consistent cut: the caller may go on applying events), then writes it. */
  save(model: Model): Promise<unknown> {
    let state;
    try {
      state = modelToPlain(model);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.s.store.save(auditSnapshotName(model.seq), { seq: model.seq, state, schemaVersion: MODEL_SCHEMA_VERSION });
  }

  /**
   * The latest readable snapshot at or before `seq`, or null (replay from the
   * start). One that cannot be read (damaged, another schema, deleted
   * meanwhile) is logged and the next older one tried.
   */
  async nearest(seq: number): Promise<AuditSnapshot | null> {
    let candidates: number[];
    try {
      candidates = (await this.positions()).filter((p) => p <= seq).reverse();
    } catch (err) {
      this.logger.warn({ err }, 'audit snapshots cannot be listed; replaying from the start of the log');
      return null;
    }
    for (const at of candidates) {
      const name = auditSnapshotName(at);
      try {
        const snap = await this.loadBounded(name);
        if (snap === null) continue;
        if (snap.schemaVersion !== MODEL_SCHEMA_VERSION || snap.seq !== at) {
          this.logger.warn({ name, schemaVersion: snap.schemaVersion, seq: snap.seq }, 'ignoring an audit snapshot of another schema or position');
          continue;
        }
        const model = modelFromPlain(snap.state);
        if (model.seq !== at) continue;
        return { seq: at, model };
      } catch (err) {
        this.logger.warn({ err, name }, 'ignoring an audit snapshot that cannot be read; trying an older one');
      }
    }
    return null;
  }

  /**
   * A load that never finishes (an object-store read whose ordered consumer
   * was reset under a long GC pause was seen to wait forever) must not hold
   * the query, and every query queued behind it: given up after
   * `loadTimeoutMs` (the read itself cannot be cancelled; it is left to end).
   */
  private async loadBounded(name: string): ReturnType<SnapshotStorePort['load']> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loading ${name} took longer than ${this.loadTimeoutMs} ms`)), this.loadTimeoutMs);
    });
    const loading = this.s.store.load(name);
    loading.catch(() => undefined);
    try {
      return await Promise.race([loading, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Delete all but the newest `keep`. */
  async prune(keep: number): Promise<number> {
    const all = await this.positions();
    const old = all.slice(0, Math.max(0, all.length - keep));
    for (const seq of old) await this.s.objects.remove(auditSnapshotName(seq));
    return old.length;
  }
}

/**
 * Saves an audit snapshot every `every` model events once the projection is
 * live (a snapshot per N replayed events at start-up would serialise the
 * model again and again), one at a time (one that falls due meanwhile is
 * written right after, of the model as it is then); a failed save is logged
 * and tried again after the next `every` events. Never throws.
 */
export class AuditSnapshotPolicy {
  private since = 0;
  private latest: Model | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly snapshots: AuditSnapshots,
    private readonly o: { every: number; keep: number; logger: Logger; onSaved?: (seq: number) => void },
  ) {}

  /** After each live event applied to the model. */
  onApplied(model: Model): void {
    this.since++;
    this.latest = model;
    this.maybeSave();
  }

  /** A snapshot falls due every `every` events; one due while another is being written is written right after it. */
  private maybeSave(): void {
    const model = this.latest;
    if (model === undefined || this.o.every <= 0 || this.since < this.o.every || this.writing) return;
    this.since = 0;
    const seq = model.seq;
    const started = performance.now();
    this.writing = this.snapshots
      .save(model)
      .then(async () => {
        this.o.logger.info({ seq, ms: Math.round(performance.now() - started) }, 'audit snapshot saved');
        this.o.onSaved?.(seq);
        await this.snapshots.prune(this.o.keep);
      })
      .catch((err: unknown) => this.o.logger.warn({ err, seq }, `audit snapshot not saved; will try again after ${this.o.every} more events`))
      .finally(() => {
        this.writing = undefined;
        this.maybeSave();
      });
  }

  /** Wait for the saves in progress (stop). */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }
}

/**
 * The object names of a JetStream object-store bucket from its stream's
 * meta subjects (`$O.<bucket>.M.<base64url name>`), with one STREAM.INFO
 * (subjects_filter) the bucket's owner may use; deletion through the object
 * store (purge of the chunks), then of its meta subject.
 */
export async function jetStreamObjectNames(nc: NatsConnection, bucket: string): Promise<ObjectNames> {
  const jsm = await nc.jetstreamManager();
  const os = await nc.jetstream().views.os(bucket, { replicas: natsReplicas() });
  const prefix = `$O.${bucket}.M.`;
  return {
    async names() {
      const info = await jsm.streams.info(snapshotStream(bucket), { subjects_filter: `${prefix}>` });
      const subjects = Object.keys(info.state.subjects ?? {});
      return subjects.map((s) => Buffer.from(s.slice(prefix.length), 'base64url').toString('utf8'));
    },
    async remove(name) {
      // The chunks and a delete marker; then the marker too, so the names list only what exists.
      await os.delete(name);
      await jsm.streams.purge(snapshotStream(bucket), { filter: `${prefix}${Buffer.from(name, 'utf8').toString('base64url')}` });
    },
  };
}

/** In memory (unit tests): the snapshot format's own in-memory store, with its names. */
export function inMemoryAuditStore(): AuditSnapshotStore & { raw: InMemorySnapshotStore } {
  const raw = new InMemorySnapshotStore();
  const names = new Set<string>();
  const store: SnapshotStorePort = {
    save: (name, snapshot) => {
      names.add(name);
      return raw.save(name, snapshot);
    },
    load: (name) => (names.has(name) ? raw.load(name) : Promise.resolve(null)),
  };
  return {
    raw,
    store,
    objects: {
      names: () => Promise.resolve([...names]),
      remove: (name) => {
        names.delete(name);
        return Promise.resolve();
      },
    },
  };
}
