/**
 * The small error hierarchy every Strata service speaks.
 *
 * Domain code throws these; exactly one place per transport maps them
 * (NATS reply envelope in @strata/runtime, gRPC status in services/api).
 * Codes deliberately mirror gRPC status names so the mapping is obvious.
 */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  AlreadyExists: 'ALREADY_EXISTS',
  FailedPrecondition: 'FAILED_PRECONDITION',
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  PermissionDenied: 'PERMISSION_DENIED',
  Unauthenticated: 'UNAUTHENTICATED',
  Aborted: 'ABORTED',
  Unavailable: 'UNAVAILABLE',
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDetails {
  /** The offending field, as a dotted path into the request (e.g. `fixedIps.0.ip`). */
  field?: string;
  [key: string]: unknown;
}

export class StrataError extends Error {
  override readonly name: string = 'StrataError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export class ValidationError extends StrataError {
  override readonly name = 'ValidationError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.InvalidArgument, message, details);
  }
}

export class NotFoundError extends StrataError {
  override readonly name = 'NotFoundError';
  constructor(kind: string, id: string) {
    super(ErrorCode.NotFound, `${kind} ${id} not found`, { kind, id });
  }
}

export class AlreadyExistsError extends StrataError {
  override readonly name = 'AlreadyExistsError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.AlreadyExists, message, details);
  }
}

/** The request is well formed but the current state forbids it (e.g. deleting a network that still has ports). */
export class IllegalStateError extends StrataError {
  override readonly name = 'IllegalStateError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.FailedPrecondition, message, details);
  }
}

/**
 * An update named the revision it expected and the resource has moved on
 * (Neutron's 412 on `If-Match: revision_number=N`). Never retried by the
 * service: the caller decides on fresh state.
 */
export class RevisionConflictError extends StrataError {
  override readonly name = 'RevisionConflictError';
  constructor(kind: string, id: string, expected: number, actual: number) {
    super(ErrorCode.FailedPrecondition, `${kind} ${id} is at revision ${actual}, not the expected ${expected}: read it again and retry`, {
      kind,
      id,
      field: 'expectedRevision',
      expectedRevision: expected,
      revision: actual,
    });
  }
}

export class ExhaustedError extends StrataError {
  override readonly name = 'ExhaustedError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.ResourceExhausted, message, details);
  }
}

export class PermissionDeniedError extends StrataError {
  override readonly name = 'PermissionDeniedError';
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.PermissionDenied, message, details);
  }
}

export class UnauthenticatedError extends StrataError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string) {
    super(ErrorCode.Unauthenticated, message);
  }
}

/**
 * Optimistic-concurrency conflict: another writer appended to the aggregate
 * after we read it. Callers retry against fresh state; it only reaches a
 * client (as ABORTED) when the retry budget is spent.
 */
export class ConcurrencyError extends StrataError {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly subject: string,
    readonly expectedVersion: number,
    /** The aggregate's actual last sequence, when the store reported it. */
    readonly actualVersion: number | undefined,
  ) {
    super(
      ErrorCode.Aborted,
      `concurrent modification of ${subject}: expected version ${expectedVersion}` +
        (actualVersion === undefined ? '' : `, found ${actualVersion}`),
      { subject, expectedVersion, actualVersion },
    );
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

const knownCodes = new Set<string>(Object.values(ErrorCode));

/** Rebuild a StrataError from its wire form (a NATS reply). */
export function fromSerialized(e: SerializedError): StrataError {
  const code = knownCodes.has(e.code) ? e.code : ErrorCode.Internal;
  return new StrataError(code, e.message, e.details ?? {});
}

/** Anything thrown, as a StrataError; unknown failures become INTERNAL without leaking internals. */
export function toStrataError(err: unknown): StrataError {
  if (err instanceof StrataError) return err;
  return new StrataError(ErrorCode.Internal, 'internal error', {}, { cause: err });
}
