import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventRegistry, EventSchemaError, defineEvent } from './schema.js';
import type { StoredEvent } from './types.js';

// NetworkCreated's history: v1 {name}, v2 added cidr, v3 split cidr into {address, prefix}.
const NetworkCreated = defineEvent({
  type: 'NetworkCreated',
  version: 3,
  schema: z.object({ name: z.string().min(1), subnet: z.object({ address: z.string(), prefix: z.number().int() }) }),
  upcasters: {
    1: (d) => ({ ...(d as object), cidr: '0.0.0.0/0' }),
    2: (d) => {
      const { cidr, ...rest } = d as { cidr: string };
      const [address, prefix] = cidr.split('/');
      return { ...rest, subnet: { address, prefix: Number(prefix) } };
    },
  },
});
const NetworkDeleted = defineEvent({ type: 'NetworkDeleted', version: 1, schema: z.object({}) });
// An event type whose v1 was never given an upcaster.
const Orphan = defineEvent({ type: 'Orphan', version: 2, schema: z.object({ x: z.number() }) });

const registry = new EventRegistry([NetworkCreated, NetworkDeleted, Orphan] as const);

function stored(type: string, version: number, data: unknown): StoredEvent {
  return {
    id: '01HXEVENT',
    type,
    version,
    data,
    aggregate: { context: 'ipam', type: 'network', id: 'n1' },
    tenant: 't',
    actor: 'a',
    correlationId: 'c',
    causationId: null,
    occurredAt: '2024-01-01T00:00:00.000Z',
    seq: 9,
    subject: 'strata.evt.ipam.network.n1',
    storedAt: '2024-01-01T00:00:00.001Z',
  };
}

describe('EventRegistry', () => {
  it('upcasts v1 → v2 → v3 on read', () => {
    const e = registry.decode(stored('NetworkCreated', 1, { name: 'n' }));
    expect(e.version).toBe(3);
    expect(e.data).toEqual({ name: 'n', subnet: { address: '0.0.0.0', prefix: 0 } });
  });

  it('upcasts v2 → v3 and reads v3 as is', () => {
    expect(registry.decode(stored('NetworkCreated', 2, { name: 'n', cidr: '10.1.0.0/16' })).data).toEqual({
      name: 'n',
      subnet: { address: '10.1.0.0', prefix: 16 },
    });
    const v3 = { name: 'n', subnet: { address: '10.2.0.0', prefix: 24 } };
    expect(registry.decode(stored('NetworkCreated', 3, v3))).toMatchObject({ version: 3, data: v3, seq: 9 });
  });

  it('narrows by type', () => {
    const e = registry.decode(stored('NetworkCreated', 3, { name: 'n', subnet: { address: 'a', prefix: 1 } }));
    if (e.type === 'NetworkCreated') expect(e.data.subnet.prefix).toBe(1);
  });

  it('rejects an unknown event type, on read and on write', () => {
    expect(() => registry.decode(stored('NetworkExploded', 1, {}))).toThrow(EventSchemaError);
    expect(() => registry.decode(stored('NetworkExploded', 1, {}))).toThrow(/unknown event type NetworkExploded/);
    expect(() => registry.encode('NetworkExploded', {})).toThrow(EventSchemaError);
    expect(registry.has('NetworkExploded')).toBe(false);
  });

  it('rejects invalid data: on write against the current schema, on read after upcasting', () => {
    expect(() => registry.encode('NetworkCreated', { name: '' })).toThrow(/rejected by its schema/);
    expect(() => registry.decode(stored('NetworkCreated', 3, { name: 'n' }))).toThrow(/is invalid/);
    // v2 data whose cidr upcasts into something the v3 schema refuses.
    expect(() => registry.decode(stored('NetworkCreated', 2, { name: 'n', cidr: '10.0.0.0/x' }))).toThrow(EventSchemaError);
  });

  it('encodes valid data with the current version', () => {
    const data = { name: 'n', subnet: { address: '10.0.0.0', prefix: 8 } };
    expect(registry.encode('NetworkCreated', data)).toEqual({ version: 3, data });
    expect(registry.currentVersion('NetworkCreated')).toBe(3);
  });

  it('refuses an event newer than this reader knows, asking for an upgrade', () => {
    expect(() => registry.decode(stored('NetworkCreated', 4, { name: 'n' }))).toThrow(/newer than this reader's v3/);
  });

  it('fails loudly when an old version has no upcaster', () => {
    expect(() => registry.decode(stored('Orphan', 1, { x: 1 }))).toThrow(/no upcaster for Orphan from v1 to v2/);
  });

  it('refuses two definitions of one type', () => {
    expect(() => new EventRegistry([NetworkDeleted, NetworkDeleted] as const)).toThrow(/defined twice/);
  });
});

describe('EventRegistry decode failures carry a reason (what a reader quarantines by)', () => {
  const reason = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (err) {
      return err instanceof EventSchemaError ? err.reason : 'not an EventSchemaError';
    }
    return undefined;
  };

  it('names each way an event cannot be read', () => {
    expect(reason(() => registry.decode(stored('NetworkExploded', 1, {})))).toBe('unknown-type');
    expect(reason(() => registry.decode(stored('NetworkCreated', 4, {})))).toBe('newer-version');
    expect(reason(() => registry.decode(stored('Orphan', 1, { x: 1 })))).toBe('no-upcaster');
    expect(reason(() => registry.decode(stored('NetworkCreated', 3, { name: 'n' })))).toBe('invalid-data');
    const unreadable = { ...stored('NetworkCreated', 3, null), unreadable: { reason: 'subject-mismatch' as const, message: 'forged' } };
    expect(reason(() => registry.decode(unreadable))).toBe('subject-mismatch');
  });

  it('turns an upcaster that throws on bad old data into invalid-data, not a crash', () => {
    // v2 upcaster splits `cidr`: a v2 event without one makes it throw.
    expect(reason(() => registry.decode(stored('NetworkCreated', 2, { name: 'n' })))).toBe('invalid-data');
  });
});
