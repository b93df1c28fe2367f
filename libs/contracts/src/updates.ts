/**
 * Field schemas every `<resource>.update` request shares (issue 15,
 * "Updates"): an absent field is unchanged, `expectedRevision` names the
 * revision the caller read (a stale one is refused with a conflict), and a
 * field that can never change is refused by name instead of ignored.
 */
import { z } from 'zod';
import { MAX_NAME_LENGTH } from './bounds.js';

/** The resource's revision the caller last read: the update is refused (FAILED_PRECONDITION) if it has moved on. */
export const ExpectedRevision = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be a revision number (1 or more) as the resource last showed it' });

/** A new display name or description; absent = unchanged (unlike DisplayName, no default). */
export const UpdatedText = z.string().max(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` });

/** A field that is fixed at creation: present in an update, it is refused naming the field and `why`. */
export const immutable = (why: string) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined, { message: `cannot be changed: ${why}` });
