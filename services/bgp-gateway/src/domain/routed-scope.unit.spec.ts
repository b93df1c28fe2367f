/**
 * The gateway folds IPAM's routed pools from the log (PoolCreated/PoolDeleted
 * of purpose `routed`; other purposes are not routed space) and originates a
 * routed subnet and its ports' host routes only inside one. A log with a
 * routed subnet outside every pool (an old log) folds without error.
 */
import { describe, expect, it } from 'vitest';
import { bgpEvents, ipamEvents } from '@strata/contracts';
import { EventFixture } from '@strata/service-kit/testing';
import { desiredAdvertisements } from './desired-table.js';
import type { NewBgpEvent } from './decide/index.js';
import { applyStored } from './evolve.js';
import { unscopedRoutedSubnets } from './routed-scope.js';
import { initialState, type BgpState } from './state.js';

const cloud = { context: 'ipam', type: 'cloud', id: 'default' } as const;
const net = { context: 'ipam', type: 'network', id: 'n1' } as const;

function fabric(): EventFixture<BgpState, NewBgpEvent> {
  const w = new EventFixture<BgpState, NewBgpEvent>(initialState(), applyStored, bgpEvents);
  w.storeOf(ipamEvents, 'ipam.PoolCreated', cloud, { poolId: 'fip', name: '', cidr: '203.0.113.0/24', purpose: 'floating-ip' }, '_system');
  w.storeOf(ipamEvents, 'ipam.HypervisorRegistered', cloud, { hostId: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.1', hostPoolId: 'fip' }, '_system');
  w.storeOf(ipamEvents, 'ipam.NetworkCreated', cloud, { networkId: 'n1', name: 'web', vni: 100, mtu: 1450, routed: true }, 't');
  w.storeOf(ipamEvents, 'ipam.SubnetCreated', net, { subnetId: 'in', name: '', ipVersion: 4, cidr: '198.51.100.0/25', gatewayIp: null, allocationPools: [], enableDhcp: false }, 't');
  w.storeOf(ipamEvents, 'ipam.SubnetCreated', net, { subnetId: 'fipspace', name: '', ipVersion: 4, cidr: '203.0.113.128/25', gatewayIp: null, allocationPools: [], enableDhcp: false }, 't');
  w.storeOf(ipamEvents, 'ipam.SubnetCreated', net, { subnetId: 'default6', name: '', ipVersion: 6, cidr: '::/0', gatewayIp: null, allocationPools: [], enableDhcp: false }, 't');
  const fixedIps = [
    { subnetId: 'in', ip: '198.51.100.5' },
    { subnetId: 'fipspace', ip: '203.0.113.200' },
    { subnetId: 'default6', ip: '2001:db8::5' },
  ];
  w.storeOf(ipamEvents, 'ipam.PortCreated', net, { portId: 'p1', name: '', mac: '02:00:00:00:00:01', fixedIps, hostId: 'hv1', deviceId: '' }, 't');
  return w;
}

const routed = (w: EventFixture<BgpState, NewBgpEvent>): string[] =>
  [...desiredAdvertisements(w.state).values()].filter((a) => a.kind !== 'host-ip').map((a) => a.prefix).sort();

describe("the gateway's routed address space, folded from IPAM's events", () => {
  it('without a routed pool nothing routed is originated (a floating-IP pool is not routed space); the log still folds', () => {
    const w = fabric();
    expect(routed(w)).toEqual([]);
    expect(unscopedRoutedSubnets(w.state).map((s) => s.subnetId)).toEqual(['default6', 'fipspace', 'in']);
  });

  it('a routed pool brings in the subnets inside it and their host routes; its deletion takes them out', () => {
    const w = fabric();
    w.storeOf(ipamEvents, 'ipam.PoolCreated', cloud, { poolId: 'r4', name: '', cidr: '198.51.100.0/24', purpose: 'routed' }, '_system');
    expect(routed(w)).toEqual(['198.51.100.0/25', '198.51.100.5/32']);
    expect(unscopedRoutedSubnets(w.state).map((s) => s.subnetId)).toEqual(['default6', 'fipspace']);
    w.storeOf(ipamEvents, 'ipam.PoolDeleted', cloud, { poolId: 'r4' }, '_system');
    expect(routed(w)).toEqual([]);
  });
});
