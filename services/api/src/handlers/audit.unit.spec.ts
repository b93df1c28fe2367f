import { describe, expect, it } from 'vitest';
import { ErrorCode, NotFoundError, StrataError, ValidationError } from '@strata/errors';
import { inCallerTerms, pointOf } from './audit.js';

describe('audit handler: the caller’s points', () => {
  it('reads a proto point as the contract’s {position} or {time}, keeping both when both came (the contract refuses that)', () => {
    expect(pointOf('at', null)).toBeUndefined();
    expect(pointOf('at', { position: '42', point: 'position' })).toEqual({ position: 42 });
    expect(pointOf('at', { time: '2026-12-06T14:03:00Z', point: 'time' })).toEqual({ time: '2026-12-06T14:03:00Z' });
    expect(pointOf('at', { position: '5', time: 'x', point: 'time' })).toEqual({ position: 5, time: 'x' });
  });

  it('refuses a uint64 position no log reaches, naming the field', () => {
    const err = (() => {
      try {
        pointOf('from', { position: '18446744073709551615', point: 'position' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ message: 'from.position: 18446744073709551615 is not a log position', details: { field: 'from.position' } });
  });

  it('renames the locate request’s points[i] to the names the caller used, in the message and the field', () => {
    const refused = new StrataError(ErrorCode.InvalidArgument, 'points[1]: position 99 is past the end of the log (its last position is 12)', { field: 'points[1].position' });
    const renamed = inCallerTerms(refused, ['from', 'to']) as StrataError;
    expect(renamed).toMatchObject({ code: ErrorCode.InvalidArgument, message: 'to: position 99 is past the end of the log (its last position is 12)', details: { field: 'to.position' } });
    // Other codes pass through untouched.
    const missing = new NotFoundError('security-group', 'g1');
    expect(inCallerTerms(missing, ['at'])).toBe(missing);
  });
});
