import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@strata/eventlog';
import { entryOf, evolve, initialCatalogue, isRelevant, touchedBy, type CatalogueState } from './catalogue.js';
import { locate } from './locate.js';
import type { Caller } from '@strata/service-kit';

let seq = 0;
const ev = (context: string, type: string, id: string, tenant: string, data: unknown = {}, extra: Partial<StoredEvent> = {}): StoredEvent => {
  seq++;
  return {
    id: `e${seq}`,
    type: `${context}.X`,
    version: 1,
    aggregate: { context, type, id },
    tenant,
    actor: 'a',
    correlationId: 'c',
    causationId: null,
    occurredAt: '2026-12-06T14:00:00.000Z',
    data,
    seq,
    subject: `strata.evt.${context}.${type}.${id}`,
    storedAt: '2026-12-06T14:00:00.000Z',
    ...extra,
  };
};
const fold = (events: StoredEvent[]): CatalogueState => {
  const s = initialCatalogue();
  for (const e of events) evolve(s, e);
  return s;
};
const caller = (tenant: string, admin = false): Caller => ({ actor: `${tenant}-user`, tenant, admin, requestId: 'r', at: '2026-12-06T14:00:00.000Z' });

describe('the catalogue of the log', () => {
  it('records an aggregate kind by its aggregate id, and a kind inside an aggregate by its data field', () => {
    seq = 0;
    const s = fold([
      ev('ipam', 'network', 'net-1', 'acme'), // 1
      ev('ipam', 'network', 'net-1', 'acme', { subnetId: 'sub-1' }), // 2
      ev('ipam', 'network', 'net-1', 'acme', { portId: 'port-1', hostId: 'hv1' }), // 3
      ev('secgroup', 'group', 'sg-1', 'acme'), // 4
      ev('ipam', 'network', 'net-1', 'acme', { portId: 'port-1' }), // 5
    ]);
    expect(entryOf(s, 'network', 'net-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 1, lastSeq: 5 });
    expect(entryOf(s, 'subnet', 'sub-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 2, lastSeq: 2 });
    expect(entryOf(s, 'port', 'port-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 3, lastSeq: 5 });
    expect(entryOf(s, 'security-group', 'sg-1')).toEqual({ aggregateId: 'sg-1', tenant: 'acme', firstSeq: 4, lastSeq: 4 });
    // hostId in a network's event names no hypervisor: hypervisors live in the cloud aggregate.
    expect(entryOf(s, 'hypervisor', 'hv1')).toBeUndefined();
    expect(s.seq).toBe(5);
  });

  it("keeps the first event's tenant as the owner: an operator resource stays _system when a tenant's event names it", () => {
    seq = 0;
    const s = fold([
      ev('ipam', 'cloud', 'cloud', '_system', { poolId: 'pool-1' }),
      ev('ipam', 'cloud', 'cloud', '_system', { hostId: 'hv1' }),
      ev('ipam', 'cloud', 'cloud', 'acme', { floatingIpId: 'fip-1', poolId: 'pool-1' }),
    ]);
    expect(entryOf(s, 'pool', 'pool-1')).toEqual({ aggregateId: 'cloud', tenant: '_system', firstSeq: 1, lastSeq: 3 });
    expect(entryOf(s, 'floating-ip', 'fip-1')).toEqual({ aggregateId: 'cloud', tenant: 'acme', firstSeq: 3, lastSeq: 3 });
    expect(entryOf(s, 'hypervisor', 'hv1')?.tenant).toBe('_system');
  });

  it('skips what names no resource: a non-string field, an id a locate could not ask for, an unreadable message, an unknown aggregate', () => {
    seq = 0;
    const events = [
      ev('ipam', 'network', 'net-1', 'acme', { portId: 42 }),
      ev('ipam', 'network', 'net-1', 'acme', { portId: '__proto__', subnetId: 'has.dot' }),
      ev('ipam', 'network', 'net-2', '', null, { unreadable: { reason: 'envelope', message: 'x' } }),
      ev('status', 'agent', 'hv1', '_system'),
      ev('ipam', 'network', 'net-1', 'acme', [1, 2]),
    ];
    const s = fold(events);
    expect(Object.keys(s.resources)).toEqual(['network']);
    expect(Object.keys(s.resources.network!)).toEqual(['net-1']);
    expect(Object.getPrototypeOf(s.resources.network)).toBe(Object.prototype);
    expect(isRelevant(events[3]!)).toBe(false);
    expect(isRelevant(events[0]!)).toBe(true);
    expect(s.seq).toBe(5);
  });

  it("takes a network's creation and deletion on the cloud aggregate (alsoIn): the network's first event, its subnets' and ports' last", () => {
    seq = 0;
    const s = fold([
      ev('ipam', 'cloud', 'default', 'acme', { networkId: 'net-1', name: 'n' }), // 1
      ev('ipam', 'cloud', 'default', 'bravo', { networkId: 'net-2', name: 'm' }), // 2
      ev('ipam', 'network', 'net-1', 'acme', { subnetId: 'sub-1' }), // 3
      ev('ipam', 'network', 'net-1', 'acme', { portId: 'port-1' }), // 4
      ev('ipam', 'network', 'net-2', 'bravo', { subnetId: 'sub-2' }), // 5
      ev('ipam', 'cloud', 'default', 'acme', { networkId: 'net-1' }), // 6: deleted
    ]);
    expect(entryOf(s, 'network', 'net-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 1, lastSeq: 6 });
    expect(entryOf(s, 'network', 'net-2')).toEqual({ aggregateId: 'net-2', tenant: 'bravo', firstSeq: 2, lastSeq: 5 });
    expect(entryOf(s, 'subnet', 'sub-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 3, lastSeq: 6 });
    expect(entryOf(s, 'port', 'port-1')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 4, lastSeq: 6 });
    expect(entryOf(s, 'subnet', 'sub-2')?.lastSeq).toBe(5);
    // Only the cloud aggregate's events carry a network's lifecycle: another aggregate's networkId names nothing.
    expect(touchedBy({ aggregate: { context: 'ipam', type: 'router', id: 'r1' }, data: { networkId: 'net-1', subnetId: 'sub-1' } })).toEqual([{ kind: 'router', id: 'r1', aggregateId: 'r1' }]);
  });

  it('keeps a resource in its first aggregate when the same id appears in another', () => {
    seq = 0;
    const s = fold([ev('ipam', 'network', 'net-1', 'acme', { portId: 'p' }), ev('ipam', 'network', 'net-2', 'evil', { portId: 'p' })]);
    expect(entryOf(s, 'port', 'p')).toEqual({ aggregateId: 'net-1', tenant: 'acme', firstSeq: 1, lastSeq: 1 });
  });

  it('names every kind of an aggregate an event touches', () => {
    expect(touchedBy({ aggregate: { context: 'nat', type: 'router', id: 'r1' }, data: {} })).toEqual([{ kind: 'router-gateway', id: 'r1', aggregateId: 'r1' }]);
    expect(touchedBy({ aggregate: { context: 'bgp', type: 'config', id: 'bgp' }, data: { peerId: 'p1', groupId: 'g1' } })).toEqual([
      { kind: 'bgp-peer', id: 'p1', aggregateId: 'bgp' },
      { kind: 'bgp-peer-group', id: 'g1', aggregateId: 'bgp' },
    ]);
  });

  it('survives a snapshot: the state is plain JSON', () => {
    seq = 0;
    const s = fold([ev('ipam', 'network', 'net-1', 'acme', { portId: 'constructor' })]);
    const back = JSON.parse(JSON.stringify(s)) as CatalogueState;
    expect(back).toEqual(s);
    evolve(back, ev('ipam', 'network', 'net-1', 'acme', { portId: 'constructor' }));
    expect(entryOf(back, 'port', 'constructor')?.lastSeq).toBe(2);
  });
});

describe('locating a resource', () => {
  seq = 0;
  const s = fold([
    ev('ipam', 'network', 'net-1', 'acme', { portId: 'port-1' }),
    ev('ipam', 'cloud', 'cloud', '_system', { hostId: 'hv1' }),
    ev('secgroup', 'group', 'sg-b', 'bravo'),
  ]);

  it("answers the owner and an admin", () => {
    expect(locate(s, caller('acme'), 'port', 'port-1').aggregateId).toBe('net-1');
    expect(locate(s, caller('ops', true), 'port', 'port-1').tenant).toBe('acme');
    expect(locate(s, caller('ops', true), 'hypervisor', 'hv1').tenant).toBe('_system');
  });

  it('answers every other case with the same NOT_FOUND: missing, another tenant, an operator kind, an inherited property name', () => {
    const cases: Array<[Caller, Parameters<typeof locate>[2], string]> = [
      [caller('acme'), 'port', 'port-2'],
      [caller('acme'), 'security-group', 'sg-b'],
      [caller('acme'), 'hypervisor', 'hv1'],
      [caller('acme'), 'port', 'constructor'],
      [caller('ops', true), 'network', 'toString'],
    ];
    for (const [c, kind, id] of cases) {
      expect(() => locate(s, c, kind, id)).toThrowError(expect.objectContaining({ code: 'NOT_FOUND', message: `${kind} ${id} not found` }));
    }
  });
});
