import { ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import { ErrorCode, StrataError, fromSerialized } from '@strata/errors';
import { decodeJson, encodeJson, parseReply, type RequestEnvelope, type RequestMeta } from './messaging.js';
import { injectTrace } from './tracing.js';
import type { CommandSigner } from './command-auth.js';

export interface RequesterOptions {
  /** How long to wait for a reply before DEADLINE_EXCEEDED. */
  timeoutMs: number;
}

const defaults: RequesterOptions = { timeoutMs: 5000 };

export interface RequesterSetup extends Partial<RequesterOptions> {
  /** Signs every request (services refuse unsigned ones): the sender's STRATA_COMMAND_SIGNING_KEY. */
  signer: CommandSigner;
}

export interface RequestResult<T> {
  result: T;
  seq?: number;
}

/** Client side of the request/reply convention: one call, one typed result or one StrataError. */
export class NatsRequester {
  private readonly options: RequesterOptions;
  private readonly signer: CommandSigner;

  constructor(
    private readonly nc: NatsConnection,
    { signer, ...options }: RequesterSetup,
  ) {
    this.options = { ...defaults, ...options };
    this.signer = signer;
  }

  async request<T>(
    subject: string,
    body: unknown,
    meta: RequestMeta,
    options: Partial<RequesterOptions> = {},
  ): Promise<RequestResult<T>> {
    const timeout = options.timeoutMs ?? this.options.timeoutMs;
    const trace = meta.trace ?? injectTrace();
    const envelope: RequestEnvelope = { meta: trace ? { ...meta, trace } : meta, body };
    const payload = encodeJson(envelope);
    let data: Uint8Array;
    try {
      data = (await this.nc.request(subject, payload, { timeout, headers: this.signer.headers(subject, payload) })).data;
    } catch (err) {
      throw fromNatsError(err, subject, timeout);
    }
    const reply = parseReply(safeDecode(data));
    if (reply === undefined) throw new StrataError(ErrorCode.Internal, `malformed reply from ${subject}`);
    if (!reply.ok) throw fromSerialized(reply.error);
    const result = reply.result as T;
    return reply.seq === undefined ? { result } : { result, seq: reply.seq };
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}

/** Subjects are `strata.<cmd|qry>.<service>.<op>`; the third token names the service for the error message. */
function serviceOf(subject: string): string {
  return subject.split('.')[2] ?? subject;
}

function fromNatsError(err: unknown, subject: string, timeoutMs: number): StrataError {
  const code = err instanceof NatsError ? err.code : undefined;
  if (code === NatsErrorCode.NoResponders) {
    return new StrataError(
      ErrorCode.Unavailable,
      `service ${serviceOf(subject)} unavailable: no responders on ${subject}`,
      { subject },
      { cause: err },
    );
  }
  if (code === NatsErrorCode.Timeout) {
    // The outcome is unknown: the command may have been applied. Retrying with the same requestId is safe.
    return new StrataError(
      ErrorCode.DeadlineExceeded,
      `request to ${subject} timed out after ${timeoutMs}ms`,
      { subject, timeoutMs },
      { cause: err },
    );
  }
  return new StrataError(ErrorCode.Unavailable, `request to ${subject} failed: ${String(err)}`, { subject }, { cause: err });
}
