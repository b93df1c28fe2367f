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

export class EventSchemaError extends StrataError {
  override readonly name = 'EventSchemaError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.Internal, message, details);
  }
}

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
      throw new EventSchemaError(`event ${type} v${def.version} rejected by its schema: ${parsed.error.message}`, { type });
    }
    return { version: def.version, data: parsed.data };
  }

  /** Upcast a stored event to the current version of its type and validate it. */
  decode(event: StoredEvent): EventOf<Defs> {
    const def = this.definition(event.type);
    let data = event.data;
    for (let v = event.version; v < def.version; v++) {
      const up = def.upcasters?.[v];
      if (!up) {
        throw new EventSchemaError(`no upcaster for ${event.type} from v${v} to v${v + 1}`, { type: event.type, version: v });
      }
      data = up(data);
    }
    if (event.version > def.version) {
      throw new EventSchemaError(
        `event ${event.id} is ${event.type} v${event.version}, newer than this reader's v${def.version}: upgrade the reader`,
        { type: event.type, version: event.version },
      );
    }
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      throw new EventSchemaError(`stored event ${event.id} (${event.type} v${event.version}) is invalid: ${parsed.error.message}`, {
        type: event.type,
        seq: event.seq,
      });
    }
    return { ...event, version: def.version, data: parsed.data } as EventOf<Defs>;
  }

  private definition(type: string): AnyDefinition {
    const def = this.byType.get(type);
    if (!def) throw new EventSchemaError(`unknown event type ${type}`, { type });
    return def;
  }
}

/** Narrowing helper for `EventEnvelope` construction in deciders. */
export type NewEvent<TType extends string = string, TData = unknown> = Pick<EventEnvelope<TType, TData>, 'type' | 'data'>;
