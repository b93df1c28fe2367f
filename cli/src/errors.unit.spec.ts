import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_USAGE, UsageError, describeError } from './errors.js';

const serviceError = (code: status, details: string) => Object.assign(new Error(details), { code, details, metadata: new Metadata() });

describe('describeError', () => {
  it('prints the status name and the server’s message', () => {
    expect(describeError(serviceError(status.NOT_FOUND, 'network n1 not found'))).toEqual({
      message: 'error: NOT_FOUND: network n1 not found',
      exitCode: EXIT_FAILURE,
    });
  });

  it('exits 2 when the request itself was wrong', () => {
    expect(describeError(serviceError(status.INVALID_ARGUMENT, 'cidr: bad')).exitCode).toBe(EXIT_USAGE);
    expect(describeError(new UsageError('no API token')).message).toBe('error: INVALID_ARGUMENT: no API token');
    expect(describeError(new UsageError('no API token')).exitCode).toBe(EXIT_USAGE);
  });

  it('exits 1 for refusals and failures', () => {
    for (const code of [status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.ALREADY_EXISTS, status.UNAVAILABLE, status.INTERNAL]) {
      expect(describeError(serviceError(code, 'x')).exitCode).toBe(EXIT_FAILURE);
    }
    expect(describeError(new Error('boom'))).toEqual({ message: 'error: INTERNAL: boom', exitCode: EXIT_FAILURE });
  });
});
