import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InMemorySnapshotStore, type LoadedSnapshot, type SavedSnapshot, type Snapshot, type SnapshotStorePort } from '@strata/eventlog';
import { createLogger, createMetrics, type ServiceMetrics } from '@strata/runtime';
import { loadSnapshot, SnapshotPolicy, type SnapshotKind } from './snapshots.js';

interface State {
  seq: number;
  items: Record<string, { n: number }>;
}

const KIND: SnapshotKind = { name: 'svc', schemaVersion: 1 };

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string });
  return { logger: createLogger('test', 'info', stream), lines };
}

/** Records every save; the underlying store does the real encoding. */
class RecordingStore implements SnapshotStorePort {
  readonly saved: number[] = [];
  fail: 'reject' | 'throw' | false = false;
  constructor(readonly inner: InMemorySnapshotStore = new InMemorySnapshotStore()) {}
  save(name: string, snapshot: Snapshot): Promise<SavedSnapshot> {
    if (this.fail === 'throw') throw new RangeError('Invalid string length');
    if (this.fail === 'reject') return Promise.reject(new Error('object store unavailable'));
    this.saved.push(snapshot.seq);
    return this.inner.save(name, snapshot);
  }
  load<T>(name: string): Promise<LoadedSnapshot<T> | null> {
    return this.inner.load<T>(name);
  }
}

/** Applies n events to the state the way a projection does (mutating it in place), calling the policy after each. */
function apply(policy: SnapshotPolicy<State>, state: State, n: number): void {
  for (let i = 0; i < n; i++) {
    state.seq++;
    state.items[`k${state.seq}`] = { n: state.seq };
    policy.onApplied(state);
  }
}

const settle = async (): Promise<void> => {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 0));
};

