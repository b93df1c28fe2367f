import { describe, expect, it } from 'vitest';
import { gatewayMac } from '@strata/contracts';
import { desiredState } from '../dataplane/managers.js';
import type { HostViewSnapshot } from './snapshot.js';

const NET = 'aaaaaaaa-0000-4000-8000-000000000001';
const ROUTER = 'bbbbbbbb-1111-4000-8000-000000000002';
const PORT = 'cccccccc-2222-4000-8000-000000000003';
const EP = 'dddddddd-3333-4000-8000-000000000004';
const NS = 'p-dbbbbbbbb1111';

const view = (): HostViewSnapshot => ({
  host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
  networks: {
    [NET]: {
      id: NET,
      tenant: 't',
      vni: 100,
      mtu: 1450,
      domainId: ROUTER,
      gatewayMac: gatewayMac(100),
      floodVteps: ['198.18.0.12', '198.18.0.11', '198.18.0.12'],
      subnets: [
        { id: 's4', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true },
        { id: 's6', ipVersion: 6, cidr: 'fd00:0:0:0::/64', gatewayIp: 'fd00:0::1', enableDhcp: false },
      ],
    },
  },
  ports: {
    [PORT]: { id: PORT, tenant: 't', networkId: NET, mac: '02:53:54:00:00:03', device: 'tapcccccccc222', fixedIps: [{ subnetId: 's4', ip: '10.0.0.3' }, { subnetId: 's6', ip: 'fd00::3' }], groupIds: [], portSecurity: false },
  },
  endpoints: {
    [EP]: { id: EP, networkId: NET, mac: '02:53:54:00:00:04', ips: ['10.0.0.4', 'fd00::4'], vtep: '198.18.0.12' },
  },
  domains: { [ROUTER]: { id: ROUTER, tenant: 't', kind: 'router', networkIds: [NET] } },
  groups: {},
  members: {},
  chains: {},
  l2gateways: {},
});

