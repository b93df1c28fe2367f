import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, NotFoundError, StrataError, ValidationError } from '@strata/errors';
import { FIELD_METADATA_KEY, grpcStatusOf, toServiceError } from './errors.js';

describe('StrataError code → gRPC status', () => {
  it.each([
    [ErrorCode.InvalidArgument, status.INVALID_ARGUMENT],
    [ErrorCode.NotFound, status.NOT_FOUND],
    [ErrorCode.AlreadyExists, status.ALREADY_EXISTS],
    [ErrorCode.FailedPrecondition, status.FAILED_PRECONDITION],
    [ErrorCode.ResourceExhausted, status.RESOURCE_EXHAUSTED],
    [ErrorCode.PermissionDenied, status.PERMISSION_DENIED],
    [ErrorCode.Unauthenticated, status.UNAUTHENTICATED],
    [ErrorCode.Aborted, status.ABORTED],
    [ErrorCode.Unavailable, status.UNAVAILABLE],
    [ErrorCode.DeadlineExceeded, status.DEADLINE_EXCEEDED],
    [ErrorCode.Internal, status.INTERNAL],
  ])('%s → %i', (code, expected) => {
    expect(grpcStatusOf(code)).toBe(expected);
    expect(toServiceError(new StrataError(code, 'why')).code).toBe(expected);
  });

  it('maps a code it does not know to INTERNAL', () => {
    expect(grpcStatusOf('TEAPOT')).toBe(status.INTERNAL);
    expect(grpcStatusOf('toString')).toBe(status.INTERNAL);
  });
});

describe('toServiceError', () => {
  it('keeps the message, which tells the client what is wrong', () => {
    const e = toServiceError(new NotFoundError('network', 'n1'));
    expect(e).toMatchObject({ code: status.NOT_FOUND, details: 'network n1 not found' });
  });

  it('names the offending field in trailing metadata', () => {
    const e = toServiceError(new ValidationError('cidr: not a prefix', { field: 'cidr' }));
    expect(e.metadata?.get(FIELD_METADATA_KEY)).toEqual(['cidr']);
  });

  it.each([
    [new StrataError(ErrorCode.Unavailable, 'request to strata.cmd.ipam.network.create failed: NatsError: MAX_PAYLOAD_EXCEEDED'), status.UNAVAILABLE],
    [new StrataError(ErrorCode.Internal, 'unknown event type secgroup.Bogus', { field: 'x' }), status.INTERNAL],
    [new StrataError(ErrorCode.DeadlineExceeded, 'request to strata.cmd.ipam.port.create timed out after 5000ms'), status.DEADLINE_EXCEEDED],
    [new StrataError('TEAPOT' as ErrorCode, 'at Object.<anonymous> (/srv/x.js:1:1)'), status.INTERNAL],
  ])('replaces internal text with a generic message: %s', (err, code) => {
    const e = toServiceError(err);
    expect(e.code).toBe(code);
    expect(e.details).not.toMatch(/Nats|strata\.cmd|event type|anonymous|MAX_PAYLOAD/);
    expect(e.metadata?.get(FIELD_METADATA_KEY)).toEqual([]);
  });

  it('hides the text of errors that are not StrataErrors', () => {
    const e = toServiceError(new Error('connection string postgres://secret@db'));
    expect(e).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });
});

describe('a read-your-writes position not reached', () => {
  it('is UNAVAILABLE saying so, with the position and nothing internal', () => {
    const e = toServiceError(new StrataError(ErrorCode.Unavailable, 'state not yet at sequence 131 (at 120) after 4500 ms', { notReached: 131, at: 120 }));
    expect(e.code).toBe(status.UNAVAILABLE);
    expect(e.details).toMatch(/^position 131 \(strata-position\) not reached in time/);
    expect(e.details).not.toMatch(/120|4500/);
  });
});
