import { createHash, type Hash } from 'node:crypto';
import { StorageType, type NatsConnection, type ObjectStore } from 'nats';
import { ValidationError } from '@strata/errors';
import { natsReplicas } from './replicas.js';
import type { LoadedSnapshot, SavedSnapshot, Snapshot, SnapshotFormatOptions, SnapshotStorePort } from './types.js';

/**
 * Snapshot format 3: JSON lines, no line ever holding the whole state.
 *
 *     {"format":3,"name":"ipam","seq":1234,"schemaVersion":2,"savedAt":"2026-…Z"}   header
 *     {"path":[],"entries":{"seq":1234,"cloud":{…}}}                      keys of the state
 *     {"path":["networks","n1"],"entries":{"version":7,"closed":false}}  keys of state.networks.n1
 *     {"path":["networks","n1","ports"],"entries":{"p1":{…},"p2":{…}}}  a batch of its ports
 *     …
 *     {"end":true,"lines":57,"sha256":"9f86…"}                            trailer
 *
 * The trailer counts the body lines and carries the SHA-256 (hex) of every
 * byte before it (header and body lines, each with its '\n'); the header
 * names the snapshot. A reader refuses a snapshot whose checksum, line count
 * or name does not match (SnapshotFormatError): it is then ignored and the
 * log replayed. Format 2 was the same without name and checksum.
 *
 * A body line puts the keys of `entries` into the plain object at `path`
 * (the key path from the state's root), creating it and its parents as
 * needed. The writer splits every plain object whose JSON would be longer
 * than `lineChars` into batches of its keys, recursively, down to paths of
 * `splitDepth` keys; everything else (small objects, arrays, strings,
 * numbers) is one JSON value inside a batch. Lines come in depth-first
 * order, so the rebuilt objects have their keys in the original order. A
 * state that is not a plain object is one line `{"path":[],"value":…}`.
 */
export const SNAPSHOT_FORMAT = 3;

/** Each service keeps its snapshots in a bucket of its own, writable by its NATS user only. */
export const snapshotBucket = (service: string): string => `strata-snapshots-${service}`;

/** The object store's stream behind a bucket. */
export const snapshotStream = (bucket: string): string => `OBJ_${bucket}`;

export interface SnapshotStoreOptions extends SnapshotFormatOptions {
  bucket: string;
  storage: 'file' | 'memory';
  replicas: number;
  /** Object chunk size; must stay under the server's max_payload (1 MiB by default). */
  chunkBytes: number;
  /** Per-chunk publish timeout. */
  timeoutMs: number;
  /**
   * Bytes handed to the object store between two round trips to the server
   * (`flush`): the object store publishes chunks without waiting for their
   * acks, so without this the whole snapshot could sit in the client's
   * outbound buffers at once.
   */
  inFlightBytes: number;
}

export const DEFAULT_FORMAT_OPTIONS: SnapshotFormatOptions = {
  lineChars: 64 * 1024,
  maxLineChars: 64 * 1024 * 1024,
  splitDepth: 8,
};

export const DEFAULT_SNAPSHOT_OPTIONS: Omit<SnapshotStoreOptions, 'bucket'> = {
  storage: 'file',
  // STRATA_NATS_REPLICAS, read when the options are used (see DEFAULT_EVENT_LOG_OPTIONS).
  get replicas() {
    return natsReplicas();
  },
  chunkBytes: 512 * 1024,
  timeoutMs: 60_000,
  inFlightBytes: 8 * 1024 * 1024,
  ...DEFAULT_FORMAT_OPTIONS,
};

// Bytes of lines encoded to UTF-8 at once: bounds the transient buffers.
const ENCODE_SLICE = 1 << 20;
const HEADER_PREFIX = Buffer.from(`{"format":`);
const NEWLINE = Buffer.from('\n');

/** A snapshot this version cannot read: another format (e.g. format 1, one JSON document) or a damaged one. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

/** The state has a value that cannot be split and whose JSON is longer than `maxLineChars`. */
export class SnapshotTooLargeError extends Error {
  override readonly name = 'SnapshotTooLargeError';
}

/**
 * Snapshots in a JetStream object store. A KV value is limited to
 * max_payload (1 MiB), a service's state is not: the object store chunks it.
 * The object is format 2 (above), streamed line by line both ways.
 *
 * Cost of a save: the state is serialised synchronously into lines (about
 * 1.5× a plain JSON.stringify, and about as much memory as its JSON, freed
 * as the upload proceeds), then uploaded with the event loop free between
 * 1 MiB slices. A load holds one line at a time besides the state it builds.
 * Both ways nats.js hashes the object with a JavaScript SHA-256, which is
 * most of the upload and about half of the load time.
 */