describe('desiredState', () => {
  it('given a host with one routed network, one local port and one remote endpoint, then this kernel state', () => {
    const d = desiredState(view(), { nsPrefix: 'p-' });
    const k = d.kernel;
    const base = { mtu: 1450, up: true, vxlan: null, brport: null };
    expect(k.links).toEqual({
      sbr100: { ...base, ns: '', name: 'sbr100', kind: 'bridge', master: null, alias: `strata:bridge:${NET}`, mac: '02:53:42:00:00:64', peer: null },
      svx100: {
        ...base,
        ns: '',
        name: 'svx100',
        kind: 'vxlan',
        master: 'sbr100',
        alias: `strata:vxlan:${NET}`,
        mac: null,
        peer: null,
        vxlan: { vni: 100, local: '198.18.0.11', port: 4789, learning: false },
        brport: { learning: false, neighSuppress: true },
      },
      sgw100: { ...base, ns: '', name: 'sgw100', kind: 'veth', master: 'sbr100', alias: `strata:gateway:${NET}`, mac: null, peer: { ns: NS, name: 'qr100' } },
      [`${NS}/qr100`]: { ...base, ns: NS, name: 'qr100', kind: 'veth', master: null, alias: `strata:gateway:${NET}`, mac: '02:53:47:00:00:64', peer: { ns: '', name: 'sgw100' } },
    });
    expect(k.namespaces).toEqual({ [NS]: { name: NS, sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv6.conf.all.accept_ra': '0', 'net.ipv6.conf.default.accept_ra': '0' } } });
    expect(Object.values(k.addrs).map((a) => a.cidr).sort()).toEqual(['10.0.0.1/24', 'fd00::1/64']);
    expect(k.plugs).toEqual({ tapcccccccc222: { device: 'tapcccccccc222', master: 'sbr100', mtu: 1450, up: true } });
    // Own VTEP and duplicates are not flood targets.
    expect(Object.values(k.fdb)).toEqual(
      expect.arrayContaining([
        { kind: 'flood', dev: 'svx100', dst: '198.18.0.12' },
        { kind: 'tunnel', dev: 'svx100', mac: '02:53:54:00:00:04', dst: '198.18.0.12' },
        { kind: 'bridge', master: 'sbr100', mac: '02:53:54:00:00:04', dev: 'svx100' },
        { kind: 'bridge', master: 'sbr100', mac: '02:53:47:00:00:64', dev: 'sgw100' },
      ]),
    );
    expect(Object.keys(k.fdb)).toHaveLength(4);
    const neigh = Object.values(k.neighs).map((n) => `${n.ns || 'host'} ${n.dev} ${n.ip} ${n.mac}`).sort();
    expect(neigh).toEqual([
      'host sbr100 10.0.0.1 02:53:47:00:00:64',
      'host sbr100 10.0.0.3 02:53:54:00:00:03',
      'host sbr100 10.0.0.4 02:53:54:00:00:04',
      'host sbr100 fd00::1 02:53:47:00:00:64',
      'host sbr100 fd00::3 02:53:54:00:00:03',
      'host sbr100 fd00::4 02:53:54:00:00:04',
      // The gateway's link-local address (an IPv6 subnet has a gateway): answered on this host, never over VXLAN.
      'host sbr100 fe80::53:47ff:fe00:64 02:53:47:00:00:64',
      `${NS} qr100 10.0.0.3 02:53:54:00:00:03`,
      `${NS} qr100 10.0.0.4 02:53:54:00:00:04`,
      `${NS} qr100 fd00::3 02:53:54:00:00:03`,
      `${NS} qr100 fd00::4 02:53:54:00:00:04`,
    ]);
    expect(d.dhcp).toEqual({
      [NS]: {
        ns: NS,
        domainId: ROUTER,
        interfaces: ['qr100'],
        subnets: [{ tag: 'n100s0', iface: 'qr100', network: '10.0.0.0', netmask: '255.255.255.0', router: '10.0.0.1', mtu: 1450, leaseSeconds: 86400, dnsServers: [], classlessRoutes: [] }],
        hosts: [{ mac: '02:53:54:00:00:03', ips: ['10.0.0.3'] }],
      },
    });
    expect(d.ports).toEqual([{ id: PORT, device: 'tapcccccccc222', adminStateUp: true }]);
  });

  it('given a port whose security groups are not decided yet (null), then its NIC stays unplugged (never briefly unfiltered)', () => {
    const v = view();
    v.ports[PORT]!.groupIds = null;
    expect(desiredState(v, { nsPrefix: 'p-' }).kernel.plugs).toEqual({});
    v.ports[PORT]!.groupIds = [];
    expect(Object.keys(desiredState(v, { nsPrefix: 'p-' }).kernel.plugs)).toEqual(['tapcccccccc222']);
  });

  it('given no host info, then nothing is wanted (but ports are still reported)', () => {
    const v = view();
    delete v.host;
    const d = desiredState(v, { nsPrefix: 'p-' });
    expect(d.kernel).toEqual({ namespaces: {}, links: {}, plugs: {}, addrs: {}, fdb: {}, neighs: {}, routes: {}, rules: {}, nft: { tables: {} }, nsNft: {}, hostSysctls: {} });
    expect(d.ports).toHaveLength(1);
  });

  it('given a lone network, then its namespace does not forward', () => {
    const v = view();
    v.domains[ROUTER]!.kind = 'network';
    const d = desiredState(v, { nsPrefix: 'p-' });
    expect(d.kernel.namespaces[NS]!.sysctls).toEqual({ 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0', 'net.ipv6.conf.all.accept_ra': '0', 'net.ipv6.conf.default.accept_ra': '0' });
  });

  it('given a remote endpoint with the MAC of a local port (a port moving here), then the local port wins', () => {
    const v = view();
    v.endpoints[EP]!.mac = '02:53:54:00:00:03';
    v.endpoints[EP]!.ips = ['10.0.0.3'];
    const k = desiredState(v, { nsPrefix: 'p-' }).kernel;
    expect(Object.values(k.fdb).filter((f) => f.kind === 'tunnel')).toEqual([]);
    expect(k.neighs['|sbr100|10.0.0.3']!.mac).toBe('02:53:54:00:00:03');
  });

  it('given a network whose domain is not in the view, then L2 only: no gateway, no namespace', () => {
    const v = view();
    v.domains = {};
    const d = desiredState(v, { nsPrefix: 'p-' });
    expect(Object.keys(d.kernel.links).sort()).toEqual(['sbr100', 'svx100']);
    expect(d.kernel.namespaces).toEqual({});
    expect(d.dhcp).toEqual({});
  });

  it('given a port administratively down, then its NIC stays plugged but down, and it is reported not up', () => {
    const v = view();
    v.ports[PORT]!.adminStateUp = false;
    const d = desiredState(v, { nsPrefix: 'p-' });
    expect(d.kernel.plugs).toEqual({ tapcccccccc222: { device: 'tapcccccccc222', master: 'sbr100', mtu: 1450, up: false } });
    expect(d.ports).toEqual([{ id: PORT, device: 'tapcccccccc222', adminStateUp: false }]);
    // Its addresses stay known (neighbours, static lease): only forwarding stops.
    expect(d.kernel.neighs['|sbr100|10.0.0.3']).toBeDefined();
    expect(d.dhcp[NS]!.hosts).toEqual([{ mac: '02:53:54:00:00:03', ips: ['10.0.0.3'] }]);
  });

  it("given a subnet's DNS servers and host routes, then DHCP offers them (IPv4 only; the default route via the gateway last)", () => {
    const v = view();
    v.networks[NET]!.subnets[0] = {
      ...v.networks[NET]!.subnets[0]!,
      dnsNameservers: ['192.0.2.53', 'fd00::53'],
      hostRoutes: [
        { destination: '172.16.0.0/12', nexthop: '10.0.0.254' },
        { destination: 'fd10::/64', nexthop: 'fd00::254' },
      ],
    };
    const s = desiredState(v, { nsPrefix: 'p-' }).dhcp[NS]!.subnets[0]!;
    expect(s.dnsServers).toEqual(['192.0.2.53']);
    expect(s.classlessRoutes).toEqual([
      { destination: '172.16.0.0/12', nexthop: '10.0.0.254' },
      { destination: '0.0.0.0/0', nexthop: '10.0.0.1' },
    ]);
  });

  it("given a host route that is itself a default route, then it is the subnet's only default", () => {
    const v = view();
    v.networks[NET]!.subnets[0] = { ...v.networks[NET]!.subnets[0]!, hostRoutes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.254' }] };
    expect(desiredState(v, { nsPrefix: 'p-' }).dhcp[NS]!.subnets[0]!.classlessRoutes).toEqual([{ destination: '0.0.0.0/0', nexthop: '10.0.0.254' }]);
  });

  it('given a subnet with DHCP off, then no server is wanted for it', () => {
    const v = view();
    v.networks[NET]!.subnets[0]!.enableDhcp = false;
    expect(desiredState(v, { nsPrefix: 'p-' }).dhcp).toEqual({});
  });

  it("given a router's static routes, then its namespace routes each via the gateway interface of the next hop's subnet", () => {
    const v = view();
    v.domains[ROUTER]!.routes = [
      { destination: '192.168.50.0/24', nexthop: '10.0.0.4' },
      { destination: 'fd50::/64', nexthop: 'fd00::4' },
      // Skipped: a next hop on no subnet of the router, mixed families, a connected subnet.
      { destination: '192.168.60.0/24', nexthop: '10.9.9.9' },
      { destination: '192.168.70.0/24', nexthop: 'fd00::4' },
      { destination: '10.0.0.0/24', nexthop: '10.0.0.4' },
    ];
    const routes = Object.values(desiredState(v, { nsPrefix: 'p-' }).kernel.routes);
    expect(routes).toEqual([
      { ns: NS, dst: '192.168.50.0/24', dev: 'qr100', via: '10.0.0.4' },
      { ns: NS, dst: 'fd50::/64', dev: 'qr100', via: 'fd00::4' },
    ]);
  });

  it('skips garbage addresses instead of failing', () => {
    const v = view();
    v.endpoints[EP]!.ips = ['not-an-ip', '10.0.0.4'];
    const k = desiredState(v, { nsPrefix: 'p-' }).kernel;
    expect(Object.values(k.neighs).some((n) => n.ip === 'not-an-ip')).toBe(false);
    expect(k.neighs['|sbr100|10.0.0.4']).toBeDefined();
  });
});
