import { describe, expect, it } from 'vitest';
import { KAFKA_HEADERS, kafkaRecord } from './record.js';

const envelope = {
  id: 'ev-1',
  type: 'ipam.PortCreated',
  version: 1,
  aggregate: { context: 'ipam', type: 'port', id: 'p1' },
  tenant: 't1',
  actor: 'alice',
  correlationId: 'c1',
  causationId: null,
  occurredAt: '2026-12-06T13:00:00.000Z',
  data: { name: 'vm1' },
};
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('kafkaRecord', () => {
  it('keys an event by its aggregate id, carries the stored envelope as is, and names it in headers', () => {
    const data = bytes(envelope);
    const r = kafkaRecord({ seq: 42, subject: 'strata.evt.ipam.port.p1', data, storedAt: '2026-12-06T13:00:01.000Z' });
    expect(r.key).toBe('p1');
    expect(r.value.equals(Buffer.from(data))).toBe(true);
    expect(r.headers).toEqual({
      [KAFKA_HEADERS.eventId]: 'ev-1',
      [KAFKA_HEADERS.type]: 'ipam.PortCreated',
      [KAFKA_HEADERS.tenant]: 't1',
      [KAFKA_HEADERS.position]: '42',
      [KAFKA_HEADERS.context]: 'ipam',
      [KAFKA_HEADERS.aggregateType]: 'port',
      [KAFKA_HEADERS.occurredAt]: '2026-12-06T13:00:00.000Z',
    });
  });

  it('exports an entry that is no readable event too, marked, with its stored bytes and the id its subject names', () => {
    const r = kafkaRecord({ seq: 7, subject: 'strata.evt.ipam.port.p2', data: bytes('not json'), storedAt: '2026-12-06T13:00:01.000Z', msgId: 'm-7' });
    expect(r.key).toBe('p2');
    expect(r.value.toString()).toBe('not json');
    expect(r.headers[KAFKA_HEADERS.eventId]).toBe('m-7');
    expect(r.headers[KAFKA_HEADERS.position]).toBe('7');
    expect(r.headers[KAFKA_HEADERS.unreadable]).toMatch(/^envelope: not JSON/);
  });
});
