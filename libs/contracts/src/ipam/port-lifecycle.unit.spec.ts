import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { networkAggregate, type IpamEvent } from './events.js';
import {
  applyPortEvent,
  isPortEvent,
  portAddresses,
  portTransition,
  removePort,
  type FollowedPort,
  type FollowedPorts,
  type IpamPortEvent,
  type PortEvent,
  type PortTransition,
} from './port-lifecycle.js';

const META = { id: 'e', version: 1, actor: 'ipam', correlationId: 'c', causationId: null, occurredAt: '2026-01-01T00:00:00.000Z', subject: 's', storedAt: '2026-01-01T00:00:00.000Z' };

const created = (seq: number, portId: string, o: { tenant?: string; networkId?: string; hostId?: string | null; ips?: string[] } = {}): IpamPortEvent => ({
  ...META,
  seq,
  type: 'ipam.PortCreated',
  tenant: o.tenant ?? 't1',
  aggregate: networkAggregate(o.networkId ?? 'n1'),
  data: { portId, name: 'vm', mac: '02:00:00:00:00:01', fixedIps: (o.ips ?? ['10.0.0.5']).map((ip) => ({ subnetId: 's1', ip })), hostId: o.hostId ?? null, deviceId: 'dev' },
});
const bound = (seq: number, portId: string, hostId: string | null, networkId = 'n1'): IpamPortEvent => ({
  ...META,
  seq,
  type: 'ipam.PortBound',
  tenant: 't1',
  aggregate: networkAggregate(networkId),
  data: { portId, hostId, previousHostId: null },
});
const updated = (
  seq: number,
  portId: string,
  o: { ips?: string[]; before?: string[]; deviceId?: string; adminStateUp?: boolean; pairs?: string[]; name?: string } = {},
  networkId = 'n1',
): IpamPortEvent => {
  const fixed = (ips: string[]) => ips.map((ip) => ({ subnetId: 's1', ip }));
  const before = o.before ?? [];
  return {
    ...META,
    seq,
    type: 'ipam.PortUpdated',
    tenant: 't1',
    aggregate: networkAggregate(networkId),
    data: {
      portId,
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.ips ? { fixedIps: { before: fixed(before), after: fixed(o.ips), released: fixed(before.filter((ip) => !o.ips!.includes(ip))), allocated: fixed(o.ips.filter((ip) => !before.includes(ip))) } } : {}),
      ...(o.deviceId !== undefined ? { deviceId: o.deviceId } : {}),
      ...(o.adminStateUp !== undefined ? { adminStateUp: o.adminStateUp } : {}),
      ...(o.pairs ? { allowedAddressPairs: o.pairs.map((ipAddress) => ({ ipAddress, macAddress: '02:00:00:00:00:01' })) } : {}),
    },
  };
};
const deleted = (seq: number, portId: string, networkId = 'n1'): IpamPortEvent => ({
  ...META,
  seq,
  type: 'ipam.PortDeleted',
  tenant: 't1',
  aggregate: networkAggregate(networkId),
  data: { portId, releasedIps: [] },
});

