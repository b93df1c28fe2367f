import { describe, expect, it } from 'vitest';
import { ValidationError } from '@strata/errors';
import { InMemorySnapshotStore } from './snapshots.js';

describe('InMemorySnapshotStore', () => {
  it('round-trips through JSON like the real store, so state must be plain data', async () => {
    const store = new InMemorySnapshotStore();
    expect(await store.load('x')).toBeNull();
    const state = { list: [1, 2], when: new Date('2024-01-01T00:00:00.000Z'), skip: undefined };
    await store.save('x', { seq: 5, schemaVersion: 2, state });
    state.list.push(3); // the saved copy is independent
    const loaded = await store.load('x');
    expect(loaded).toMatchObject({ seq: 5, schemaVersion: 2, state: { list: [1, 2], when: '2024-01-01T00:00:00.000Z' } });
    expect(loaded!.state).not.toHaveProperty('skip');
    expect(typeof loaded!.savedAt).toBe('string');
  });

  it('validates name, seq and schemaVersion', async () => {
    const store = new InMemorySnapshotStore();
    await expect(store.save('', { seq: 1, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: -1, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: 1.5, schemaVersion: 1, state: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.save('x', { seq: 1, schemaVersion: Number.NaN, state: {} })).rejects.toBeInstanceOf(ValidationError);
  });
});
