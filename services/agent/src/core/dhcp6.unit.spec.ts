import { describe, expect, it } from 'vitest';
import { gatewayMac, type SubnetInfo } from '@strata/contracts';
import { desiredState } from '../dataplane/managers.js';
import { dnsmasqPaths, renderConfig, renderHosts } from '../kernel/dnsmasq.js';
import { serverDuid } from './dhcp6.js';
import type { HostViewSnapshot } from './snapshot.js';

const NET = 'aaaaaaaa-0000-4000-8000-000000000001';
const ROUTER = 'bbbbbbbb-1111-4000-8000-000000000002';
const PORT = 'cccccccc-2222-4000-8000-000000000003';
const NS = 'p-dbbbbbbbb1111';

const v6 = (id: string, n: number, modes: Partial<SubnetInfo>): SubnetInfo => ({ id, ipVersion: 6, cidr: `2001:db8:${n}::/64`, gatewayIp: `2001:db8:${n}::1`, enableDhcp: true, ...modes });

const view = (subnets: SubnetInfo[], fixedIps: { subnetId: string; ip: string }[]): HostViewSnapshot => ({
  host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
  networks: { [NET]: { id: NET, tenant: 't', vni: 100, mtu: 1450, domainId: ROUTER, gatewayMac: gatewayMac(100), floodVteps: [], subnets } },
  ports: { [PORT]: { id: PORT, tenant: 't', networkId: NET, mac: '52:54:00:12:34:56', device: 'tapc', fixedIps, groupIds: [], portSecurity: true } },
  endpoints: {},
  domains: { [ROUTER]: { id: ROUTER, tenant: 't', kind: 'router', networkIds: [NET] } },
  groups: {},
  members: {},
  chains: {},
  l2gateways: {},
});

const dhcpOf = (v: HostViewSnapshot) => desiredState(v, { nsPrefix: 'p-' }).dhcp[NS];

describe('IPv6: RAs and DHCPv6 from the gateway (dnsmasq)', () => {
  it('given SLAAC, DHCPv6-stateless and -stateful subnets with RA modes, then one range each with the mode its flags need', () => {
    const v = view(
      [
        v6('a', 1, { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }),
        v6('b', 2, { ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: 'dhcpv6-stateless' }),
        v6('c', 3, { ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' }),
      ],
      [
        { subnetId: 'a', ip: '2001:db8:1:0:5054:ff:fe12:3456' },
        { subnetId: 'b', ip: '2001:db8:2:0:5054:ff:fe12:3456' },
        { subnetId: 'c', ip: '2001:db8:3::7' },
      ],
    );
    const spec = dhcpOf(v)!;
    // Only the stateful subnet's address is a static lease; the SLAAC/stateless ones the VM makes itself.
    expect(spec.hosts).toEqual([{ mac: '52:54:00:12:34:56', ips: ['2001:db8:3::7'] }]);
    expect(renderHosts(spec)).toBe('52:54:00:12:34:56,[2001:db8:3::7]\n');
    const conf = renderConfig(spec, dnsmasqPaths('/s', NS)).split('\n');
    expect(conf.filter((l) => /^(dhcp-range|enable-ra|ra-param|dhcp-duid|interface)/.test(l))).toEqual([
      'interface=qr100',
      `dhcp-duid=${serverDuid(ROUTER)}`,
      // M flag on the stateful prefix needs dnsmasq's global enable-ra.
      'enable-ra',
      'ra-param=qr100,mtu:1450,60,1800',
      'dhcp-range=set:n100s60,2001:db8:1::,ra-only,64,86400',
      'dhcp-range=set:n100s61,2001:db8:2::,ra-stateless,64,86400',
      'dhcp-range=set:n100s62,2001:db8:3::,static,64,86400',
    ]);
    // No IPv4 subnet here: no IPv4 ranges or options.
    expect(conf.some((l) => l.startsWith('dhcp-option='))).toBe(false);
  });

  it('given only a SLAAC subnet, then RAs without enable-ra, and the port is listed by MAC alone (known, no lease)', () => {
    const spec = dhcpOf(view([v6('a', 1, { ipv6RaMode: 'slaac' })], [{ subnetId: 'a', ip: '2001:db8:1:0:5054:ff:fe12:3456' }]))!;
    expect(spec.v6).toMatchObject({ enableRa: false, raParams: [{ iface: 'qr100', mtu: 1450 }] });
    expect(renderHosts(spec)).toBe('52:54:00:12:34:56\n');
  });

  it('given an address mode without an RA mode, then DHCPv6 only (stateful, stateless) or nothing at all (SLAAC)', () => {
    const stateful = dhcpOf(view([v6('c', 3, { ipv6AddressMode: 'dhcpv6-stateful' })], [{ subnetId: 'c', ip: '2001:db8:3::7' }]))!;
    expect(stateful.v6).toMatchObject({ enableRa: false, raParams: [], subnets: [{ mode: 'dhcpv6-stateful', ra: false }] });
    const stateless = dhcpOf(view([v6('b', 2, { ipv6AddressMode: 'dhcpv6-stateless' })], []))!;
    expect(renderConfig(stateless, dnsmasqPaths('/s', NS))).toContain('dhcp-range=set:n100s60,2001:db8:2::,static,64,86400\n');
    expect(dhcpOf(view([v6('a', 1, { ipv6AddressMode: 'slaac' })], []))).toBeUndefined();
  });

  it('given IPv6 subnets without modes, or with DHCP off, then no server (as before)', () => {
    expect(dhcpOf(view([v6('a', 1, {})], []))).toBeUndefined();
    expect(dhcpOf(view([v6('a', 1, { ipv6RaMode: 'slaac', enableDhcp: false })], []))).toBeUndefined();
  });

  it("given a stateless or stateful subnet's DNS servers, then DHCPv6 option 23 with its IPv6 ones (the IPv4 ones are DHCPv4's)", () => {
    const v = view(
      [
        v6('b', 2, { ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: 'dhcpv6-stateless', dnsNameservers: ['2001:db8:2::53', '192.0.2.53'] }),
        v6('c', 3, { ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' }),
      ],
      [{ subnetId: 'c', ip: '2001:db8:3::7' }],
    );
    const conf = renderConfig(dhcpOf(v)!, dnsmasqPaths('/s', NS)).split('\n');
    expect(conf.filter((l) => l.startsWith('dhcp-option='))).toEqual(['dhcp-option=tag:n100s60,option6:dns-server,[2001:db8:2::53]']);
  });

  it('derives the server DUID from the domain: the same on every host', () => {
    expect(serverDuid(ROUTER)).toMatch(/^32473,[0-9a-f]{16}$/);
    expect(serverDuid(ROUTER)).toBe(serverDuid(ROUTER));
    expect(serverDuid(ROUTER)).not.toBe(serverDuid(NET));
  });
});