describe('the IPAM port lifecycle fold', () => {
  it('given a creation, then the port is on the aggregate’s network, owned by the envelope’s tenant, with its addresses and the sequence of its claim', () => {
    const ports: FollowedPorts = {};
    const t = applyPortEvent(ports, created(7, 'p1', { tenant: 'ta', networkId: 'net-9', hostId: 'hv1', ips: ['10.0.0.5', '2001:db8::5'] }));
    const port = { id: 'p1', tenant: 'ta', networkId: 'net-9', mac: '02:00:00:00:00:01', deviceId: 'dev', fixedIps: [{ subnetId: 's1', ip: '10.0.0.5' }, { subnetId: 's1', ip: '2001:db8::5' }], hostId: 'hv1', createdSeq: 7 };
    expect(t).toEqual({ lifecycle: 'created', portId: 'p1', before: null, after: port });
    expect(ports).toEqual({ p1: port });
    expect(portAddresses(ports['p1']!)).toEqual(['10.0.0.5', '2001:db8::5']);
  });

  it('given a bind to another host (a move), then only the host changes and the old value is left as it was', () => {
    const ports: FollowedPorts = {};
    applyPortEvent(ports, created(1, 'p1', { hostId: 'hv1' }));
    const old = ports['p1']!;
    const t = applyPortEvent(ports, bound(2, 'p1', 'hv2'));
    expect(t?.before).toBe(old);
    expect(old.hostId).toBe('hv1');
    expect(ports['p1']).toEqual({ ...old, hostId: 'hv2' });
    expect(applyPortEvent(ports, bound(3, 'p1', null))?.after?.hostId).toBeNull();
  });

  it('given a bind to the host it is on, or a bind or delete of a port it does not know, then nothing changes', () => {
    const ports: FollowedPorts = {};
    applyPortEvent(ports, created(1, 'p1', { hostId: 'hv1' }));
    const before = structuredClone(ports);
    expect(applyPortEvent(ports, bound(2, 'p1', 'hv1'))).toBeNull();
    expect(applyPortEvent(ports, bound(3, 'p2', 'hv1'))).toBeNull();
    expect(applyPortEvent(ports, deleted(4, 'p2'))).toBeNull();
    expect(ports).toEqual(before);
  });

  it('given an update that moves an address, then the port has the new one and the old value is left as it was; host, network and place in the table stay', () => {
    const ports = new Map<string, FollowedPort>();
    applyPortEvent(ports, created(1, 'p1', { hostId: 'hv1', ips: ['10.0.0.5', '2001:db8::5'] }));
    applyPortEvent(ports, created(2, 'p2'));
    const old = ports.get('p1')!;
    const t = applyPortEvent(ports, updated(3, 'p1', { before: ['10.0.0.5', '2001:db8::5'], ips: ['10.0.0.6', '2001:db8::5'] }));
    expect(t).toEqual({ lifecycle: 'updated', portId: 'p1', before: old, after: { ...old, fixedIps: [{ subnetId: 's1', ip: '10.0.0.6' }, { subnetId: 's1', ip: '2001:db8::5' }] } });
    expect(portAddresses(old)).toEqual(['10.0.0.5', '2001:db8::5']);
    expect(portAddresses(ports.get('p1')!)).toEqual(['10.0.0.6', '2001:db8::5']);
    expect([...ports.keys()]).toEqual(['p1', 'p2']);
  });

  it('given an update of device, admin state or pairs, then the port carries them (admin state left out when up); of name alone, nothing changes', () => {
    const ports: FollowedPorts = {};
    applyPortEvent(ports, created(1, 'p1'));
    const old = ports['p1']!;
    expect(applyPortEvent(ports, updated(2, 'p1', { name: 'web' }))).toBeNull();
    expect(ports['p1']).toBe(old);
    const down = applyPortEvent(ports, updated(3, 'p1', { adminStateUp: false, deviceId: 'vm-2', pairs: ['10.0.0.100'] }));
    expect(down?.after).toEqual({ ...old, deviceId: 'vm-2', adminStateUp: false, allowedAddressPairs: [{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:01' }] });
    const up = applyPortEvent(ports, updated(4, 'p1', { adminStateUp: true, pairs: [] }));
    expect(up?.after).toEqual({ ...old, deviceId: 'vm-2' });
    expect(applyPortEvent(ports, updated(5, 'p1', { adminStateUp: true }))).toBeNull();
    expect(applyPortEvent(ports, updated(6, 'nope', { ips: ['10.0.0.9'] }))).toBeNull();
  });

  it('given a deletion, then the port is gone and the transition names what it was', () => {
    const ports: FollowedPorts = {};
    applyPortEvent(ports, created(1, 'p1'));
    const old = ports['p1']!;
    expect(applyPortEvent(ports, deleted(2, 'p1'))).toEqual({ lifecycle: 'deleted', portId: 'p1', before: old, after: null });
    expect(ports).toEqual({});
  });

  it('given a creation of a port it knows (IPAM never writes one), then the new port replaces the old', () => {
    const ports: FollowedPorts = {};
    applyPortEvent(ports, created(1, 'p1', { tenant: 'ta' }));
    const t = applyPortEvent(ports, created(2, 'p1', { tenant: 'tb', networkId: 'n2' }));
    expect(t?.lifecycle).toBe('created');
    expect(t?.before?.tenant).toBe('ta');
    expect(ports['p1']).toMatchObject({ tenant: 'tb', networkId: 'n2', createdSeq: 2 });
  });

  it('given a port the follower drops on its own grounds, then the same step as its deletion; one it does not know changes nothing', () => {
    const ports = new Map<string, FollowedPort>();
    applyPortEvent(ports, created(1, 'p1'));
    const old = ports.get('p1')!;
    expect(removePort(ports, 'p1')).toEqual({ lifecycle: 'deleted', portId: 'p1', before: old, after: null });
    expect(removePort(ports, 'p1')).toBeNull();
    expect(ports.size).toBe(0);
  });

  it('given a slim event (only type, data, tenant, sequence and aggregate, as a model keeps it), then the same fold', () => {
    const full = created(5, 'p1', { hostId: 'hv1' });
    const slim: PortEvent = { type: 'ipam.PortCreated', data: full.data, tenant: full.tenant, seq: full.seq, aggregate: full.aggregate };
    expect(portTransition(undefined, slim)).toEqual(portTransition(undefined, full));
  });

  it('tells the port lifecycle from the rest of IPAM’s events', () => {
    expect(isPortEvent(created(1, 'p1'))).toBe(true);
    const other = { ...META, seq: 1, tenant: 't1', type: 'ipam.RouterDeleted', aggregate: { context: 'ipam', type: 'router', id: 'r' }, data: { routerId: 'r' } } as IpamEvent;
    expect(isPortEvent(other)).toBe(false);
  });

  // Any log over a few ports, networks and hosts (valid for IPAM or not).
  const logs = fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant('create' as const), port: fc.integer({ min: 0, max: 3 }), tenant: fc.constantFrom('ta', 'tb'), net: fc.constantFrom('n1', 'n2'), host: fc.constantFrom(null, 'hv1', 'hv2'), ips: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2', 'fd00::1'), { maxLength: 2 }) }),
        fc.record({ kind: fc.constant('bind' as const), port: fc.integer({ min: 0, max: 3 }), host: fc.constantFrom(null, 'hv1', 'hv2') }),
        fc.record({ kind: fc.constant('delete' as const), port: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ kind: fc.constant('update' as const), port: fc.integer({ min: 0, max: 3 }), ips: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.3', 'fd00::1'), { maxLength: 2 }), admin: fc.option(fc.boolean(), { nil: undefined }) }),
      ),
      { maxLength: 40 },
    )
    .map((ops) =>
      ops.map((op, i): IpamPortEvent => {
        const id = `p${op.port}`;
        if (op.kind === 'create') return created(i + 1, id, { tenant: op.tenant, networkId: op.net, hostId: op.host, ips: op.ips });
        if (op.kind === 'update') return updated(i + 1, id, { ips: op.ips, ...(op.admin !== undefined ? { adminStateUp: op.admin } : {}) });
        return op.kind === 'bind' ? bound(i + 1, id, op.host) : deleted(i + 1, id);
      }),
    );

  it('property: the table is what a plain reading of the log says (alive since its last creation, on the host of its last bind, with the addresses and admin state of its last update)', () => {
    fc.assert(
      fc.property(logs, (log) => {
        const ports: FollowedPorts = {};
        for (const e of log) applyPortEvent(ports, e);
        const expected: Record<string, { tenant: string; networkId: string; hostId: string | null; ips: string[]; createdSeq: number; up: boolean }> = {};
        for (const e of log) {
          const p = expected[e.data.portId];
          if (e.type === 'ipam.PortCreated') expected[e.data.portId] = { tenant: e.tenant, networkId: e.aggregate.id, hostId: e.data.hostId, ips: e.data.fixedIps.map((f) => f.ip), createdSeq: e.seq, up: true };
          else if (e.type === 'ipam.PortBound') {
            if (p) p.hostId = e.data.hostId;
          } else if (e.type === 'ipam.PortUpdated') {
            if (p && e.data.fixedIps) p.ips = e.data.fixedIps.after.map((f) => f.ip);
            if (p && e.data.adminStateUp !== undefined) p.up = e.data.adminStateUp;
          } else delete expected[e.data.portId];
        }
        const actual = Object.fromEntries(
          Object.values(ports).map((p) => [p.id, { tenant: p.tenant, networkId: p.networkId, hostId: p.hostId, ips: portAddresses(p), createdSeq: p.createdSeq, up: p.adminStateUp ?? true }]),
        );
        expect(actual).toEqual(expected);
      }),
    );
  });

  it('property: transitions chain (each before is the port’s previous after), null exactly when the table is unchanged, and no port value is ever mutated', () => {
    fc.assert(
      fc.property(logs, (log) => {
        const ports: FollowedPorts = {};
        const last = new Map<string, PortTransition['after']>();
        const seen: { value: unknown; copy: unknown }[] = [];
        for (const e of log) {
          const before = structuredClone(ports);
          const pure = portTransition(ports[e.data.portId], e);
          const t = applyPortEvent(ports, e);
          expect(t).toEqual(pure);
          if (t === null) {
            expect(ports).toEqual(before);
            continue;
          }
          expect(ports).not.toEqual(before);
          expect(t.before).toBe(last.get(t.portId) ?? null);
          expect(ports[t.portId] ?? null).toBe(t.after);
          last.set(t.portId, t.after);
          for (const v of [t.before, t.after]) if (v) seen.push({ value: v, copy: structuredClone(v) });
        }
        for (const { value, copy } of seen) expect(value).toEqual(copy);
      }),
    );
  });

  it('property: a snapshot (JSON) taken anywhere and folded on equals the straight fold', () => {
    fc.assert(
      fc.property(logs, fc.nat(), (log, at) => {
        const cut = log.length === 0 ? 0 : at % (log.length + 1);
        const straight: FollowedPorts = {};
        for (const e of log) applyPortEvent(straight, e);
        const head: FollowedPorts = {};
        for (const e of log.slice(0, cut)) applyPortEvent(head, e);
        const resumed = JSON.parse(JSON.stringify(head)) as FollowedPorts;
        for (const e of log.slice(cut)) applyPortEvent(resumed, e);
        expect(resumed).toEqual(straight);
      }),
    );
  });

  it('property: a Map and a JSON record fold alike, and both iterate in the order a fresh replay of the surviving creations gives', () => {
    fc.assert(
      fc.property(logs, (log) => {
        const record: FollowedPorts = {};
        const map = new Map<string, FollowedPort>();
        for (const e of log) expect(applyPortEvent(map, e)).toEqual(applyPortEvent(record, e));
        expect([...map.entries()]).toEqual(Object.entries(record));
        const byCreation = [...map.values()].sort((a, b) => a.createdSeq - b.createdSeq).map((p) => p.id);
        expect([...map.keys()]).toEqual(byCreation);
      }),
    );
  });
});