export class SnapshotStore implements SnapshotStorePort {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly os: ObjectStore,
    readonly options: SnapshotStoreOptions,
  ) {}

  /** The bucket (snapshotBucket(service)) is created if missing; in production the operator has created it (the services' users may not). */
  static async open(nc: NatsConnection, options: Partial<SnapshotStoreOptions> & { bucket: string }): Promise<SnapshotStore> {
    const o = { ...DEFAULT_SNAPSHOT_OPTIONS, ...options };
    checkFormatOptions(o);
    const os = await nc.jetstream().views.os(o.bucket, {
      storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
      replicas: o.replicas,
    });
    return new SnapshotStore(nc, os, o);
  }

  /** Serialises synchronously (see SnapshotStorePort.save), then uploads the lines. */
  save(name: string, snapshot: Snapshot): Promise<SavedSnapshot> {
    let encoded: Encoded;
    try {
      encoded = encode(name, snapshot, this.options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.upload(name, snapshot.seq, encoded);
  }

  private async upload(name: string, seq: number, { lines, encodeMs }: Encoded): Promise<SavedSnapshot> {
    const started = performance.now();
    const count = lines.length;
    const slices = utf8Slices(lines);
    let bytes = 0;
    let sinceFlush = 0;
    const nc = this.nc;
    const inFlight = this.options.inFlightBytes;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sinceFlush >= inFlight) {
          // Everything handed over so far has reached the server: the client holds at most `inFlight` bytes.
          await nc.flush();
          sinceFlush = 0;
        } else if (bytes > 0) {
          // The object store hashes (in JavaScript) and publishes what it reads in microtasks: let the
          // service's own I/O and timers in between slices, or the upload would hold the event loop.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const next = slices.next();
        if (next.done) {
          controller.close();
          return;
        }
        bytes += next.value.length;
        sinceFlush += next.value.length;
        controller.enqueue(next.value);
      },
    });
    await this.os.put({ name, options: { max_chunk_size: this.options.chunkBytes } }, stream, { timeout: this.options.timeoutMs });
    return { seq, lines: count, bytes, encodeMs, writeMs: performance.now() - started };
  }

  /**
   * Reads the object's chunks with an ordered consumer bound to the bucket's
   * stream by name. Not ObjectStore.get(): that subscribes by subject, and
   * nats.js then looks the stream up with $JS.API.STREAM.NAMES, which a
   * service's NATS user may not use (issue 11, defect 5). The object store's
   * own digest is checked too, besides the format's checksum.
   */
  async load<TState = unknown>(name: string): Promise<LoadedSnapshot<TState> | null> {
    checkName(name);
    const info = await this.os.info(name);
    if (info === null || info.deleted) return null;
    const decoder = new SnapshotDecoder(name, this.options);
    const digest = createHash('sha256');
    if (info.size > 0) {
      const bucket = this.options.bucket;
      const consumer = await this.nc.jetstream().consumers.get(snapshotStream(bucket), { filterSubjects: `$O.${bucket}.C.${info.nuid}` });
      const messages = await consumer.consume();
      try {
        for await (const m of messages) {
          digest.update(m.data);
          decoder.push(m.data);
          if (m.info.pending === 0) break;
        }
      } finally {
        messages.stop();
        await consumer.delete().catch(() => undefined);
      }
    }
    const want = info.digest.slice(info.digest.indexOf('=') + 1);
    if (!digest.digest().equals(Buffer.from(want, 'base64url'))) {
      throw new SnapshotFormatError(`snapshot '${name}' cannot be read: its object digest does not match its content`);
    }
    return decoder.end() as LoadedSnapshot<TState>;
  }
}

export interface InMemorySnapshotStoreOptions extends SnapshotFormatOptions {
  /** Size of the byte chunks the snapshot is kept in; small values make lines straddle chunks, as in the object store. */
  chunkBytes: number;
}

/** Snapshots in process memory: the same format, bytes and decoder as SnapshotStore, for unit tests. */
export class InMemorySnapshotStore implements SnapshotStorePort {
  private readonly objects = new Map<string, Buffer[]>();
  readonly options: InMemorySnapshotStoreOptions;

  constructor(options: Partial<InMemorySnapshotStoreOptions> = {}) {
    this.options = { ...DEFAULT_FORMAT_OPTIONS, chunkBytes: 64 * 1024, ...options };
    checkFormatOptions(this.options);
  }

