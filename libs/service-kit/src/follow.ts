/**
 * "My own events plus these event types of other contexts": what a service
 * whose state reads another context's published events (secgroup, nat,
 * bgp-gateway: IPAM's ports, NAT's associations, ...) folds, declared once:
 *
 *   const follows = follow(
 *     ownEvents(SECGROUP_CONTEXT, secgroupEvents),
 *     eventTypes(IPAM_CONTEXT, ipamEvents, IPAM_PORT_EVENT_TYPES),
 *   );
 *   const applyStored = follows.fold(evolve); // evolve: (state, SecgroupEvent | IpamPortEvent) => state
 *
 * A reader with its own loop (hostview) uses `decode` alone: the followed
 * event decoded, undefined for anything else.
 *
 * The feed is the one filter eventlog's `feedFilter` gives for the contexts
 * read (with two or more: the whole stream, unfiltered, for the nats-server
 * 2.9 reasons written there). The fold decodes an event it follows with its
 * context's registry and skips every other event undecoded, IPAM event types
 * newer than this build included: only its sequence counts.
 */
import { feedFilter, type StoredEvent } from '@strata/eventlog';

/** One input of a follower: a context's registry and which of its types are read. */
export interface FollowedEvents<E extends StoredEvent> {
  readonly context: string;
  /** The types read; undefined: every type (the service's own context). */
  readonly types: ReadonlySet<string> | undefined;
  decode(stored: StoredEvent): E;
}

/** Anything that decodes a stored event of one context (an `EventRegistry`). */
export interface EventDecoder<E extends StoredEvent> {
  decode(stored: StoredEvent): E;
}

/** Every event of a context (an unknown type of it is quarantined, not skipped). */
export function allEvents<E extends StoredEvent>(context: string, registry: EventDecoder<E>): FollowedEvents<E> {
  return { context, types: undefined, decode: (stored) => registry.decode(stored) };
}

/** Every event of the service's own context. */
export const ownEvents = allEvents;

/** These event types of another context (the fold sees exactly them). */
export function eventTypes<E extends StoredEvent, T extends E['type']>(
  context: string,
  registry: EventDecoder<E>,
  types: readonly T[],
): FollowedEvents<Extract<E, { type: T }>> {
  return { context, types: new Set<string>(types), decode: (stored) => registry.decode(stored) as Extract<E, { type: T }> };
}

/** The decoded events of a list of inputs, as one union. */
export type FollowedEvent<I> = I extends FollowedEvents<infer E> ? E : never;

export interface Follower<E extends StoredEvent> {
  /** The projection's subject filter (see `feedFilter`). */
  readonly subject: string | undefined;
  /** Is this stored event one the state depends on? (Others only move its sequence; they do not count towards snapshots.) */
  isRelevant(event: Pick<StoredEvent, 'type' | 'aggregate'>): boolean;
  /** A followed event decoded by its context's registry (throws its `EventSchemaError`); undefined for any other. */
  decode(stored: StoredEvent): E | undefined;
  /**
   * The fold of the feed for `Projection` (with `decode: (stored) => stored`):
   * a followed event is decoded (an `EventSchemaError` leaves the state as it
   * was, so the projection can quarantine it), its sequence set, then given
   * to `evolve`; any other event only sets the state's sequence.
   */
  fold<S extends { seq: number }>(evolve: (state: S, event: E) => S): (state: S, stored: StoredEvent) => S;
}

export function follow<I extends readonly FollowedEvents<StoredEvent>[]>(...inputs: I): Follower<FollowedEvent<I[number]>> {
  type E = FollowedEvent<I[number]>;
  const byContext = new Map<string, FollowedEvents<StoredEvent>>();
  for (const input of inputs) {
    if (byContext.has(input.context)) throw new Error(`context ${input.context} is followed twice`);
    byContext.set(input.context, input);
  }
  const inputOf = (event: Pick<StoredEvent, 'type' | 'aggregate'>): FollowedEvents<StoredEvent> | undefined => {
    const input = byContext.get(event.aggregate.context);
    return input && (input.types === undefined || input.types.has(event.type)) ? input : undefined;
  };
  return {
    subject: feedFilter([...byContext.keys()]),
    isRelevant: (event) => inputOf(event) !== undefined,
    decode: (stored) => inputOf(stored)?.decode(stored) as E | undefined,
    fold:
      <S extends { seq: number }>(evolve: (state: S, event: E) => S) =>
      (state: S, stored: StoredEvent): S => {
        const input = inputOf(stored);
        if (input === undefined) {
          state.seq = stored.seq;
          return state;
        }
        const event = input.decode(stored) as E;
        state.seq = stored.seq;
        return evolve(state, event);
      },
  };
}
