import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, StrataError } from '@strata/errors';
import { defineEvent, EventRegistry, InMemoryEventStore, type AggregateRef, type StoredEvent } from '@strata/eventlog';
import { createLogger } from '@strata/runtime';
import { Executor } from './executor.js';
import { Projection, type ProjectedState } from './projection.js';
import { isQuarantineRefusal, quarantineStatus, RECENT_LIMIT, usableSnapshot } from './quarantine.js';

const Named = defineEvent({ type: 'x.Named', version: 1, schema: z.object({ name: z.string() }) });
const registry = new EventRegistry([Named] as const);
type State = ProjectedState & { names: Record<string, string> };

const a: AggregateRef = { context: 'x', type: 'thing', id: 'a' };
const b: AggregateRef = { context: 'x', type: 'thing', id: 'b' };
const envelope = (ref: AggregateRef, id: string, type: string, version: number, data: unknown) => ({
  id,
  type,
  version,
  aggregate: ref,
  data,
  tenant: 't',
  actor: 'x',
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: id,
  causationId: null,
});

/** A store without a catalog stands in for a writer that bypassed the checks (as a raw NATS publish does). */
async function setup() {
  const store = new InMemoryEventStore();
  const projection = new Projection<State, ReturnType<typeof registry.decode>>({
    store,
    logger: createLogger('test', 'silent'),
    subject: undefined,
    initial: { seq: 0, names: {} },
    decode: (e: StoredEvent) => registry.decode(e),
    evolve: (s, e) => {
      s.seq = e.seq;
      s.names[e.aggregate.id] = e.data.name;
    },
  });
  const executor = new Executor<State, { type: string; data: unknown }>({ store, projection, encode: (type, data) => registry.encode(type, data) });
  const rename = (ref: AggregateRef, name: string, requestId: string) =>
    executor.execute(() => ({ kind: 'append', aggregate: ref, expectedVersion: 0, tenant: 't', event: { type: 'x.Named', data: { name } }, resourceId: ref.id }), {
      caller: { actor: 'u', tenant: 't', admin: false, requestId, at: '2026-01-01T00:00:00.000Z' },
      correlationId: requestId,
    });
  return { store, projection, rename };
}

describe('quarantine in a projection', () => {
  it('records an undecodable event, goes on with the next, and refuses commands on its aggregate only', async () => {
    const { store, projection, rename } = await setup();
    await store.append(a, envelope(a, 'e1', 'x.Named', 1, { name: 'one' }), { expectedVersion: 'any' });
    await store.append(a, envelope(a, 'e2', 'x.Renamed', 1, { name: 'evil' }), { expectedVersion: 'any' });
    await store.append(b, envelope(b, 'e3', 'x.Named', 2, { name: 'future' }), { expectedVersion: 'any' });
    await store.append(b, envelope(b, 'e4', 'x.Named', 1, { name: 'two' }), { expectedVersion: 'any' });
    await projection.start();

    expect(projection.healthy).toBe(true);
    expect(projection.state).toMatchObject({ seq: 4, names: { a: 'one', b: 'two' } });
    expect(projection.quarantine?.recent.map((q) => [q.seq, q.reason])).toEqual([
      [2, 'unknown-type'],
      [3, 'newer-version'],
    ]);
    expect(quarantineStatus(projection.quarantine)).toMatchObject({ ok: true, degraded: true, detail: { quarantined: 2, suspects: 2 } });

    const before = await store.lastSeq();
    const err = await rename(a, 'again', 'r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe(ErrorCode.FailedPrecondition);
    expect(isQuarantineRefusal(err)).toBe(true);
    expect((err as Error).message).toMatch(/thing a cannot be changed: its event at log sequence 2 .*unknown-type/);
    expect(await store.lastSeq()).toBe(before);

    // Another aggregate is not affected.
    const c: AggregateRef = { context: 'x', type: 'thing', id: 'c' };
    await expect(rename(c, 'three', 'r2')).resolves.toMatchObject({ written: true });
    expect(projection.state.names['c']).toBe('three');
    await projection.stop();
  });

  it('keeps only the latest events in detail but counts them all, and never forgets a suspect aggregate', async () => {
    const { store, projection } = await setup();
    for (let i = 0; i < RECENT_LIMIT + 5; i++) {
      const ref = { context: 'x', type: 'thing', id: `t${i}` };
      await store.append(ref, envelope(ref, `bad${i}`, 'x.Unknown', 1, {}), { expectedVersion: 'any' });
    }
    await projection.start();
    expect(projection.quarantine?.recent).toHaveLength(RECENT_LIMIT);
    expect(projection.quarantine?.recent[0]?.seq).toBe(6);
    expect(projection.quarantine?.byReason).toEqual({ 'unknown-type': RECENT_LIMIT + 5 });
    expect(Object.keys(projection.quarantine?.suspects ?? {})).toHaveLength(RECENT_LIMIT + 5);
    await projection.stop();
  });

  it('does not start from a snapshot that carries quarantined events (a newer version must get to read them)', async () => {
    const { store, projection } = await setup();
    await store.append(a, envelope(a, 'e1', 'x.Unknown', 1, {}), { expectedVersion: 'any' });
    await projection.start();
    const snapshot = JSON.parse(JSON.stringify(projection.state)) as State;
    const logger = createLogger('test', 'silent');
    expect(usableSnapshot(snapshot, logger)).toBeUndefined();
    expect(usableSnapshot({ seq: 3, names: {} }, logger)).toEqual({ seq: 3, names: {} });
    expect(usableSnapshot(undefined, logger)).toBeUndefined();
    await projection.stop();
  });

  it('still stops on a fold that throws anything else (a bug, not bad input)', async () => {
    const store = new InMemoryEventStore();
    await store.append(a, envelope(a, 'e1', 'x.Named', 1, { name: 'one' }), { expectedVersion: 'any' });
    const projection = new Projection<State>({
      store,
      logger: createLogger('test', 'silent'),
      subject: undefined,
      initial: { seq: 0, names: {} },
      decode: (e) => e,
      evolve: () => {
        throw new Error('bug');
      },
    });
    await projection.start().catch(() => undefined);
    await expect.poll(() => projection.healthy).toBe(false);
    await projection.stop();
  });
});
