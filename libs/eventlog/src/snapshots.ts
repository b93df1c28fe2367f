import { StorageType, type NatsConnection, type ObjectStore } from 'nats';
import { ValidationError } from '@strata/errors';
import type { LoadedSnapshot, Snapshot, SnapshotStorePort } from './types.js';

export interface SnapshotStoreOptions {
  bucket: string;
  storage: 'file' | 'memory';
  replicas: number;
  /** Object chunk size; must stay under the server's max_payload (1 MiB by default). */
  chunkBytes: number;
  /** Per-chunk publish timeout. Large snapshots have many chunks in flight at once. */
  timeoutMs: number;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotStoreOptions = {
  bucket: 'strata-snapshots',
  storage: 'file',
  replicas: 1,
  chunkBytes: 512 * 1024,
  timeoutMs: 60_000,
};

// Characters encoded per stream slice: bounds the transient UTF-8 buffers.
const ENCODE_SLICE = 1 << 20;

/**
 * Snapshots in a JetStream object store. A KV value is limited to
 * max_payload (1 MiB), a service's state is not: the object store chunks it.
 *
 * Format: one JSON document `{"seq","schemaVersion","savedAt","state"}`,
 * written as a stream of UTF-8 slices so the state's JSON text exists once
 * (as a string), never as a second full-size string or byte buffer.
 */
export class SnapshotStore implements SnapshotStorePort {
  private constructor(
    private readonly os: ObjectStore,
    readonly options: SnapshotStoreOptions,
  ) {}

  static async open(nc: NatsConnection, options: Partial<SnapshotStoreOptions> = {}): Promise<SnapshotStore> {
    const o = { ...DEFAULT_SNAPSHOT_OPTIONS, ...options };
    const os = await nc.jetstream().views.os(o.bucket, {
      storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
      replicas: o.replicas,
    });
    return new SnapshotStore(os, o);
  }

  async save(name: string, snapshot: Snapshot): Promise<void> {
    await this.os.put(
      { name, options: { max_chunk_size: this.options.chunkBytes } },
      utf8Stream(serialize(name, snapshot)),
      { timeout: this.options.timeoutMs },
    );
  }

  async load<TState = unknown>(name: string): Promise<LoadedSnapshot<TState> | null> {
    checkName(name);
    const result = await this.os.get(name);
    if (result === null) return null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = result.data.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
    // Rejects on a digest mismatch: a corrupt snapshot must not be folded into state.
    const err = await result.error;
    if (err) throw err;
    return parse<TState>(Buffer.concat(chunks, size).toString('utf8'));
  }
}

/** Snapshots in process memory, same encoding and validation, for unit tests. */
export class InMemorySnapshotStore implements SnapshotStorePort {
  private readonly docs = new Map<string, string>();

  async save(name: string, snapshot: Snapshot): Promise<void> {
    this.docs.set(name, serialize(name, snapshot).join(''));
  }

  async load<TState = unknown>(name: string): Promise<LoadedSnapshot<TState> | null> {
    checkName(name);
    const doc = this.docs.get(name);
    return doc === undefined ? null : parse<TState>(doc);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('snapshot name is required', { field: 'name' });
}

/**
 * The document as parts: concatenating them would make V8 flatten a
 * full-size copy of the state's JSON as soon as it is sliced.
 */
function serialize(name: string, s: Snapshot): string[] {
  checkName(name);
  if (!Number.isInteger(s.seq) || s.seq < 0) throw new ValidationError('snapshot seq must be an integer >= 0', { field: 'seq' });
  if (!Number.isInteger(s.schemaVersion)) {
    throw new ValidationError('snapshot schemaVersion must be an integer', { field: 'schemaVersion' });
  }
  const savedAt = new Date().toISOString();
  // `state` goes last and is stringified once; the envelope is concatenated around it.
  const state = JSON.stringify(s.state) ?? 'null';
  return [`{"seq":${s.seq},"schemaVersion":${s.schemaVersion},"savedAt":"${savedAt}","state":`, state, '}'];
}

function parse<TState>(text: string): LoadedSnapshot<TState> {
  const doc = JSON.parse(text) as LoadedSnapshot<TState>;
  return { seq: doc.seq, schemaVersion: doc.schemaVersion, savedAt: doc.savedAt, state: doc.state };
}

/** UTF-8 bytes of the parts, produced lazily slice by slice as the consumer pulls. */
function utf8Stream(parts: string[]): ReadableStream<Uint8Array> {
  let part = 0;
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      while (part < parts.length && pos >= parts[part]!.length) {
        part++;
        pos = 0;
      }
      const text = parts[part];
      if (text === undefined) {
        controller.close();
        return;
      }
      let end = Math.min(pos + ENCODE_SLICE, text.length);
      // Never split a surrogate pair across slices: each half alone would encode as U+FFFD.
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      controller.enqueue(Buffer.from(text.slice(pos, end), 'utf8'));
      pos = end;
    },
  });
}
