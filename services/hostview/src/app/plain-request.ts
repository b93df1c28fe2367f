/**
 * hostview's plain (unsigned) queries — the status service's positions and
 * the audit service's host-at — take the JSON of their contract's request:
 * parsed here, or INVALID_ARGUMENT saying what is wrong.
 */
import type { z } from 'zod';
import { ValidationError } from '@strata/errors';
import { toValidationError } from '@strata/runtime';

export function parsePlainRequest<S extends z.ZodType>(data: Uint8Array, schema: S): z.output<S> {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new ValidationError('invalid request: payload is not JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw toValidationError(parsed.error);
  return parsed.data;
}
