/**
 * Exit codes (also in `strata --help`):
 *   0  success
 *   2  the command line or the request is wrong: usage errors, a missing
 *      token, INVALID_ARGUMENT, OUT_OF_RANGE from the server
 *   1  anything else: the server refused (NOT_FOUND, ALREADY_EXISTS,
 *      FAILED_PRECONDITION, PERMISSION_DENIED, UNAUTHENTICATED, ...) or failed
 *      (UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, ...)
 *   3  `--wait` or `strata wait`: not realised before --timeout passed (the
 *      write itself succeeded); the message names the hosts behind and why
 *   4  `--wait` on a port: it cannot become ACTIVE as it is (not bound to a
 *      hypervisor); the write itself succeeded
 */
import { status, type ServiceError } from '@grpc/grpc-js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_TIMEOUT = 3;
export const EXIT_NOT_REALISABLE = 4;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  2  invalid command line or request (usage error, missing token, INVALID_ARGUMENT)
  1  any other error (NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE, ...)
  3  --wait / strata wait: not realised within --timeout (the hosts behind and why are printed)
  4  --wait on a port that cannot become ACTIVE as it is (not bound to a hypervisor)
Errors are printed to stderr as "error: <CODE>: <message>".`;

/** A mistake caught before anything was sent; reported like a server INVALID_ARGUMENT. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

/**
 * A wait that ended without the change being realised: TIMEOUT (exit 3) or
 * NOT_REALISABLE (exit 4). What was written stays written.
 */
export class NotRealisedError extends Error {
  override readonly name = 'NotRealisedError';
  constructor(
    readonly code: 'TIMEOUT' | 'NOT_REALISABLE',
    message: string,
  ) {
    super(message);
  }

  get exitCode(): number {
    return this.code === 'TIMEOUT' ? EXIT_TIMEOUT : EXIT_NOT_REALISABLE;
  }
}

/** The status name for a numeric gRPC code, e.g. 5 → NOT_FOUND. */
export function statusName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

/** The stderr line and exit code for anything a command threw. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UsageError) return { message: `error: INVALID_ARGUMENT: ${err.message}`, exitCode: EXIT_USAGE };
  if (err instanceof NotRealisedError) return { message: `error: ${err.code}: ${err.message}`, exitCode: err.exitCode };
  if (isServiceError(err)) {
    const usage = err.code === status.INVALID_ARGUMENT || err.code === status.OUT_OF_RANGE;
    return { message: `error: ${statusName(err.code)}: ${err.details.trimEnd()}`, exitCode: usage ? EXIT_USAGE : EXIT_FAILURE };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { message: `error: INTERNAL: ${text}`, exitCode: EXIT_FAILURE };
}