  save(name: string, snapshot: Snapshot): Promise<SavedSnapshot> {
    let encoded: Encoded;
    try {
      encoded = encode(name, snapshot, this.options);
    } catch (err) {
      return Promise.reject(err);
    }
    const started = performance.now();
    const count = encoded.lines.length;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const slice of utf8Slices(encoded.lines)) {
      for (let at = 0; at < slice.length; at += this.options.chunkBytes) chunks.push(slice.subarray(at, at + this.options.chunkBytes));
      bytes += slice.length;
    }
    this.objects.set(name, chunks);
    return Promise.resolve({ seq: snapshot.seq, lines: count, bytes, encodeMs: encoded.encodeMs, writeMs: performance.now() - started });
  }

  async load<TState = unknown>(name: string): Promise<LoadedSnapshot<TState> | null> {
    checkName(name);
    const chunks = this.objects.get(name);
    if (chunks === undefined) return null;
    const decoder = new SnapshotDecoder(name, this.options);
    for (const chunk of chunks) decoder.push(chunk);
    return decoder.end() as LoadedSnapshot<TState>;
  }

  /** Store raw bytes under a name (tests: old formats, damaged objects). */
  putRaw(name: string, data: Uint8Array): void {
    this.objects.set(name, [Buffer.from(data)]);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('snapshot name is required', { field: 'name' });
}

function checkFormatOptions(o: SnapshotFormatOptions): void {
  if (!(o.lineChars >= 1) || !(o.maxLineChars >= o.lineChars) || !Number.isInteger(o.splitDepth) || o.splitDepth < 0) {
    throw new ValidationError('snapshot format options: need 1 <= lineChars <= maxLineChars and an integer splitDepth >= 0', { field: 'options' });
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

interface Encoded {
  /** Lines without their '\n'. The upload empties the array's slots as it goes. */
  lines: string[];
  encodeMs: number;
}

/** The whole snapshot as lines, synchronously: a consistent cut of a state the caller goes on mutating. */
export function encode(name: string, s: Snapshot, options: SnapshotFormatOptions): Encoded {
  checkName(name);
  if (!Number.isInteger(s.seq) || s.seq < 0) throw new ValidationError('snapshot seq must be an integer >= 0', { field: 'seq' });
  if (!Number.isInteger(s.schemaVersion)) {
    throw new ValidationError('snapshot schemaVersion must be an integer', { field: 'schemaVersion' });
  }
  const started = performance.now();
  const header = { format: SNAPSHOT_FORMAT, name, seq: s.seq, schemaVersion: s.schemaVersion, savedAt: new Date().toISOString() };
  const lines = [JSON.stringify(header)];
  new LineWriter(lines, options).root(s.state);
  // Node hashes the strings as UTF-8, the bytes utf8Slices writes.
  const sha = createHash('sha256');
  for (const line of lines) sha.update(line, 'utf8').update(NEWLINE);
  lines.push(`{"end":true,"lines":${lines.length - 1},"sha256":"${sha.digest('hex')}"}`);
  return { lines, encodeMs: performance.now() - started };
}

class LineWriter {
  constructor(
    private readonly out: string[],
    private readonly o: SnapshotFormatOptions,
  ) {}

  root(state: unknown): void {
    if (isPlainObject(state)) {
      this.object([], state);
      return;
    }
    this.push([], `{"path":[],"value":${JSON.stringify(state) ?? 'null'}}`);
  }

  /**
   * The keys of `obj` (at `path`) as batches of about `lineChars`, each batch
   * one native JSON.stringify; large plain-object values are split further.
   */
  private object(path: string[], obj: Record<string, unknown>): void {
    const { lineChars, splitDepth } = this.o;
    const prefix = `{"path":${JSON.stringify(path)},"entries":`;
    const before = this.out.length;
    let batch: Record<string, unknown> = {};
    let count = 0;
    let size = 0;
    const flush = (): void => {
      if (count === 0) return;
      this.push(path, `${prefix}${JSON.stringify(batch)}}`);
      batch = {};
      count = 0;
      size = 0;
    };
    const canSplit = path.length < splitDepth;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      let estimate: number;
      if (typeof value === 'object' && value !== null) {
        const rest = measure(value, lineChars);
        if (rest < 0 && canSplit && isPlainObject(value)) {
          // Its own lines, after the keys before it: the reader then creates keys in their original order.
          flush();
          this.object([...path, key], value);
          continue;
        }
        estimate = lineChars - rest; // a value that cannot be split gets a line of its own (checked against maxLineChars)
      } else if (typeof value === 'string') {
        estimate = value.length + 2;
      } else if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
        continue; // JSON drops the key
      } else {
        estimate = 24;
      }
      estimate += key.length + 4;
      if (count > 0 && size + estimate > lineChars) flush();
      setOwn(batch, key, value);
      count++;
      size += estimate;
    }
    flush();
    // No key worth a line (e.g. `{}`, split only because `lineChars` is tiny): the object must still exist.
    if (this.out.length === before) this.push(path, `${prefix}{}}`);
  }

  private push(path: string[], line: string): void {
    if (line.length > this.o.maxLineChars) {
      throw new SnapshotTooLargeError(
        `snapshot line for ${JSON.stringify(path)} is ${line.length} characters, over the limit of ${this.o.maxLineChars}: a value there cannot be split (an array, a string, or an object deeper than ${this.o.splitDepth} keys)`,
      );
    }
    this.out.push(line);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * `budget` minus roughly the length of `v`'s JSON (an object or array),
 * stopping as soon as the result is negative: deciding that an object is too
 * large for one line costs at most a line's worth of walking, not the whole
 * object. Strings count without escapes: lines are cut by this estimate,
 * only `maxLineChars` is checked exactly.
 */
function measure(v: object, budget: number): number {
  budget -= 2;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'string') budget -= x.length + 3;
      else if (typeof x === 'object' && x !== null) budget = measure(x, budget - 1);
      else budget -= 8;
      if (budget < 0) return budget;
    }
    return budget;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return budget - (JSON.stringify(v)?.length ?? 0);
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    const x = obj[key];
    budget -= key.length + 4;
    if (typeof x === 'string') budget -= x.length + 2;
    else if (typeof x === 'object' && x !== null) budget = measure(x, budget);
    else budget -= 8;
    if (budget < 0) return budget;
  }
  return budget;
}

