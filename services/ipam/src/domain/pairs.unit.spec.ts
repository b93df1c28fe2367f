import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { ErrorCode, StrataError } from '@strata/errors';
import { judgeGarp } from './decide/index.js';
import { queries } from './test/pairs.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    expect((e as StrataError).code).toBe(code);
    expect((e as StrataError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error, got a decision');
}

function setup() {
  const w = new World();
  w.run('hypervisor.register', { id: 'hv1', vtepIp: '198.18.0.1', hostPoolId: pool(w) });
  w.run('hypervisor.register', { id: 'hv2', vtepIp: '198.18.0.2', hostPoolId: pool(w) });
  const { networkId } = w.networkWithSubnet('10.0.0.0/24');
  const a = w.run('port.create', { networkId, hostId: 'hv1', mac: '02:00:00:00:00:0a' }, tenantA).resourceId;
  const b = w.run('port.create', { networkId, hostId: 'hv2', mac: '02:00:00:00:00:0b' }, tenantA).resourceId;
  return { w, networkId, a, b };
}

let poolId: string | undefined;
function pool(w: World): string {
  if (poolId && w.state.cloud.pools[poolId]) return poolId;
  poolId = w.run('pool.create', { name: 'h', cidr: '203.0.113.0/24', purpose: 'host-ip' }).resourceId;
  return poolId;
}

describe('allowed address pairs: setting them', () => {
  it('records each pair with an explicit MAC (the port own when none is given) and a canonical address (setAllowedAddressPairs is port.update with the pairs)', () => {
    const { w, a } = setup();
    const d = w.run('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [{ ipAddress: '10.0.0.100/32' }, { ipAddress: '10.0.0.128/25', macAddress: '00:00:5E:00:01:07' }] }, tenantA);
    expect(d.event).toEqual({
      type: 'ipam.PortUpdated',
      data: {
        portId: a,
        allowedAddressPairs: [
          { ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0a' },
          { ipAddress: '10.0.0.128/25', macAddress: '00:00:5e:00:01:07' },
        ],
      },
    });
    expect(queries.port(w, a).allowedAddressPairs).toHaveLength(2);
    // The same pairs again: nothing to write.
    expect(w.decide('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [{ ipAddress: '10.0.0.100' }, { ipAddress: '10.0.0.128/25', macAddress: '00:00:5e:00:01:07' }] }, tenantA).kind).toBe('done');
  });

  it('takes pairs at port creation', () => {
    const { w, networkId } = setup();
    const d = w.run('port.create', { networkId, mac: '02:00:00:00:00:0c', allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }, tenantA);
    expect(d.event.type === 'ipam.PortCreated' && d.event.data.allowedAddressPairs).toEqual([{ ipAddress: '10.0.0.100', macAddress: '02:00:00:00:00:0c' }]);
    // Without pairs the event has no such field, as before pairs existed.
    const e = w.run('port.create', { networkId }, tenantA);
    expect(e.event.type === 'ipam.PortCreated' && 'allowedAddressPairs' in e.event.data).toBe(false);
  });

  it('refuses bad pairs with a clear error and decides nothing', () => {
    const { w, a, networkId } = setup();
    const set = (pairs: Array<{ ipAddress: string; macAddress?: string }>) => () => w.decide('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: pairs }, tenantA);
    expect(set([{ ipAddress: '10.0.0.300' }])).toThrow(ZodError);
    expect(set([{ ipAddress: '10.0.0.1/24' }])).toThrow(/host bits set/);
    expect(set([{ ipAddress: '10.0.0.5', macAddress: '01:00:5e:00:00:01' }])).toThrow(/unicast/);
    expect(set(Array.from({ length: 11 }, (_, i) => ({ ipAddress: `10.0.0.${100 + i}` })))).toThrow(/at most 10 allowed address pairs/);
    expectError(set([{ ipAddress: 'fd00::5' }]), ErrorCode.InvalidArgument, /fd00::5 is IPv6 but network .* has no IPv6 subnet/);
    expectError(set([{ ipAddress: '10.0.0.5' }, { ipAddress: '10.0.0.5/32' }]), ErrorCode.InvalidArgument, /10\.0\.0\.5 with MAC 02:00:00:00:00:0a is given twice/);
    const own = w.state.networks[networkId]!.ports[a]!.fixedIps[0]!.ip;
    expectError(set([{ ipAddress: own }]), ErrorCode.InvalidArgument, /the port's own fixed IP and MAC/);
    // Another tenant's port is not found, exactly like a missing one.
    expectError(() => w.decide('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [] }, tenantB), ErrorCode.NotFound, /port/);
  });
});

describe('allowed address pairs: the owner of an address, from GARP reports', () => {
  function withVip() {
    const s = setup();
    for (const id of [s.a, s.b]) s.w.run('port.setAllowedAddressPairs', { id, allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }, tenantA);
    return s;
  }
  const report = (hostId: string, portId: string, mac: string, ip = '10.0.0.100') => ({ hostId, portId, ip, mac });

  it('a GARP from the port own host for a pair address makes the port its owner; the other port taking over records the previous one', () => {
    const { w, networkId, a, b } = withVip();
    const v = judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a'));
    expect(v.kind).toBe('owner');
    if (v.kind !== 'owner') return;
    expect(v.decision.aggregate).toEqual({ context: 'ipam', type: 'network', id: networkId });
    expect(v.decision.event).toEqual({
      type: 'ipam.AddressPairOwnerChanged',
      data: { networkId, ip: '10.0.0.100', portId: a, mac: '02:00:00:00:00:0a', previousPortId: null, observedBy: 'hv1' },
    });
    w.apply(v.decision);
    expect(queries.port(w, a).ownedAddresses).toEqual(['10.0.0.100']);
    // The same again: unchanged (idempotent).
    expect(judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a')).kind).toBe('unchanged');
    const next = judgeGarp(w.state, 'hv2', report('hv2', b, '02:00:00:00:00:0B'));
    expect(next.kind === 'owner' && next.decision.event.data).toMatchObject({ portId: b, previousPortId: a, observedBy: 'hv2' });
    if (next.kind === 'owner') w.apply(next.decision);
    expect(queries.port(w, a).ownedAddresses).toEqual([]);
    expect(queries.port(w, b).ownedAddresses).toEqual(['10.0.0.100']);
  });

  it('ignores reports from another host, for addresses or MACs not in the pairs, and about unknown ports', () => {
    const { w, a } = withVip();
    expect(judgeGarp(w.state, 'hv2', report('hv2', a, '02:00:00:00:00:0a'))).toEqual({ kind: 'ignore', reason: 'wrong-host' });
    expect(judgeGarp(w.state, 'hv2', report('hv1', a, '02:00:00:00:00:0a'))).toEqual({ kind: 'ignore', reason: 'reporter-mismatch' });
    expect(judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a', '10.0.0.101'))).toEqual({ kind: 'ignore', reason: 'not-a-pair' });
    expect(judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0b'))).toEqual({ kind: 'ignore', reason: 'not-a-pair' });
    expect(judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a', 'nonsense'))).toEqual({ kind: 'ignore', reason: 'not-a-pair' });
    expect(judgeGarp(w.state, 'hv1', report('hv1', '00000000-0000-4000-8000-000000000009', '02:00:00:00:00:0a'))).toEqual({ kind: 'ignore', reason: 'unknown-port' });
  });

  it('an address within a CIDR pair can be owned; the ownership ends when the pair goes or the port is deleted', () => {
    const { w, networkId, a } = setup();
    w.run('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [{ ipAddress: '10.0.0.128/25' }] }, tenantA);
    const v = judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a', '10.0.0.200'));
    if (v.kind !== 'owner') throw new Error(`expected an owner, got ${v.kind}`);
    w.apply(v.decision);
    expect(w.state.networks[networkId]!.pairOwners).toEqual({ '10.0.0.200': { portId: a, mac: '02:00:00:00:00:0a' } });
    w.run('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }, tenantA);
    expect(w.state.networks[networkId]!.pairOwners).toEqual({});
    w.run('port.setAllowedAddressPairs', { id: a, allowedAddressPairs: [{ ipAddress: '10.0.0.100' }, { ipAddress: '10.0.0.128/25' }] }, tenantA);
    const again = judgeGarp(w.state, 'hv1', report('hv1', a, '02:00:00:00:00:0a', '10.0.0.100'));
    if (again.kind === 'owner') w.apply(again.decision);
    w.run('port.delete', { id: a }, admin);
    expect(w.state.networks[networkId]!.pairOwners).toEqual({});
  });
});
