import type { z } from 'zod';
import { StrataError, ErrorCode } from '@strata/errors';
import type { EventEnvelope, StoredEvent } from './types.js';

/**
 * One event type: its current schema and how to lift every older version to
 * it. Old events are never rewritten in the log; they are upcast on read.
 */
export interface EventDefinition<TType extends string, TSchema extends z.ZodType> {
  type: TType;
  /** Current schema version. */
  version: number;
  schema: TSchema;
  /**
   * `upcasters[v]` turns data of version v into version v+1. Versions below
   * `version` without an upcaster cannot be read and fail loudly.
   */
  upcasters?: Record<number, (data: unknown) => unknown>;
}

export function defineEvent<TType extends string, TSchema extends z.ZodType>(
  def: EventDefinition<TType, TSchema>,
): EventDefinition<TType, TSchema> {
  return def;
}

/**
 * Why an event could not be read (or may not be written). `envelope` and
 * `subject-mismatch` are found by the store's codec (see `StoredEvent.unreadable`),
 * the others by a registry.
 */
export type UnreadableReason = 'envelope' | 'subject-mismatch' | 'unknown-type' | 'newer-version' | 'no-upcaster' | 'invalid-data';

export class EventSchemaError extends StrataError {
  override readonly name = 'EventSchemaError';
  constructor(
    message: string,
    readonly reason: UnreadableReason,
    details: Record<string, unknown> = {},
  ) {
    super(ErrorCode.Internal, message, { ...details, reason });
  }
}

/** True for a failure to decode an event (as opposed to a bug in the code folding it). */
export const isEventSchemaError = (err: unknown): err is EventSchemaError => err instanceof EventSchemaError;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDefinition = EventDefinition<string, z.ZodType<any>>;

/** Data type of one definition. */
export type EventData<D> = D extends EventDefinition<string, infer S> ? z.output<S> : never;

/** The discriminated union of events a registry knows, as stored events. */
export type EventOf<Defs extends readonly AnyDefinition[]> = {
  [K in keyof Defs]: Defs[K] extends EventDefinition<infer T, infer S> ? StoredEvent<T, z.output<S>> : never;
}[number];

/**
 * Validates events at the boundary: on write (data must match the current
 * schema) and on read (upcast to the current version, then validate).
 */
export class EventRegistry<Defs extends readonly AnyDefinition[]> {
  private readonly byType = new Map<string, AnyDefinition>();

  constructor(readonly definitions: Defs) {
    for (const def of definitions) {
      if (this.byType.has(def.type)) throw new Error(`event type ${def.type} defined twice`);
      this.byType.set(def.type, def);
    }
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  currentVersion(type: string): number {
    return this.definition(type).version;
  }

  /** Validate data for a new event and stamp the current version. */
  encode(type: string, data: unknown): { version: number; data: unknown } {
    const def = this.definition(type);
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      throw new EventSchemaError(`event ${type} v${def.version} rejected by its schema: ${parsed.error.message}`, 'invalid-data', { type });
    }
    return { version: def.version, data: parsed.data };
  }

  /**
   * What an event store checks before it appends: a known type, written at
   * its current version (a writer writes only what it would read back), with
   * data its schema accepts.
   */
  check(event: Pick<EventEnvelope, 'type' | 'version' | 'data'>): void {
    const def = this.definition(event.type);
    if (event.version !== def.version) {
      throw new EventSchemaError(`event ${event.type} must be written at its current version v${def.version}, not v${event.version}`, 'invalid-data', {
        type: event.type,
      });
    }
    this.encode(event.type, event.data);
  }

  /**
   * Upcast a stored event to the current version of its type and validate it.
   * Throws an `EventSchemaError` (with its reason) for anything it cannot read:
   * an envelope the store could not read, an unknown type, a version newer
   * than this reader's (forward compatibility is not guessed), a missing or
   * failing upcaster, data its schema refuses.
   */
  decode(event: StoredEvent): EventOf<Defs> {
    const where = { type: event.type, version: event.version, seq: event.seq };
    if (event.unreadable) throw new EventSchemaError(`stored event at seq ${event.seq} is unreadable: ${event.unreadable.message}`, event.unreadable.reason, where);
    const def = this.definition(event.type);
    if (event.version > def.version) {
      throw new EventSchemaError(
        `event ${event.id} is ${event.type} v${event.version}, newer than this reader's v${def.version}: upgrade the reader`,
        'newer-version',
        where,
      );
    }
    let data = event.data;
    for (let v = event.version; v < def.version; v++) {
      const up = def.upcasters?.[v];
      if (!up) throw new EventSchemaError(`no upcaster for ${event.type} from v${v} to v${v + 1}`, 'no-upcaster', where);
      try {
        data = up(data);
      } catch (err) {
        // An upcaster meets only data its version's writer validated; anything else is invalid data, not a bug to crash on.
        throw new EventSchemaError(`stored event ${event.id} (${event.type} v${event.version}) cannot be upcast from v${v}: ${String(err)}`, 'invalid-data', where);
      }
    }
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      throw new EventSchemaError(`stored event ${event.id} (${event.type} v${event.version}) is invalid: ${parsed.error.message}`, 'invalid-data', where);
    }
    return { ...event, version: def.version, data: parsed.data } as EventOf<Defs>;
  }

  private definition(type: string): AnyDefinition {
    const def = this.byType.get(type);
    if (!def) throw new EventSchemaError(`unknown event type ${type}`, 'unknown-type', { type });
    return def;
  }
}

/**
 * The registries of every context that writes to the log, by context. An
 * event store given a catalog refuses to append an event its context's
 * registry would not read back (see `EventRegistry.check`).
 */
export class EventCatalog {
  private readonly byContext: ReadonlyMap<string, Pick<EventRegistry<readonly AnyDefinition[]>, 'check'>>;

  constructor(registries: Record<string, Pick<EventRegistry<readonly AnyDefinition[]>, 'check'>>) {
    this.byContext = new Map(Object.entries(registries));
  }

  check(event: EventEnvelope): void {
    const registry = this.byContext.get(event.aggregate.context);
    if (!registry) throw new EventSchemaError(`no event registry for context ${event.aggregate.context}`, 'unknown-type', { type: event.type });
    registry.check(event);
  }
}

/** Narrowing helper for `EventEnvelope` construction in deciders. */
export type NewEvent<TType extends string = string, TData = unknown> = Pick<EventEnvelope<TType, TData>, 'type' | 'data'>;
