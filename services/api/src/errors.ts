/**
 * The one place StrataError codes become gRPC status codes. Codes share
 * their names with gRPC's, so the table is explicit rather than derived:
 * a new code must be mapped on purpose, and anything unknown is INTERNAL.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, toStrataError, type StrataError } from '@strata/errors';

const grpcStatus: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.AlreadyExists]: status.ALREADY_EXISTS,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.PermissionDenied]: status.PERMISSION_DENIED,
  [ErrorCode.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorCode.Aborted]: status.ABORTED,
  [ErrorCode.Unavailable]: status.UNAVAILABLE,
  [ErrorCode.DeadlineExceeded]: status.DEADLINE_EXCEEDED,
  [ErrorCode.Internal]: status.INTERNAL,
};

export function grpcStatusOf(code: string): status {
  return Object.hasOwn(grpcStatus, code) ? grpcStatus[code as ErrorCode] : status.INTERNAL;
}

/** Trailing metadata key naming the offending request field, when the service reported one. */
export const FIELD_METADATA_KEY = 'strata-field';

/**
 * The codes whose message is written inside the system rather than for the
 * caller (a crash, a NATS transport error such as MAX_PAYLOAD_EXCEEDED, a
 * timeout naming internal subjects): the client gets this fixed text and
 * the detail goes to the log (rpc.ts logFailure). Every other code is a
 * verdict on the request and keeps its message, which says what is wrong.
 */
const genericMessage: Partial<Record<string, string>> = {
  [ErrorCode.Internal]: 'internal error',
  [ErrorCode.Unavailable]: 'temporarily unavailable: retry later (a Watch from its next seq)',
  [ErrorCode.DeadlineExceeded]: 'timed out; the request may or may not have been applied: retry it with the same x-request-id',
};

/**
 * Anything thrown by a handler as a gRPC error: the one place where errors
 * become what a client sees. Non-Strata errors are INTERNAL; internal
 * codes get a generic text (above), so no internal detail ever leaks.
 */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  const e: StrataError = toStrataError(err);
  const code = grpcStatusOf(e.code);
  const generic = Object.hasOwn(genericMessage, e.code) || code === status.INTERNAL ? (notReachedMessage(e) ?? genericMessage[e.code] ?? 'internal error') : undefined;
  const metadata = new Metadata();
  if (generic === undefined && typeof e.details.field === 'string') metadata.set(FIELD_METADATA_KEY, e.details.field);
  const message = generic ?? e.message;
  return { code, details: message, message, metadata };
}

/**
 * A service whose state did not reach the call's read-your-writes position
 * in the time the call allowed (SeqWaiters' `notReached`): said as such, with
 * nothing internal but the position, which is the client's own.
 */
function notReachedMessage(e: StrataError): string | undefined {
  const position = e.details['notReached'];
  if (e.code !== ErrorCode.Unavailable || typeof position !== 'number') return undefined;
  return `position ${position} (strata-position) not reached in time: the state that answers has not applied it yet; retry, or allow a longer deadline`;
}
