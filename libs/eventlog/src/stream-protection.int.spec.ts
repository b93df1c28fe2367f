import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '@strata/testing';
import { JetStreamEventStore } from './jetstream-store.js';
import { protectedApiSubjects } from './stream-config.js';
import { event } from './event-store.contract.js';
import type { AggregateRef } from './types.js';

/**
 * Two layers protect the log. The stream config (deny_delete, deny_purge)
 * makes the server refuse message deletes and purges from anyone, and an
 * update cannot lift those flags. Deleting the whole stream, or updating it
 * with limits (max_msgs, max_age) that discard old events, is refused only
 * by account permissions: services run as a user denied protectedApiSubjects().
 */
describe('the stream refuses delete and purge', () => {
  const STREAM = 'STRATA_EVENTS';
  let server: NatsServerHandle;
  let operator: NatsConnection;
  let service: NatsConnection;
  const ref: AggregateRef = { context: 'ipam', type: 'network', id: 'n1' };

  beforeAll(async () => {
    server = await startNatsServer({
      config: `
        accounts {
          STRATA {
            jetstream: enabled
            users: [
              { user: operator, password: operator }
              { user: service, password: service, permissions: { publish: { allow: [">"], deny: ${JSON.stringify(protectedApiSubjects(STREAM))} } } }
            ]
          }
        }`,
    });
    operator = await connect({ servers: server.url, user: 'operator', pass: 'operator' });
    service = await connect({ servers: server.url, user: 'service', pass: 'service' });
    const store = await JetStreamEventStore.open(operator);
    await store.append(ref, event(ref, 'NetworkCreated'), { expectedVersion: 'none' });
    await store.append(ref, event(ref, 'NetworkRenamed'), { expectedVersion: 1 });
  });
  afterAll(async () => {
    await service?.close();
    await operator?.close();
    await server?.stop();
  });

  async function expectEventsIntact(): Promise<void> {
    const store = await JetStreamEventStore.open(service);
    const { events } = await store.readAggregate(ref);
    expect(events.map((e) => e.type)).toEqual(['NetworkCreated', 'NetworkRenamed']);
    expect(await store.lastSeq()).toBe(2);
  }

  it('a service opens the provisioned stream without needing to update it', async () => {
    await expect(JetStreamEventStore.open(service)).resolves.toBeInstanceOf(JetStreamEventStore);
  });

  it('refuses purge, stream delete, message delete and unprotecting updates from a service', async () => {
    const jsm = await service.jetstreamManager();
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

  it('refuses purge, message delete and lifting the protections even from a user allowed the whole JetStream API', async () => {
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

  it('refuses rollup headers that would replace a subject', async () => {
    const h = (await import('nats')).headers();
    h.set('Nats-Rollup', 'sub');
    await expect(operator.jetstream().publish('strata.evt.ipam.network.n1', new Uint8Array(), { headers: h })).rejects.toThrow(
      /rollup/i,
    );
    await expectEventsIntact();
  });
});
