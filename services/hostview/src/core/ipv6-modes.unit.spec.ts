import { describe, expect, it } from 'vitest';
import { networkAggregate } from '@strata/contracts';
import { deriveHost } from './derive.js';
import { Given, plain, replay } from './test/given.js';

const A = 'tenant-a';

describe('IPv6 modes in the host view', () => {
  it('carries a subnet’s RA and address modes into the net key (left out when not set)', () => {
    const g = new Given();
    g.host('hv-1', '198.18.0.1', '203.0.113.11');
    g.network('net', A, 100);
    g.emit(
      'ipam.SubnetCreated',
      { subnetId: 'v6', name: 'v6', ipVersion: 6, cidr: '2001:db8:1::/64', gatewayIp: '2001:db8:1::1', allocationPools: [], enableDhcp: true, ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' },
      networkAggregate('net'),
      A,
    );
    g.subnet('net', 'v4', '10.0.0.0/24', '10.0.0.1', A);
    g.port('net', 'p1', 'hv-1', '52:54:00:12:34:56', [{ subnetId: 'v6', ip: '2001:db8:1:0:5054:ff:fe12:3456' }], A);
    const net = plain(deriveHost(replay(g.events), 'hv-1'))['hv-1.net.net'] as { subnets: unknown[] };
    expect(net.subnets).toEqual([
      { id: 'v4', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true },
      { id: 'v6', ipVersion: 6, cidr: '2001:db8:1::/64', gatewayIp: '2001:db8:1::1', enableDhcp: true, ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' },
    ]);
  });
});
