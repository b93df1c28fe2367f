/**
 * Partition leases against a real nats-server KV bucket: a partition whose
 * start-up (the reconcile that republishes every view of it) takes longer
 * than a lease is valid keeps its lease valid all along, because renewals go
 * on meanwhile. Before this was so, the CI's compose lab deadlocked on a
 * restart: the reconcile's writes waited for a valid lease, and the
 * renewals waited for the reconcile.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV, NatsConnection } from 'nats';
import { hostviewLeaseKey } from '@strata/contracts';
import { createLogger } from '@strata/runtime';
import { startStrataNats, type StrataNats } from '@strata/testing';
import { validForMs } from '../core/lease.js';
import { PartitionLeases } from './leases.js';

// The service's default: a renewal (a KV update every ttl/3) has a third of a ttl, 2 s, to land on a loaded machine.
const TTL_MS = 6_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('partition leases: renewals go on while a gained partition starts up', () => {
  let nats: StrataNats;
  let admin: NatsConnection;
  let bucket: KV;

  beforeAll(async () => {
    nats = await startStrataNats();
    admin = await nats.connect('admin');
    bucket = await admin.jetstream().views.kv(`test_leases_${randomUUID().slice(0, 8)}`, { history: 1 });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('a start-up lasting twice the lease validity sees its lease valid at every write it could make', async () => {
    const startUpMs = 2 * validForMs(TTL_MS);
    /** valid(0) as a write of the start-up would ask it, every 50 ms, with how long after the gain. */
    const samples: Array<{ at: number; valid: boolean }> = [];
    let leases!: PartitionLeases;
    leases = new PartitionLeases({
      bucket,
      self: 'instance-a',
      count: 1,
      preferred: 0,
      ttlMs: TTL_MS,
      logger: createLogger('hostview-leases-test', 'silent'),
      onGained: async () => {
        const gained = performance.now();
        while (performance.now() - gained < startUpMs) {
          samples.push({ at: Math.round(performance.now() - gained), valid: leases.valid(0) });
          await sleep(50);
        }
      },
      onLost: async () => undefined,
    });
    try {
      await leases.start();
      expect(leases.held()).toEqual([0]);
      // The start-up ran well past the lease's validity: without renewals, the samples after it would say "not valid".
      expect(samples.at(-1)!.at).toBeGreaterThan(validForMs(TTL_MS) * 1.5);
      expect(samples.filter((s) => !s.valid)).toEqual([]);
      // And the record in the bucket moved on: renewed during the start-up, not only taken.
      const record = await bucket.get(hostviewLeaseKey(0, 1));
      expect(record?.revision).toBeGreaterThan(1);
    } finally {
      await leases.stop(async () => undefined);
    }
    // Released on stop: a survivor would take it at once.
    expect((await bucket.get(hostviewLeaseKey(0, 1)))?.operation).not.toBe('PUT');
  }, 60_000);
});
