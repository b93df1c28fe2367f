import { describe, expect, it } from 'vitest';
import type { Exec } from './exec.js';
import { parseMonitorLine } from './monitor.js';
import { readActual } from './read.js';

/** Canned iproute2 JSON, as printed on this kernel (trimmed to the fields the reader uses). */
const OUT: Record<string, unknown> = {
  'ip -j -d addr show': [
    { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536 },
    { ifindex: 2, ifname: 'eth0', flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'veth' } },
    { ifindex: 3, ifname: 'sbr100', flags: ['UP'], mtu: 1450, address: 'c6:f2:9f:74:cc:a2', ifalias: 'strata:bridge:n1', linkinfo: { info_kind: 'bridge' } },
    {
      ifindex: 4, ifname: 'svx100', flags: ['UP'], mtu: 1450, master: 'sbr100', address: 'aa:00:00:00:00:04',
      linkinfo: { info_kind: 'vxlan', info_data: { id: 100, local: '198.18.0.11', port: 4789, learning: false }, info_slave_kind: 'bridge', info_slave_data: { learning: false, neigh_suppress: true } },
    },
    // The "link" field of a cross-namespace veth names the wrong device (resolved in our namespace): link_index + link_netnsid are what count.
    { ifindex: 5, ifname: 'sgw100', link: 'sbr100', link_index: 2, link_netnsid: 0, flags: ['UP'], mtu: 1450, master: 'sbr100', address: 'aa:00:00:00:00:05', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: { learning: true, neigh_suppress: false } } },
    { ifindex: 6, ifname: 'tap1', flags: ['UP'], mtu: 1450, master: 'sbr100', linkinfo: { info_kind: 'veth' } },
    { ifindex: 7, ifname: 'sbr7', flags: [], mtu: 1500, linkinfo: { info_kind: 'dummy' } },
    // A software L2 gateway's VLAN device: `link` names its NIC (same namespace), info_data its VLAN id
    // (iproute2's format: this kernel, without 802.1Q, cannot print one).
    {
      ifindex: 9, ifname: 'sgl0123456789ab', link: 'eth0', flags: ['UP'], mtu: 1450, master: 'sbr100', address: 'aa:00:00:00:00:02', ifalias: 'strata:l2gw:b1',
      linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 100, flags: ['REORDER_HDR'] }, info_slave_kind: 'bridge', info_slave_data: { learning: true, neigh_suppress: false } },
    },
    {
      ifindex: 8, ifname: 'sx0123456789ab', link_index: 3, link_netnsid: 0, flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'veth' },
      // Strata's fixed link-local address of the external link (a routed IPv6 subnet) is read; the kernel's own are not.
      addr_info: [
        { family: 'inet', local: '169.254.0.1', prefixlen: 32, scope: 'global' },
        { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
      ],
    },
  ],
  // Strata's routes only (proto 83): host routes are listed without a length.
  'ip -4 -j route show proto 83': [
    { dst: '169.254.46.254', dev: 'sx0123456789ab', flags: [] },
    { dst: '203.0.113.10', gateway: '169.254.46.254', dev: 'sx0123456789ab', flags: ['onlink'] },
  ],
  'ip -6 -j route show proto 83': [{ dst: '2001:db8:176::/64', gateway: 'fe80::2', dev: 'sx0123456789ab', flags: ['onlink'] }],
  // Every table: a service chain's steering table beside the main one.
  'ip -4 -n p-d0123456789ab -j route show table all proto 83': [
    { dst: 'default', gateway: '169.254.0.1', dev: 'ext', flags: ['onlink'] },
    { dst: 'default', gateway: '10.0.0.7', dev: 'qr100', table: '1396899841', flags: ['onlink'] },
  ],
  // IPv6 apart: an IPv6 classifier's steering table (same mark and table number), and a host route.
  'ip -6 -n p-d0123456789ab -j route show table all proto 83': [
    { dst: 'default', gateway: 'fd00::7', dev: 'qr100', table: '1396899841', flags: ['onlink'] },
    { dst: 'fd00::9', gateway: 'fd00::7', dev: 'qr100', table: '1396899841', flags: ['onlink'] },
  ],
  // Strata's rules are the ones with protocol 83.
  'ip -4 -n p-d0123456789ab -j rule show': [
    { priority: 0, src: 'all', table: 'local' },
    { priority: 1000, src: 'all', fwmark: '0x53430001', table: '1396899841', protocol: '83' },
    { priority: 1000, src: 'all', fwmark: '0x7', table: '7' },
    { priority: 32766, src: 'all', table: 'main' },
  ],
  'ip -6 -n p-d0123456789ab -j rule show': [
    { priority: 0, src: 'all', table: 'local' },
    { priority: 1000, src: 'all', fwmark: '0x53430001', table: '1396899841', protocol: '83' },
    { priority: 32766, src: 'all', table: 'main' },
  ],
  // One listing for every table of the domain: NAT's `ip strata`, chaining's `inet strata`, and a foreign one.
  'ip netns exec p-d0123456789ab nft -j list ruleset': {
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { table: { family: 'ip', name: 'strata', handle: 1 } },
      { map: { family: 'ip', name: 'fip_dnat', table: 'strata', type: 'ipv4_addr', map: 'ipv4_addr', elem: [['203.0.113.10', '10.0.0.5']] } },
      { table: { family: 'inet', name: 'strata', handle: 2 } },
      { set: { family: 'inet', name: 'g_1_v4', table: 'strata', type: 'ipv4_addr', elem: ['10.0.0.2'] } },
      { chain: { family: 'inet', table: 'strata', name: 'pre', type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' } },
      { rule: { family: 'inet', table: 'strata', chain: 'pre', handle: 3, comment: 'abc', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@g_1_v4' } }] } },
      { table: { family: 'inet', name: 'other', handle: 3 } },
      { set: { family: 'inet', name: 'x', table: 'other', type: 'ipv4_addr' } },
    ],
  },
  'bridge -j fdb show': [
    { mac: '33:33:00:00:00:01', ifname: 'sbr100', flags: ['self'], state: 'permanent' },
    { mac: '02:00:00:00:00:02', ifname: 'svx100', flags: [], master: 'sbr100', state: 'static' },
    { mac: 'aa:00:00:00:00:04', ifname: 'svx100', flags: [], master: 'sbr100', state: 'permanent' },
    { mac: '02:00:00:00:00:02', ifname: 'svx100', dst: '198.18.0.12', flags: ['self'], state: 'static' },
    { mac: '00:00:00:00:00:00', ifname: 'svx100', dst: '198.18.0.12', flags: ['self'], state: 'permanent' },
    { mac: '02:53:47:00:00:64', ifname: 'sgw100', flags: ['sticky'], master: 'sbr100', state: 'static' },
    { mac: '02:00:00:00:00:09', ifname: 'tap1', flags: [], master: 'sbr100' },
  ],
  'ip -j neigh show nud permanent': [
    { dst: '10.0.0.2', dev: 'sbr100', lladdr: '02:00:00:00:00:02', state: ['PERMANENT'] },
    { dst: '198.18.0.12', dev: 'eth0', lladdr: '02:00:00:00:00:99', state: ['PERMANENT'] },
  ],
  'ip -j netns list-id': [{ nsid: 0, name: 'p-d0123456789ab' }],
  'ip -j netns list': [{ name: 'p-d0123456789ab', id: 0 }, { name: 'other' }],
  'ip -n p-d0123456789ab -j -d addr show': [
    { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK'], mtu: 65536, addr_info: [] },
    {
      ifindex: 2, ifname: 'qr100', link_index: 5, link_netnsid: 0, flags: ['UP'], mtu: 1450, address: '02:53:47:00:00:64', ifalias: 'strata:gateway:n1', linkinfo: { info_kind: 'veth' },
      addr_info: [
        { family: 'inet', local: '10.0.0.1', prefixlen: 24, scope: 'global' },
        { family: 'inet6', local: 'fe80::53:47ff:fe00:64', prefixlen: 64, scope: 'link' },
      ],
    },
    { ifindex: 3, ifname: 'ext', link_index: 8, link_netnsid: 0, flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'veth' }, addr_info: [{ family: 'inet', local: '169.254.46.254', prefixlen: 32, scope: 'global' }] },
  ],
  'nft -j list tables': { nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, { table: { family: 'ip', name: 'other', handle: 1 } }] },
  'ip -n p-d0123456789ab -j neigh show nud permanent': [{ dst: '10.0.0.2', dev: 'qr100', lladdr: '02:00:00:00:00:02', state: ['PERMANENT'] }],
};

const exec: Exec = {
  run: async (argv) => {
    const key = argv.join(' ');
    if (key.startsWith('ip netns exec p-d0123456789ab sysctl')) return { stdout: '1\n0\n0\n0\n', stderr: '', code: 0 };
    if (!(key in OUT)) return { stdout: '', stderr: `unexpected ${key}`, code: 1 };
    return { stdout: JSON.stringify(OUT[key]), stderr: '', code: 0 };
  },
  spawnDetached: () => 1,
  watch: () => ({ stop: () => undefined }),
};

describe('readActual', () => {
  it('reports Strata objects only, foreign devices by name, and resolves the veth peer across namespaces', async () => {
    const a = await readActual(exec, 'p-');
    expect(Object.keys(a.links).sort()).toEqual(['p-d0123456789ab/ext', 'p-d0123456789ab/qr100', 'sbr100', 'sbr7', 'sgl0123456789ab', 'sgw100', 'svx100', 'sx0123456789ab']);
    expect(a.links.sgl0123456789ab).toMatchObject({ kind: 'vlan', master: 'sbr100', vlan: { parent: 'eth0', id: 100 }, brport: { learning: true, neighSuppress: false }, alias: 'strata:l2gw:b1' });
    expect(a.links['p-d0123456789ab/ext']!.peer).toEqual({ ns: '', name: 'sx0123456789ab' });
    expect(a.links.sbr7!.kind).toBe('other');
    expect(a.links.svx100).toMatchObject({ master: 'sbr100', vxlan: { vni: 100, local: '198.18.0.11', port: 4789, learning: false }, brport: { learning: false, neighSuppress: true } });
    expect(a.links.sgw100!.peer).toEqual({ ns: 'p-d0123456789ab', name: 'qr100' });
    expect(a.links['p-d0123456789ab/qr100']).toMatchObject({ peer: { ns: '', name: 'sgw100' }, mac: '02:53:47:00:00:64', up: true });
    expect(a.devices).toEqual(['eth0', 'lo', 'tap1']);
    expect(a.plugs).toEqual({ tap1: { device: 'tap1', master: 'sbr100', mtu: 1450, up: true } });
    expect(Object.values(a.fdb)).toEqual([
      { kind: 'bridge', master: 'sbr100', mac: '02:00:00:00:00:02', dev: 'svx100' },
      { kind: 'tunnel', dev: 'svx100', mac: '02:00:00:00:00:02', dst: '198.18.0.12' },
      { kind: 'flood', dev: 'svx100', dst: '198.18.0.12' },
      { kind: 'bridge', master: 'sbr100', mac: '02:53:47:00:00:64', dev: 'sgw100' },
    ]);
    expect(Object.keys(a.neighs).sort()).toEqual(['p-d0123456789ab|qr100|10.0.0.2', '|sbr100|10.0.0.2']);
    expect(Object.values(a.addrs)).toEqual([
      { ns: '', dev: 'sx0123456789ab', cidr: '169.254.0.1/32' },
      { ns: '', dev: 'sx0123456789ab', cidr: 'fe80::1/64' },
      { ns: 'p-d0123456789ab', dev: 'qr100', cidr: '10.0.0.1/24' },
      { ns: 'p-d0123456789ab', dev: 'ext', cidr: '169.254.46.254/32' },
    ]);
    expect(Object.values(a.routes)).toEqual([
      { ns: '', dst: '169.254.46.254/32', dev: 'sx0123456789ab', via: null },
      { ns: '', dst: '203.0.113.10/32', dev: 'sx0123456789ab', via: '169.254.46.254' },
      { ns: '', dst: '2001:db8:176::/64', dev: 'sx0123456789ab', via: 'fe80::2' },
      { ns: 'p-d0123456789ab', dst: '0.0.0.0/0', dev: 'ext', via: '169.254.0.1' },
      { ns: 'p-d0123456789ab', dst: '0.0.0.0/0', dev: 'qr100', via: '10.0.0.7', table: 1396899841 },
      { ns: 'p-d0123456789ab', dst: '::/0', dev: 'qr100', via: 'fd00::7', table: 1396899841 },
      { ns: 'p-d0123456789ab', dst: 'fd00::9/128', dev: 'qr100', via: 'fd00::7', table: 1396899841 },
    ]);
    expect(Object.values(a.rules)).toEqual([
      { ns: 'p-d0123456789ab', family: 4, pref: 1000, fwmark: '0x53430001', table: 1396899841 },
      { ns: 'p-d0123456789ab', family: 6, pref: 1000, fwmark: '0x53430001', table: 1396899841 },
    ]);
    expect(a.nsNft['p-d0123456789ab']!.tables.ip!.maps.fip_dnat!.elements).toEqual({ '203.0.113.10': '10.0.0.5' });
    expect(Object.keys(a.nsNft['p-d0123456789ab']!.tables).sort()).toEqual(['inet', 'ip']);
    expect(a.nsNft['p-d0123456789ab']!.tables.inet!.sets.g_1_v4!.elements).toEqual(['10.0.0.2']);
    expect(a.nsNft['p-d0123456789ab']!.tables.inet!.chains.pre).toEqual({
      name: 'pre',
      base: { type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' },
      rules: [{ id: 'abc', text: '', refs: ['set:g_1_v4'] }],
    });
    // No Strata nft table (a foreign one is ignored); no bridge sysctls readable here.
    expect(a.nft).toEqual({ tables: {} });
    expect(a.hostSysctls).toEqual({});
    expect(a.namespaces).toEqual({ 'p-d0123456789ab': { name: 'p-d0123456789ab', sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '0', 'net.ipv6.conf.all.accept_ra': '0', 'net.ipv6.conf.default.accept_ra': '0' } } });
  });
});

describe('parseMonitorLine', () => {
  it('reads link names from ip -o monitor link', () => {
    expect(parseMonitorLine('12: tap1234@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN')).toEqual({ name: 'tap1234', deleted: false });
    expect(parseMonitorLine('Deleted 12: tap1234@if2: <BROADCAST,MULTICAST> mtu 1500')).toEqual({ name: 'tap1234', deleted: true });
    expect(parseMonitorLine('garbage')).toBeNull();
  });
});
