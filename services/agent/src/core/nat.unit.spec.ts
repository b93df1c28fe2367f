import { describe, expect, it } from 'vitest';
import { gatewayMac } from '@strata/contracts';
import { desiredNat } from './nat.js';
import type { HostViewSnapshot } from './snapshot.js';
import { HOST_NS, type KernelState } from './types.js';

const NET = 'aaaaaaaa-0000-4000-8000-000000000001';
const ROUTER = 'bbbbbbbb-1111-4000-8000-000000000002';
const NS = 'p-dbbbbbbbb1111';
const SX = 'sxbbbbbbbb1111';

/** A host with one routed network of a router: an IPv4 and an IPv6 subnet (`v6`: text as IPAM may hold it). */
const view = (routed: boolean, v6 = '2001:DB8:600:0::/64'): HostViewSnapshot => ({
  host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
  networks: {
    [NET]: {
      id: NET,
      tenant: 't',
      vni: 100,
      mtu: 1450,
      domainId: ROUTER,
      gatewayMac: gatewayMac(100),
      floodVteps: [],
      ...(routed ? { routed: true } : {}),
      subnets: [
        { id: 's4', ipVersion: 4, cidr: '203.0.113.128/27', gatewayIp: '203.0.113.129', enableDhcp: true },
        { id: 's6', ipVersion: 6, cidr: v6, gatewayIp: '2001:db8:600::1', enableDhcp: false },
      ],
    },
  },
  ports: {},
  endpoints: {},
  domains: { [ROUTER]: { id: ROUTER, tenant: 't', kind: 'router', networkIds: [NET] } },
  groups: {},
  members: {},
  chains: {},
  l2gateways: {},
});

const namespaces: KernelState['namespaces'] = { [NS]: { name: NS, sysctls: {} } };
const v6Routes = (k: KernelState) => Object.values(k.routes).filter((r) => r.dst.includes(':'));
const v6Addrs = (k: KernelState) => Object.values(k.addrs).filter((a) => a.cidr.includes(':'));

describe('desired NAT state: routed IPv6 subnets', () => {
  it('given a routed network with an IPv6 subnet, then the subnet is routed into the domain over link-local ends, guarded, and the host forwards IPv6', () => {
    const k = desiredNat(view(true), 'p-', namespaces);
    expect(v6Addrs(k)).toEqual([
      { ns: HOST_NS, dev: SX, cidr: 'fe80::1/64' },
      { ns: NS, dev: 'ext', cidr: 'fe80::2/64' },
    ]);
    expect(v6Routes(k)).toEqual([
      { ns: NS, dst: '::/0', dev: 'ext', via: 'fe80::1' },
      { ns: HOST_NS, dst: '2001:db8:600::/64', dev: SX, via: 'fe80::2' },
    ]);
    expect(k.hostSysctls['net.ipv6.conf.all.forwarding']).toBe('1');
    expect(k.nsNft[NS]!.tables.ip6!.chains.guard!.rules.map((r) => r.text)).toEqual([
      'iifname "ext" ct state established,related accept',
      'iifname "ext" ip6 daddr 2001:db8:600::/64 accept',
      'iifname "ext" drop',
      'oifname "ext" ip6 saddr 2001:db8:600::/64 accept',
      'oifname "ext" drop',
    ]);
  });

  it('given the network not routed, or routed with IPv4 only, then nothing IPv6 at all', () => {
    for (const k of [desiredNat(view(false), 'p-', namespaces), desiredNat({ ...view(true), networks: { [NET]: { ...view(true).networks[NET]!, subnets: view(true).networks[NET]!.subnets.slice(0, 1) } } }, 'p-', namespaces)]) {
      expect(v6Addrs(k)).toEqual([]);
      expect(v6Routes(k)).toEqual([]);
      expect(k.hostSysctls['net.ipv6.conf.all.forwarding']).toBeUndefined();
      expect(k.nsNft[NS]?.tables.ip6).toBeUndefined();
    }
  });
});
