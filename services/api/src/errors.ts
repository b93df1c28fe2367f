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
 * Anything thrown by a handler as a gRPC error. The message goes to the
 * client verbatim (it says what is wrong); non-Strata errors are reported as
 * a bare "internal error" so internals never leak.
 */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status; details: string } {
  const e: StrataError = toStrataError(err);
  const metadata = new Metadata();
  if (typeof e.details.field === 'string') metadata.set(FIELD_METADATA_KEY, e.details.field);
  return { code: grpcStatusOf(e.code), details: e.message, message: e.message, metadata };
}