async function counter(metrics: ServiceMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return m.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe('SnapshotPolicy', () => {
  it('takes no snapshot while the projection catches up, one at catch-up if the replay was long, then one per N live events', async () => {
    const store = new RecordingStore();
    const policy = new SnapshotPolicy<State>(store, KIND, 10, createLogger('test', 'silent'));
    const state: State = { seq: 0, items: {} };
    apply(policy, state, 35); // replaying history: 3.5 periods, no snapshot
    await settle();
    expect(store.saved).toEqual([]);
    policy.caughtUp(state); // the replay covered more than a period: one snapshot, just after
    expect(store.saved).toEqual([]);
    await settle();
    expect(store.saved).toEqual([35]);
    apply(policy, state, 9);
    await settle();
    expect(store.saved).toEqual([35]);
    apply(policy, state, 1); // the 10th live event
    await settle();
    expect(store.saved).toEqual([35, 45]);
    expect((await store.load<State>('svc'))!.state).toEqual(state);
  });

  it('after a short replay, nothing at catch-up; the first snapshot once N events are applied', async () => {
    const store = new RecordingStore();
    const policy = new SnapshotPolicy<State>(store, KIND, 10, createLogger('test', 'silent'));
    const state: State = { seq: 0, items: {} };
    apply(policy, state, 4);
    policy.caughtUp(state);
    await settle();
    expect(store.saved).toEqual([]);
    apply(policy, state, 6);
    await settle();
    expect(store.saved).toEqual([10]);
  });

  it('snapshots the state as it was at the event, although the projection goes on mutating it during the upload', async () => {
    const inner = new InMemorySnapshotStore({ lineChars: 50, maxLineChars: 10_000 });
    let uploaded!: () => void;
    // The store serialises inside save(); the "upload" then takes until we say so.
    const slow: SnapshotStorePort = {
      save: (name, snapshot) => {
        const done = inner.save(name, snapshot);
        return new Promise((resolve) => (uploaded = () => resolve(done)));
      },
      load: (name) => inner.load(name),
    };
    const policy = new SnapshotPolicy<State>(slow, KIND, 5, createLogger('test', 'silent'));
    const state: State = { seq: 0, items: {} };
    policy.caughtUp(state);
    apply(policy, state, 5); // triggers the save at seq 5 ...
    const atFive = JSON.stringify(state);
    apply(policy, state, 7); // ... these are applied while it uploads (and start no second write)
    state.items['k1']!.n = -1;
    uploaded();
    await settle();
    const loaded = await inner.load<State>('svc');
    expect(loaded!.seq).toBe(5);
    expect(JSON.stringify(loaded!.state)).toBe(atFive);
  });

  it('a save that rejects or throws never reaches the caller: logged, counted, retried after N more events', async () => {
    const { logger, lines } = capture();
    const metrics = createMetrics('test', { defaultMetrics: false });
    const store = new RecordingStore();
    const policy = new SnapshotPolicy<State>(store, KIND, 3, logger, { metrics });
    const state: State = { seq: 0, items: {} };
    policy.caughtUp(state);

    for (const mode of ['throw', 'reject'] as const) {
      store.fail = mode;
      expect(() => apply(policy, state, 3)).not.toThrow();
      await settle();
    }
    expect(lines().filter((l) => l.msg.startsWith('snapshot not saved'))).toHaveLength(2);
    expect(lines().find((l) => l.msg.startsWith('snapshot not saved'))).toMatchObject({ level: 40, seq: 3, err: { message: 'Invalid string length' } });
    expect(await counter(metrics, 'strata_snapshot_saves_total', { snapshot: 'svc', outcome: 'failed' })).toBe(2);

    store.fail = false;
    apply(policy, state, 2);
    await settle();
    expect(store.saved).toEqual([]); // not on every event after a failure: after the period
    apply(policy, state, 1);
    await settle();
    expect(store.saved).toEqual([9]);
    expect(await counter(metrics, 'strata_snapshot_saves_total', { snapshot: 'svc', outcome: 'saved' })).toBe(1);
    expect(lines().find((l) => l.msg === 'snapshot saved')).toMatchObject({ seq: 9, lines: expect.any(Number), bytes: expect.any(Number) });
  });

  it('a state the format cannot cut into lines within the limit is reported, not fatal', async () => {
    const { logger, lines } = capture();
    const store = new InMemorySnapshotStore({ lineChars: 10, maxLineChars: 100 });
    const policy = new SnapshotPolicy<{ seq: number; blob: number[] }>(store, KIND, 1, logger);
    const state = { seq: 1, blob: Array.from({ length: 100 }, (_, i) => i) };
    policy.caughtUp(state);
    policy.onApplied(state);
    await settle();
    await policy.flush({ ...state, seq: 2 });
    expect(lines().filter((l) => l.msg.startsWith('snapshot not saved'))).toHaveLength(2);
    expect(lines()[0]).toMatchObject({ err: { type: 'SnapshotTooLargeError' } });
    expect(await store.load('svc')).toBeNull();
  });

  it('flush writes at shutdown, waits for a write in progress, skips when nothing changed, never rejects', async () => {
    const store = new RecordingStore();
    const policy = new SnapshotPolicy<State>(store, KIND, 100, createLogger('test', 'silent'));
    const state: State = { seq: 7, items: {} };
    await policy.flush(state); // nothing applied since the start (state = loaded snapshot)
    expect(store.saved).toEqual([]);
    apply(policy, state, 2); // stopped before catching up: the prefix is still a valid snapshot
    await policy.flush(state);
    expect(store.saved).toEqual([9]);
    await policy.flush(state);
    expect(store.saved).toEqual([9]);
    apply(policy, state, 1);
    store.fail = 'reject';
    await expect(policy.flush(state)).resolves.toBeUndefined();
  });

  it('every = 0 disables periodic snapshots', async () => {
    const store = new RecordingStore();
    const policy = new SnapshotPolicy<State>(store, KIND, 0, createLogger('test', 'silent'));
    const state: State = { seq: 0, items: {} };
    policy.caughtUp(state);
    apply(policy, state, 50);
    await settle();
    expect(store.saved).toEqual([]);
  });
});

describe('loadSnapshot', () => {
  it('loads a snapshot of the right schema; ignores another schema, another format and a damaged one, replaying instead', async () => {
    const { logger, lines } = capture();
    const metrics = createMetrics('test', { defaultMetrics: false });
    const store = new InMemorySnapshotStore();
    expect(await loadSnapshot(store, KIND, logger, { metrics })).toBeUndefined();

    await store.save('svc', { seq: 4, schemaVersion: 1, state: { seq: 4, items: { a: { n: 1 } } } });
    expect(await loadSnapshot<State>(store, KIND, logger, { metrics })).toEqual({ seq: 4, items: { a: { n: 1 } } });
    expect(await loadSnapshot(store, { name: 'svc', schemaVersion: 2 }, logger, { metrics })).toBeUndefined();

    store.putRaw('svc', Buffer.from(JSON.stringify({ seq: 4, schemaVersion: 1, savedAt: 'x', state: {} })));
    expect(await loadSnapshot(store, KIND, logger, { metrics })).toBeUndefined();
    expect(lines().at(-1)).toMatchObject({ level: 40, msg: expect.stringMatching(/does not verify/), reason: expect.stringMatching(/format 1/) });

    const failing: SnapshotStorePort = { save: () => Promise.reject(new Error('x')), load: () => Promise.reject(new Error('connection closed')) };
    expect(await loadSnapshot(failing, KIND, logger, { metrics })).toBeUndefined();
    expect(lines().at(-1)).toMatchObject({ level: 40, msg: 'snapshot could not be loaded; replaying the log' });

    const count = (outcome: string) => counter(metrics, 'strata_snapshot_loads_total', { snapshot: 'svc', outcome });
    expect([await count('none'), await count('loaded'), await count('ignored'), await count('failed')]).toEqual([1, 1, 2, 1]);
  });
});
