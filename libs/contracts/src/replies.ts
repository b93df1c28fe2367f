/** Reply shapes every service shares: pages of a list, the state digest, and what a delete answers with. */
import { z } from 'zod';
import type { Exactly } from './contract.js';

export interface Page<T> {
  items: T[];
  /** Pass as `after` to get the next page; empty when this is the last. */
  next: string;
}

export interface StateDigest {
  /** Last stream sequence the answering instance has applied. */
  seq: number;
  /** sha256 of the canonical JSON of its whole state. */
  sha256: string;
}

/** The schema of a page of `item`s. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next: z.string() });

export const StateDigest = z.object({ seq: z.number(), sha256: z.string() });

/** Deletes answer with the deleted resource's id. */
export const Deleted = z.object({ id: z.string() });

true satisfies Exactly<z.output<typeof StateDigest>, StateDigest>;
true satisfies Exactly<z.output<ReturnType<typeof pageOf<typeof StateDigest>>>, Page<StateDigest>>;
