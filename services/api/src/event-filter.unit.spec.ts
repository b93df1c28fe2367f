import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '@strata/errors';
import type { StoredEvent } from '@strata/eventlog';
import { eventFilter, fromSeqOf, matches } from './event-filter.js';

const tenant = { name: 'alice', tenant: 't1', admin: false };
const admin = { name: 'ops', tenant: 'ops', admin: true };

function event(over: Partial<StoredEvent>): StoredEvent {
  return {
    id: 'e1',
    type: 'ipam.NetworkCreated',
    version: 1,
    aggregate: { context: 'ipam', type: 'network', id: 'n1' },
    tenant: 't1',
    actor: 'alice',
    correlationId: 'c1',
    causationId: null,
    occurredAt: '2024-05-01T14:00:00.000Z',
    data: {},
    seq: 1,
    subject: 'strata.evt.ipam.network.n1',
    storedAt: '2024-05-01T14:00:00.000Z',
    ...over,
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StrataError) return err.code;
    throw err;
  }
  return 'OK';
}

describe('eventFilter: tenant scoping', () => {
  it('pins a tenant caller to its own tenant', () => {
    const f = eventFilter({ types: [] }, tenant);
    expect(matches(f, event({ tenant: 't1' }))).toBe(true);
    expect(matches(f, event({ tenant: 't2' }))).toBe(false);
    expect(matches(f, event({ tenant: '_system' }))).toBe(false);
  });

  it('refuses a tenant caller asking for another tenant', () => {
    expect(code(() => eventFilter({ types: [], tenant: 't2' }, tenant))).toBe(ErrorCode.PermissionDenied);
    expect(code(() => eventFilter({ types: [], tenant: 't1' }, tenant))).toBe('OK');
  });

  it('lets an admin see every tenant, or choose one', () => {
    const all = eventFilter({ types: [] }, admin);
    expect(matches(all, event({ tenant: 't2' }))).toBe(true);
    const one = eventFilter({ types: [], tenant: 't2' }, admin);
    expect(matches(one, event({ tenant: 't2' }))).toBe(true);
    expect(matches(one, event({ tenant: 't1' }))).toBe(false);
  });
});

describe('eventFilter: other filters', () => {
  it('filters by type', () => {
    const f = eventFilter({ types: ['ipam.PortCreated'] }, admin);
    expect(matches(f, event({ type: 'ipam.PortCreated' }))).toBe(true);
    expect(matches(f, event({ type: 'ipam.NetworkCreated' }))).toBe(false);
  });

  it('turns an aggregate id into a subject filter and refuses wildcards in it', () => {
    expect(eventFilter({ types: [], aggregateId: 'n1' }, admin).subject).toBe('strata.evt.*.*.n1');
    expect(code(() => eventFilter({ types: [], aggregateId: 'n1.>' }, admin))).toBe(ErrorCode.InvalidArgument);
  });

  it('bounds the stored time inclusively and insists on RFC 3339', () => {
    const f = eventFilter({ types: [], since: '2024-05-01T14:00:00Z', until: '2024-05-01T16:00:00+02:00' }, admin);
    expect(matches(f, event({ storedAt: '2024-05-01T14:00:00.000Z' }))).toBe(true);
    expect(matches(f, event({ storedAt: '2024-05-01T13:59:59.999Z' }))).toBe(false);
    expect(matches(f, event({ storedAt: '2024-05-01T14:00:00.001Z' }))).toBe(false);
    expect(code(() => eventFilter({ types: [], since: 'yesterday' }, admin))).toBe(ErrorCode.InvalidArgument);
    expect(code(() => eventFilter({ types: [], since: '2024-05-01T14:00:00' }, admin))).toBe(ErrorCode.InvalidArgument);
    expect(code(() => eventFilter({ types: [], since: '2024-05-02T00:00:00Z', until: '2024-05-01T00:00:00Z' }, admin))).toBe(
      ErrorCode.InvalidArgument,
    );
  });

  it('reads from_seq safely', () => {
    expect(fromSeqOf(undefined)).toBe(1);
    expect(fromSeqOf('0')).toBe(1);
    expect(fromSeqOf('42')).toBe(42);
    expect(code(() => fromSeqOf('18446744073709551615'))).toBe(ErrorCode.InvalidArgument);
  });
});
