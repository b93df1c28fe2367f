import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { ErrorCode, StrataError } from '@strata/errors';
import { NATS_REPLICAS_VAR, natsReplicas } from './replicas.js';
import { DEFAULT_SUBJECT_PREFIX } from './subjects.js';

export interface EventLogOptions {
  /** JetStream stream holding the domain events. */
  streamName: string;
  /** Aggregates live at `<subjectPrefix>.<context>.<type>.<id>`; the stream captures `<subjectPrefix>.>`. */
  subjectPrefix: string;
  storage: 'file' | 'memory';
  /** Default: STRATA_NATS_REPLICAS (natsReplicas()). */
  replicas: number;
  /** How long JetStream remembers event ids for idempotent appends. */
  duplicateWindowMs: number;
}

export const DEFAULT_EVENT_LOG_OPTIONS: EventLogOptions = {
  streamName: 'STRATA_EVENTS',
  subjectPrefix: DEFAULT_SUBJECT_PREFIX,
  storage: 'file',
  // A getter: read when the options are used (spread or passed), so a test or
  // process can set STRATA_NATS_REPLICAS before its first stream.
  get replicas() {
    return natsReplicas();
  },
  duplicateWindowMs: 2 * 60_000,
};

export const JS_ERR_STREAM_NOT_FOUND = 10059;
export const JS_ERR_STREAM_NAME_IN_USE = 10058;
export const JS_ERR_NO_MESSAGE_FOUND = 10037;
export const JS_ERR_WRONG_LAST_SEQUENCE = 10071;

/** The JetStream API error code of a failed request, if it is one. */
export function jsErrCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
}

/**
 * The domain stream is the source of truth: no limits (nothing ages out),
 * and the server refuses message deletes and purges. Rollup headers would
 * let a publisher wipe a subject, so they are off too.
 */
export function eventStreamConfig(o: EventLogOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: o.streamName,
    subjects: [`${o.subjectPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: o.replicas,
    duplicate_window: nanos(o.duplicateWindowMs),
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
    deny_delete: true,
    deny_purge: true,
    allow_rollup_hdrs: false,
  };
}

/**
 * JetStream API subjects a service's NATS user must be denied. `deny_delete`
 * only stops *message* deletes, and the server refuses to lift either deny
 * flag, but it still lets anyone with API access delete the whole stream or
 * update it with limits (e.g. max_msgs: 1) that discard old events
 * (verified on nats-server 2.9.10). Grant these to the operator user that
 * provisions the stream, nobody else.
 */
export function protectedApiSubjects(streamName: string = DEFAULT_EVENT_LOG_OPTIONS.streamName): string[] {
  return [
    `$JS.API.STREAM.DELETE.${streamName}`,
    `$JS.API.STREAM.PURGE.${streamName}`,
    `$JS.API.STREAM.MSG.DELETE.${streamName}`,
    `$JS.API.STREAM.UPDATE.${streamName}`,
  ];
}

type Field = keyof ReturnType<typeof eventStreamConfig>;
// Fields JetStream cannot change on an existing stream.
const IMMUTABLE: Field[] = ['storage', 'retention'];
const UPDATABLE: Field[] = [
  'subjects', 'num_replicas', 'duplicate_window', 'discard', 'max_msgs', 'max_bytes', 'max_age',
  'max_msgs_per_subject', 'max_msg_size', 'deny_delete', 'deny_purge', 'allow_rollup_hdrs',
];

/**
 * Create the stream, or bring an existing one in line. Only issues an
 * update when something differs, so services whose user is denied
 * STREAM.UPDATE (see protectedApiSubjects) start fine on a provisioned stream.
 */
export async function ensureEventStream(jsm: JetStreamManager, o: EventLogOptions): Promise<void> {
  const want = eventStreamConfig(o);
  for (let attempt = 0; ; attempt++) {
    let existing: StreamConfig;
    try {
      existing = (await jsm.streams.info(o.streamName)).config;
    } catch (err) {
      if (jsErrCode(err) !== JS_ERR_STREAM_NOT_FOUND) throw err;
      try {
        await jsm.streams.add(want);
        return;
      } catch (addErr) {
        // Another instance created it between our info and add: reconcile with theirs.
        if (jsErrCode(addErr) === JS_ERR_STREAM_NAME_IN_USE && attempt === 0) continue;
        throw addErr;
      }
    }
    for (const f of IMMUTABLE) {
      if (existing[f] !== want[f]) {
        throw new StrataError(
          ErrorCode.FailedPrecondition,
          `stream ${o.streamName} has ${f}=${String(existing[f])}, expected ${String(want[f])}; it cannot be changed in place`,
          { stream: o.streamName, field: f },
        );
      }
    }
    // The server omits false booleans, hence the Boolean() for flags.
    const same = (a: unknown, b: unknown): boolean =>
      typeof b === 'boolean' ? Boolean(a) === b : JSON.stringify(a) === JSON.stringify(b);
    const differs = UPDATABLE.filter((f) => !same(existing[f], want[f]));
    if (differs.length > 0) await updateStream(jsm, o.streamName, existing, want, differs);
    return;
  }
}

/**
 * Change an existing stream in place (JetStream 2.9 does so for these
 * fields, the replica count included: it adds or removes peers and the new
 * ones catch up from the leader). A process whose user may not update the
 * stream (every service: only the operator may, see protectedApiSubjects)
 * gets an error that says what differs instead of a bare permissions violation.
 */
async function updateStream(jsm: JetStreamManager, name: string, existing: StreamConfig, want: Partial<StreamConfig>, fields: readonly string[]): Promise<void> {
  try {
    await jsm.streams.update(name, { ...existing, ...want });
  } catch (err) {
    const what = fields.map((f) => `${f} is ${JSON.stringify(existing[f as keyof StreamConfig])}, configured ${JSON.stringify(want[f as keyof StreamConfig])}`);
    const hint = fields.includes('num_replicas') ? ` (the replica count is ${NATS_REPLICAS_VAR}: give every process the same value, and let the operator's provisioning change an existing stream)` : '';
    throw new StrataError(ErrorCode.FailedPrecondition, `stream ${name} differs from this process's configuration: ${what.join('; ')}${hint}; updating it failed: ${(err as Error).message}`, {
      stream: name,
      fields: fields.join(','),
    });
  }
}

/**
 * Bring an existing stream (a key-value bucket's `KV_<bucket>`, an object
 * store's `OBJ_<bucket>`) to `replicas` in place; nothing when it already
 * has them. nats.js binds to an existing bucket whatever its replica count,
 * so the operator's provisioning calls this after opening each bucket.
 */
export async function ensureStreamReplicas(jsm: JetStreamManager, name: string, replicas: number): Promise<void> {
  const { config } = await jsm.streams.info(name);
  if ((config.num_replicas ?? 1) === replicas) return;
  await updateStream(jsm, name, config, { num_replicas: replicas }, ['num_replicas']);
}
