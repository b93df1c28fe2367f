import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@strata/eventlog';
import { eventRow, pgJson, pgText, resourcesOf, versionTable } from './rows.js';

const event = (over: Partial<StoredEvent>): StoredEvent => ({
  id: 'e1',
  type: 'ipam.PortCreated',
  version: 1,
  aggregate: { context: 'ipam', type: 'network', id: 'net-1' },
  tenant: 't1',
  actor: 'alice',
  correlationId: 'c1',
  causationId: null,
  occurredAt: '2026-01-02T03:04:05.000Z',
  data: { portId: 'port-1', networkId: 'net-1' },
  seq: 7,
  subject: 'strata.evt.ipam.network.net-1',
  storedAt: '2026-01-02T03:04:05.123Z',
  ...over,
});

describe('resourcesOf: the audit kinds an event is a version of', () => {
  it('a port event is a version of the port (its id field) and of the network (the aggregate itself)', () => {
    expect(resourcesOf(event({}))).toEqual([
      { kind: 'network', id: 'net-1' },
      { kind: 'port', id: 'port-1' },
    ]);
  });

  it('an event of the cloud aggregate belongs only to the kinds whose id field it names', () => {
    const e = event({ type: 'ipam.FloatingIpReleased', aggregate: { context: 'ipam', type: 'cloud', id: 'cloud' }, data: { floatingIpId: 'f1', address: '203.0.113.7' } });
    expect(resourcesOf(e)).toEqual([{ kind: 'floating-ip', id: 'f1' }]);
  });

  it('a security group event is the group; an id field that is no string, or another context, names nothing', () => {
    expect(resourcesOf(event({ aggregate: { context: 'secgroup', type: 'group', id: 'sg1' }, data: {} }))).toEqual([{ kind: 'security-group', id: 'sg1' }]);
    expect(resourcesOf(event({ aggregate: { context: 'ipam', type: 'cloud', id: 'cloud' }, data: { floatingIpId: 5 } }))).toEqual([]);
    expect(resourcesOf(event({ aggregate: { context: 'other', type: 'network', id: 'n' } }))).toEqual([]);
  });

  it('an unreadable event is no version of anything', () => {
    expect(resourcesOf(event({ unreadable: { reason: 'envelope', message: 'not json' }, data: null }))).toEqual([]);
  });

  it('names one table per kind', () => {
    expect(versionTable('security-group')).toBe('versions_security_group');
    expect(versionTable('floating-ip-association')).toBe('versions_floating_ip_association');
  });
});

describe('eventRow', () => {
  it('keeps every envelope field; an invalid time becomes null, an unreadable event has no data', () => {
    expect(eventRow(event({ reason: 'oops', trace: { traceparent: 'tp' } }))).toMatchObject({ seq: 7, occurredAt: '2026-01-02T03:04:05.000Z', reason: 'oops', trace: '{"traceparent":"tp"}', data: '{"portId":"port-1","networkId":"net-1"}', unreadable: null });
    const bad = eventRow(event({ occurredAt: 'yesterday', unreadable: { reason: 'envelope', message: 'x' }, data: null }));
    expect(bad).toMatchObject({ occurredAt: null, data: null, unreadable: 'envelope: x' });
  });

  it('NUL, which PostgreSQL text and jsonb cannot hold, becomes U+FFFD; an escaped backslash before u0000 is left alone', () => {
    expect(pgText('a\0b')).toBe('a\uFFFDb');
    expect(JSON.parse(pgJson({ s: 'a\0b' }))).toEqual({ s: 'a\uFFFDb' });
    expect(JSON.parse(pgJson({ s: '\\u0000' }))).toEqual({ s: '\\u0000' });
    expect(JSON.parse(pgJson({ s: '\\\0' }))).toEqual({ s: '\\\uFFFD' });
  });
});