/**
 * The lines as UTF-8, each ended by '\n', in buffers of about ENCODE_SLICE
 * bytes (a longer line gets a buffer of its own); frees the lines it has
 * encoded, so the text shrinks as the upload proceeds.
 */
function* utf8Slices(lines: string[]): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(ENCODE_SLICE);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    lines[i] = '';
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const most = line.length * 3 + 1;
    if (at + most > buf.length) {
      if (at > 0) yield buf.subarray(0, at);
      buf = Buffer.allocUnsafe(Math.max(ENCODE_SLICE, most));
      at = 0;
    }
    at += buf.write(line, at, 'utf8');
    buf[at++] = 10;
  }
  if (at > 0) yield buf.subarray(0, at);
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Header {
  format: number;
  seq: number;
  schemaVersion: number;
  savedAt: string;
}

/** Rebuilds a snapshot from its bytes, fed in chunks of any size: lines are split on '\n' bytes and parsed one at a time. */
export class SnapshotDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private header: Header | undefined;
  private root: unknown;
  private hasRoot = false;
  private body = 0;
  private ended = false;
  /** Over every line before the trailer, each with its '\n'. */
  private readonly sha: Hash = createHash('sha256');
  private readonly maxLineBytes: number;

  constructor(
    private readonly name: string,
    private readonly o: SnapshotFormatOptions,
  ) {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes: a line of more bytes is certainly too long.
    this.maxLineBytes = o.maxLineChars * 3;
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) {
        if (start < buf.length) {
          // Copied: the chunk's memory may be reused once we return.
          this.pending.push(Buffer.from(buf.subarray(start)));
          this.pendingBytes += buf.length - start;
          this.checkPartial();
        }
        return;
      }
      let line: Buffer;
      if (this.pending.length > 0) {
        this.pending.push(buf.subarray(start, nl));
        line = Buffer.concat(this.pending, this.pendingBytes + nl - start);
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        line = buf.subarray(start, nl);
      }
      this.line(line);
      start = nl + 1;
    }
  }

  end(): LoadedSnapshot {
    if (this.pendingBytes > 0) throw this.damaged('it ends in the middle of a line');
    if (this.header === undefined) throw this.damaged('it is empty');
    if (!this.ended) throw this.damaged('it has no trailer line (truncated)');
    if (!this.hasRoot) throw this.damaged('it holds no state');
    const { seq, schemaVersion, savedAt } = this.header;
    return { seq, schemaVersion, savedAt, state: this.root };
  }

  /** Fail early on what cannot be a format-2 line, before buffering a whole old-format document. */
  private checkPartial(): void {
    if (this.header === undefined) this.checkPrefix(Buffer.concat(this.pending, Math.min(this.pendingBytes, 64)));
    if (this.pendingBytes > this.maxLineBytes) throw this.damaged(`a line is longer than ${this.o.maxLineChars} characters`);
  }

  private checkPrefix(start: Buffer): void {
    const n = Math.min(start.length, HEADER_PREFIX.length);
    if (start.subarray(0, n).equals(HEADER_PREFIX.subarray(0, n))) return;
    const old = start.subarray(0, 7).toString('latin1') === '{"seq":';
    throw new SnapshotFormatError(
      old
        ? `snapshot '${this.name}' is in format 1 (one JSON document); this version reads format ${SNAPSHOT_FORMAT}`
        : `snapshot '${this.name}' is not in format ${SNAPSHOT_FORMAT} (it does not start with a format header)`,
    );
  }

  private line(bytes: Buffer): void {
    if (this.header === undefined) this.checkPrefix(bytes);
    if (bytes.length > this.maxLineBytes) throw this.damaged(`a line is longer than ${this.o.maxLineChars} characters`);
    const text = bytes.toString('utf8');
    if (text.length > this.o.maxLineChars) throw this.damaged(`a line is longer than ${this.o.maxLineChars} characters`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw this.damaged(`a line is not JSON (${(err as Error).message})`);
    }
    if (!isRecord(parsed)) throw this.damaged('a line is not a JSON object');
    if (this.header === undefined) {
      this.header = this.readHeader(parsed);
      this.sha.update(bytes).update(NEWLINE);
      return;
    }
    if (this.ended) throw this.damaged('it has lines after its trailer');
    if (parsed['end'] === true) {
      if (parsed['lines'] !== this.body) throw this.damaged(`the trailer counts ${String(parsed['lines'])} lines, ${this.body} were read`);
      if (parsed['sha256'] !== this.sha.digest('hex')) throw this.damaged('its checksum does not match its content');
      this.ended = true;
      return;
    }
    this.sha.update(bytes).update(NEWLINE);
    this.body++;
    this.apply(parsed);
  }

  private readHeader(h: Record<string, unknown>): Header {
    if (h['format'] !== SNAPSHOT_FORMAT) {
      throw new SnapshotFormatError(`snapshot '${this.name}' is in format ${String(h['format'])}; this version reads format ${SNAPSHOT_FORMAT}`);
    }
    const { seq, schemaVersion, savedAt, name } = h;
    if (!Number.isInteger(seq) || !Number.isInteger(schemaVersion) || typeof savedAt !== 'string') throw this.damaged('its header is incomplete');
    if (name !== this.name) throw this.damaged(`it is the snapshot of ${JSON.stringify(name)}`);
    return { format: SNAPSHOT_FORMAT, seq: seq as number, schemaVersion: schemaVersion as number, savedAt };
  }

  private apply(line: Record<string, unknown>): void {
    const path = line['path'];
    if (!Array.isArray(path) || !path.every((k): k is string => typeof k === 'string')) throw this.damaged('a line has no valid path');
    if ('value' in line) {
      if (path.length !== 0 || this.hasRoot) throw this.damaged('a value line where entries were expected');
      this.root = line['value'];
      this.hasRoot = true;
      return;
    }
    const entries = line['entries'];
    if (!isRecord(entries)) throw this.damaged('a line has no entries object');
    if (!this.hasRoot) {
      this.root = path.length === 0 ? entries : {};
      this.hasRoot = true;
      if (path.length === 0) return;
    }
    if (!isRecord(this.root)) throw this.damaged('entries for a state that is not an object');
    let target: Record<string, unknown> = this.root;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      const next = Object.hasOwn(target, key) ? target[key] : undefined;
      if (next === undefined) {
        // The first line of an object becomes the object (no copy); later lines add to it.
        setOwn(target, key, i === path.length - 1 ? entries : {});
        if (i === path.length - 1) return;
        target = target[key] as Record<string, unknown>;
      } else if (isRecord(next)) {
        target = next;
      } else {
        throw this.damaged(`entries for ${JSON.stringify(path.slice(0, i + 1))}, which is not an object`);
      }
    }
    for (const key of Object.keys(entries)) setOwn(target, key, entries[key]);
  }

  private damaged(why: string): SnapshotFormatError {
    return new SnapshotFormatError(`snapshot '${this.name}' cannot be read: ${why}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own data property, also for the key `__proto__` (plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
