import { monotonicFactory } from 'ulid';

// Monotonic so ids made in the same millisecond still sort in creation order.
const nextUlid = monotonicFactory();

/** A new globally unique, time-sortable event id (ULID). */
export function newEventId(): string {
  return nextUlid();
}
