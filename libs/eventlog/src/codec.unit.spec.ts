import { describe, expect, it } from 'vitest';
import { decodeEvent } from './codec.js';

const at = { seq: 7, subject: 'strata.evt.secgroup.group.g1', storedAt: '2026-01-01T00:00:00.000Z' };
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const envelope = {
  id: 'e1',
  type: 'secgroup.GroupCreated',
  version: 1,
  aggregate: { context: 'secgroup', type: 'group', id: 'g1' },
  tenant: 't',
  actor: 'a',
  correlationId: 'c',
  causationId: null,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: { x: 1 },
};

describe('decodeEvent (every message of the stream becomes an event, never an exception)', () => {
  it('reads a valid envelope at its position', () => {
    const e = decodeEvent(bytes(envelope), at);
    expect(e).toEqual({ ...envelope, seq: 7, subject: at.subject, storedAt: at.storedAt });
    expect(e.unreadable).toBeUndefined();
  });

  it('marks bytes that are not JSON unreadable, with the aggregate of its subject and no tenant', () => {
    const e = decodeEvent(bytes('\u0000garbage{'), { ...at, msgId: 'm1' });
    expect(e).toMatchObject({ id: 'm1', type: '', version: 0, tenant: '', data: null, seq: 7, aggregate: { context: 'secgroup', type: 'group', id: 'g1' } });
    expect(e.unreadable).toMatchObject({ reason: 'envelope', message: expect.stringContaining('not JSON') });
  });

  it('marks JSON that is not an envelope unreadable, keeping the claimed type only when it is a string', () => {
    expect(decodeEvent(bytes({ ...envelope, version: 'two' }), at)).toMatchObject({ type: 'secgroup.GroupCreated', version: 0, unreadable: { reason: 'envelope' } });
    expect(decodeEvent(bytes({ ...envelope, tenant: undefined }), at).unreadable?.reason).toBe('envelope');
    expect(decodeEvent(bytes([1, 2]), at)).toMatchObject({ type: '', unreadable: { reason: 'envelope' } });
    expect(decodeEvent(bytes('null'), at).unreadable?.reason).toBe('envelope');
  });

  it('marks an envelope naming another aggregate than its subject unreadable (a forged foreign event)', () => {
    const forged = { ...envelope, type: 'ipam.PortCreated', aggregate: { context: 'ipam', type: 'network', id: 'n1' } };
    const e = decodeEvent(bytes(forged), at);
    expect(e).toMatchObject({ type: 'ipam.PortCreated', tenant: '', aggregate: { context: 'secgroup', type: 'group', id: 'g1' } });
    expect(e.unreadable).toMatchObject({ reason: 'subject-mismatch' });
  });

  it('does not let a deeper subject under the writer\'s own context pass for another context', () => {
    const deep = { ...at, subject: 'strata.evt.secgroup.ipam.network.n1' };
    const claimsIpam = { ...envelope, type: 'ipam.PortCreated', aggregate: { context: 'ipam', type: 'network', id: 'n1' } };
    expect(decodeEvent(bytes(claimsIpam), deep)).toMatchObject({
      aggregate: { context: 'secgroup', type: 'ipam', id: 'network.n1' },
      unreadable: { reason: 'subject-mismatch' },
    });
    const dotted = { ...envelope, aggregate: { context: 'secgroup.ipam', type: 'network', id: 'n1' } };
    expect(decodeEvent(bytes(dotted), deep).unreadable?.reason).toBe('subject-mismatch');
    const custom = { ...at, subject: 'test.x.evt.secgroup.group.g1', prefix: 'test.x.evt' };
    expect(decodeEvent(bytes(envelope), custom).unreadable).toBeUndefined();
  });
});
