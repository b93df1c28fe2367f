import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '@strata/eventlog';
import { lastPoint, resolvePoint } from './points.js';

/** A log of five events stored one second apart from 14:00:00, the last two in the same millisecond. */
let clock = Date.parse('2026-12-06T14:00:00.000Z');
const store = new InMemoryEventStore({ now: () => new Date(clock) });
const ref = { context: 'ipam', type: 'network', id: 'n' };
const append = (i: number) =>
  store.append(ref, { id: `e${i}`, type: 'ipam.X', version: 1, aggregate: ref, tenant: 't', actor: 'a', correlationId: 'c', causationId: null, occurredAt: '2026-12-06T14:00:00.000Z', data: {} }, { expectedVersion: 'any' });

beforeAll(async () => {
  for (let i = 1; i <= 4; i++) {
    await append(i);
    clock += 1_000;
  }
  clock -= 1_000;
  await append(5); // same instant as 4
});

describe('points in the log', () => {
  it('resolves a position to itself, naming when it was stored and how it was asked', async () => {
    const last = await lastPoint(store);
    expect(last).toEqual({ seq: 5, storedAt: '2026-12-06T14:00:03.000Z', requested: 'now' });
    expect(await resolvePoint(store, { position: 2 }, last, 'at')).toEqual({ seq: 2, storedAt: '2026-12-06T14:00:01.000Z', requested: 'position 2' });
    expect(await resolvePoint(store, { position: 5 }, last, 'at')).toMatchObject({ seq: 5 });
  });

  it('refuses a position past the end, naming the last position', async () => {
    const last = await lastPoint(store);
    await expect(resolvePoint(store, { position: 6 }, last, 'to')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'to: position 6 is past the end of the log (its last position is 5)',
      details: { field: 'to.position' },
    });
  });

  it('resolves a time to the last event stored at or before it', async () => {
    const last = await lastPoint(store);
    const at = (time: string) => resolvePoint(store, { time }, last, 'at');
    expect(await at('2026-12-06T14:00:01.500Z')).toEqual({ seq: 2, storedAt: '2026-12-06T14:00:01.000Z', requested: 'time 2026-12-06T14:00:01.500Z' });
    expect((await at('2026-12-06T14:00:01.000Z')).seq).toBe(2);
    expect((await at('2026-12-06T14:00:00.999Z')).seq).toBe(1);
    // Two events in the same millisecond: the later one.
    expect((await at('2026-12-06T14:00:03.000Z')).seq).toBe(5);
    // After the last event: the last event. An offset is honoured.
    expect((await at('2027-01-01T00:00:00Z')).seq).toBe(5);
    expect((await at('2026-12-06T15:00:01.000+01:00')).seq).toBe(2);
  });

  it('refuses a time before the log began, naming when it began', async () => {
    const last = await lastPoint(store);
    await expect(resolvePoint(store, { time: '2026-12-06T13:59:59.999Z' }, last, 'from')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'from: time 2026-12-06T13:59:59.999Z is before the log began (it began at 2026-12-06T14:00:00.000Z (position 1))',
      details: { field: 'from.time' },
    });
  });

  it('keeps every point of one question within the log as it was read: a later append does not move "after the end"', async () => {
    const last = await lastPoint(store);
    clock += 10_000;
    const s2 = new InMemoryEventStore({ now: () => new Date(clock) });
    // Same log plus one event: the point is capped at the question's last position.
    for (let i = 1; i <= 6; i++) await s2.append(ref, { id: `f${i}`, type: 'ipam.X', version: 1, aggregate: ref, tenant: 't', actor: 'a', correlationId: 'c', causationId: null, occurredAt: '2026-12-06T14:00:00.000Z', data: {} }, { expectedVersion: 'any' });
    const p = await resolvePoint(s2, { time: '2030-01-01T00:00:00Z' }, last, 'at');
    expect(p).toEqual({ ...last, requested: 'time 2030-01-01T00:00:00Z' });
  });

  it('an empty log has no point', async () => {
    await expect(lastPoint(new InMemoryEventStore())).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: 'the event log is empty: there is no point in it to audit' });
  });
});
