/**
 * Read-your-writes carried by the client, so any api instance serves it
 * (docs/architecture.md, "High availability").
 *
 * Out: the log position of a call's own writes, for the client (response
 * metadata `strata-position`). Every command reply of every service already
 * reaches the one ReadYourWrites the api's ContractClients share; this
 * tracker is that same object, and also remembers, per gRPC call, the
 * highest position the call's own commands reported. The call is found
 * through AsyncLocalStorage, so no handler passes anything: a new command
 * RPC gets its position without a line of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Metadata } from '@grpc/grpc-js';
import { ErrorCode, StrataError, ValidationError } from '@strata/errors';
import { ReadYourWrites } from '@strata/runtime';

/**
 * Response metadata key: the log position of the call's events (absent when
 * it wrote none). Request metadata key: the position the client last got,
 * sent back so the call is answered as of at least it.
 */
export const POSITION_METADATA_KEY = 'strata-position';

/**
 * A position is the event log's stream sequence as decimal text: the log is
 * one stream with one sequence, so one number orders every write of every
 * service, and it is the number the status API's `min_position`, `Barrier`
 * and `strata wait position` already take. Clients treat it as opaque and
 * send back what they got. 16 digits hold every safe integer.
 */
const POSITION_TEXT = /^[1-9][0-9]{0,15}$/;
const MAX_POSITION_TEXT = 16;

interface CallWrites {
  highest: number | undefined;
}

export class CallPositions extends ReadYourWrites {
  private readonly calls = new AsyncLocalStorage<CallWrites>();

  override observe(seq: number | undefined): void {
    super.observe(seq);
    const call = this.calls.getStore();
    if (call !== undefined && seq !== undefined && seq > (call.highest ?? 0)) call.highest = seq;
  }

  /** Run one call's work; answers its result and the highest position its commands reported (undefined: none). */
  async track<T>(work: () => Promise<T>): Promise<{ result: T; position: number | undefined }> {
    const call: CallWrites = { highest: undefined };
    const result = await this.calls.run(call, work);
    return { result, position: call.highest };
  }
}

/** The response metadata carrying a call's position. */
export function positionMetadata(position: number): Metadata {
  const md = new Metadata();
  md.set(POSITION_METADATA_KEY, String(position));
  return md;
}

/**
 * The position the client sent (request metadata `strata-position`), or
 * undefined. Strict: one value, decimal digits, no sign or leading zero, a
 * safe integer; anything else is INVALID_ARGUMENT naming the header (and
 * never echoing more than a few characters of it).
 */
export function clientPosition(metadata: Metadata): number | undefined {
  const values = metadata.get(POSITION_METADATA_KEY);
  if (values.length === 0) return undefined;
  const [v] = values;
  const refuse = (why: string): never => {
    throw new ValidationError(`metadata ${POSITION_METADATA_KEY} ${why}: send back the value a write's answer carried`, { field: POSITION_METADATA_KEY });
  };
  if (values.length > 1 || typeof v !== 'string') return refuse('must be given once, as text');
  if (v.length > MAX_POSITION_TEXT) return refuse(`is ${v.length} characters, longer than any position (${MAX_POSITION_TEXT})`);
  const n = Number(v);
  if (!POSITION_TEXT.test(v) || !Number.isSafeInteger(n)) return refuse(`must be a log position (a positive decimal integer), got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Admits only positions the log has reached: a position beyond the log's
 * last sequence was never answered to a write (every answer's position is
 * an acknowledged append), and waiting for it would hold the call until its
 * deadline for nothing. The last sequence is asked of the stream only when a
 * position is beyond the highest one seen so far.
 */
export class LogEnd {
  private known = 0;

  constructor(private readonly lastSeq: () => Promise<number>) {}

  async admit(position: number): Promise<void> {
    if (position <= this.known) return;
    let last: number;
    try {
      last = await this.lastSeq();
    } catch (err) {
      throw new StrataError(ErrorCode.Unavailable, 'cannot read the end of the event log to check strata-position', {}, { cause: err });
    }
    this.known = Math.max(this.known, last);
    if (position > this.known) {
      throw new ValidationError(
        `metadata ${POSITION_METADATA_KEY} ${position} is beyond the end of the event log (${this.known}): no write answered it`,
        { field: POSITION_METADATA_KEY },
      );
    }
  }
}

/**
 * How long the services may wait for a call's position (RequestMeta
 * `minSeqWaitMs`): what is left of the client's deadline and of the api's
 * own request timeout, less a margin to carry the answer back, so a position
 * not reached is answered as such (UNAVAILABLE, errors.ts) rather than as a
 * timeout. Undefined: no deadline, the request timeout alone bounds it.
 */
export function positionWaitMs(requestTimeoutMs: number, deadline: Date | number | undefined, now = Date.now()): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  const left = at === undefined || !Number.isFinite(at) ? requestTimeoutMs : Math.min(requestTimeoutMs, at - now);
  const margin = Math.min(500, left / 4);
  return Math.max(0, Math.floor(left - margin));
}
