import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '@strata/errors';
import { InMemoryEventStore } from './memory-store.js';
import { EventCatalog, EventRegistry, EventSchemaError, defineEvent } from './schema.js';
import type { AggregateRef, EventEnvelope } from './types.js';

const GroupCreated = defineEvent({ type: 'sg.GroupCreated', version: 2, schema: z.object({ name: z.string() }), upcasters: { 1: (d) => d } });
const catalog = new EventCatalog({ sg: new EventRegistry([GroupCreated] as const) });
const ref: AggregateRef = { context: 'sg', type: 'group', id: 'g1' };
const event = (type: string, version: number, data: unknown, aggregate: AggregateRef = ref): EventEnvelope => ({
  id: `${type}-${version}-${JSON.stringify(data)}`,
  type,
  version,
  aggregate,
  data,
  tenant: 't',
  actor: 'a',
  correlationId: 'c',
  causationId: null,
  occurredAt: '2026-01-01T00:00:00.000Z',
});

describe('append checks each event against its context registry (a writer cannot write what readers would quarantine)', () => {
  const store = new InMemoryEventStore({ catalog });

  it('appends a valid event at the current version', async () => {
    await expect(store.append(ref, event('sg.GroupCreated', 2, { name: 'web' }), { expectedVersion: 'any' })).resolves.toMatchObject({ duplicate: false });
  });

  it.each([
    ['an unknown type', event('sg.GroupRenamed', 1, {}), /unknown event type sg.GroupRenamed/],
    ['an older version', event('sg.GroupCreated', 1, { name: 'web' }), /current version v2, not v1/],
    ['a newer version', event('sg.GroupCreated', 3, { name: 'web' }), /current version v2, not v3/],
    ['data its schema refuses', event('sg.GroupCreated', 2, { name: 5 }), /rejected by its schema/],
    ['a context without a registry', event('sg.GroupCreated', 2, { name: 'w' }, { context: 'zz', type: 'group', id: 'g1' }), /no event registry for context zz/],
  ])('refuses %s and stores nothing', async (_, e, message) => {
    const before = await store.lastSeq();
    const err = await store.append(e.aggregate, e, { expectedVersion: 'any' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EventSchemaError);
    expect((err as Error).message).toMatch(message);
    expect(await store.lastSeq()).toBe(before);
  });

  it('refuses an envelope readers could not parse, with or without a catalog', async () => {
    const bad = { ...event('sg.GroupCreated', 2, { name: 'w' }), tenant: 5 } as unknown as EventEnvelope;
    await expect(store.append(ref, bad, { expectedVersion: 'any' })).rejects.toBeInstanceOf(ValidationError);
    await expect(new InMemoryEventStore().append(ref, bad, { expectedVersion: 'any' })).rejects.toThrow(/envelope is invalid: tenant/);
  });
});
