import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { SERVICE_USERS, startStrataNats, type StrataNats } from '@strata/testing';
import { JetStreamEventStore } from './jetstream-store.js';
import { DEFAULT_EVENT_LOG_OPTIONS, ensureEventStream } from './stream-config.js';
import { event } from './event-store.contract.js';
import type { AggregateRef } from './types.js';

/**
 * Two layers protect the log. The stream config (deny_delete, deny_purge)
 * makes the server refuse message deletes and purges from anyone, and an
 * update cannot lift those flags. Deleting the whole stream, or updating it
 * with limits (max_msgs, max_age) that discard old events, is refused only
 * by account permissions: services run as a user denied protectedApiSubjects().
 * Production users (infra/nats/render-accounts.mjs): the operator (`admin`)
 * provisions the stream, IPAM writes as `ipam`, and every service user is
 * checked to be refused.
 */
describe('the stream refuses delete and purge', () => {
  const STREAM = 'STRATA_EVENTS';
  const SERVICES = SERVICE_USERS.filter((u) => u !== 'admin');
  let nats: StrataNats;
  let operator: NatsConnection;
  let service: NatsConnection;
  const ref: AggregateRef = { context: 'ipam', type: 'network', id: 'n1' };

  beforeAll(async () => {
    nats = await startStrataNats();
    operator = await nats.connect('admin');
    await ensureEventStream(await operator.jetstreamManager(), DEFAULT_EVENT_LOG_OPTIONS);
    service = await nats.connect('ipam');
    const store = await JetStreamEventStore.open(service);
    await store.append(ref, event(ref, 'NetworkCreated'), { expectedVersion: 'none' });
    await store.append(ref, event(ref, 'NetworkRenamed'), { expectedVersion: 1 });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  async function expectEventsIntact(): Promise<void> {
    const store = await JetStreamEventStore.open(service);
    const { events } = await store.readAggregate(ref);
    expect(events.map((e) => e.type)).toEqual(['NetworkCreated', 'NetworkRenamed']);
    expect(await store.lastSeq()).toBe(2);
  }

  it('every service user opens the provisioned stream without needing to update it', async () => {
    // The read model and the Kafka export read the log through their own durable consumers only, never as an event store.
    for (const user of SERVICES.filter((u) => u !== 'pg-projector' && u !== 'kafka-exporter')) {
      await expect(JetStreamEventStore.open(await nats.connect(user)), user).resolves.toBeInstanceOf(JetStreamEventStore);
    }
  });

  it.each(SERVICES)('refuses purge, stream delete, message delete and unprotecting updates from %s', async (user) => {
    const jsm = await (await nats.connect(user)).jetstreamManager();
    const { config } = await (await operator.jetstreamManager()).streams.info(STREAM);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['purge', () => jsm.streams.purge(STREAM)],
      ['purge subject', () => jsm.streams.purge(STREAM, { filter: 'strata.evt.ipam.network.n1' })],
      ['delete stream', () => jsm.streams.delete(STREAM)],
      ['delete message', () => jsm.streams.deleteMessage(STREAM, 1)],
      ['delete message (no erase)', () => jsm.streams.deleteMessage(STREAM, 1, false)],
      ['lift deny_purge', () => jsm.streams.update(STREAM, { ...config, deny_purge: false })],
    ];
    for (const [what, attempt] of attempts) {
      await expect(attempt(), what).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    await expectEventsIntact();
  });

  it('refuses purge, message delete and lifting the protections even from the operator (admin, allowed the whole JetStream API)', async () => {
    const jsm = await operator.jetstreamManager();
    await expect(jsm.streams.purge(STREAM)).rejects.toThrow(/purge not permitted/);
    await expect(jsm.streams.purge(STREAM, { filter: 'strata.evt.ipam.>' })).rejects.toThrow(/purge not permitted/);
    await expect(jsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(/delete not permitted/);
    await expect(jsm.streams.deleteMessage(STREAM, 2, false)).rejects.toThrow(/delete not permitted/);
    const { config } = await jsm.streams.info(STREAM);
    await expect(jsm.streams.update(STREAM, { ...config, deny_purge: false })).rejects.toThrow(/can not cancel deny purge/);
    await expect(jsm.streams.update(STREAM, { ...config, deny_delete: false })).rejects.toThrow(/can not cancel deny message deletes/);
    await expectEventsIntact();
  });

  it('refuses rollup headers that would replace a subject, from the owning service and the operator', async () => {
    const h = (await import('nats')).headers();
    h.set('Nats-Rollup', 'sub');
    for (const nc of [service, operator]) {
      await expect(nc.jetstream().publish('strata.evt.ipam.network.n1', new Uint8Array(), { headers: h })).rejects.toThrow(/rollup/i);
    }
    await expectEventsIntact();
  });
});
