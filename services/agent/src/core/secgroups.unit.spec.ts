import { describe, expect, it } from 'vitest';
import { gatewayMac } from '@strata/contracts';
import { renderNftScript } from '../kernel/nft.js';
import { sgRule } from '../testkit/cloud.js';
import { desiredState } from '../dataplane/managers.js';
import { diff } from './diff.js';
import { applyPlanToState } from './model.js';
import type { NftCmd } from './nft.js';
import { allocate, eui64LinkLocal, ruleFor } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';
import type { ActualState, Plan } from './types.js';

// Hex ids keep the nft names short and readable: an id is used whole in object names.
const WEB = 'aaa1';
const APP = 'aaa2';
const DB = 'aaa3';
const PORT = 'b1';
const OPTS = { nsPrefix: 'p-' };

const empty = (): ActualState => ({ namespaces: {}, links: {}, plugs: {}, addrs: {}, fdb: {}, neighs: {}, routes: {}, rules: {}, nft: { tables: {} }, nsNft: {}, hostSysctls: {}, devices: ['tapb1', 'tapb2'] });

function view(): HostViewSnapshot {
  return {
    host: { id: 'hv1', vtepIp: '198.18.0.11', publicIp: '203.0.113.11' },
    networks: {
      n1: {
        id: 'n1',
        tenant: 't',
        vni: 100,
        mtu: 1450,
        domainId: 'r1',
        gatewayMac: gatewayMac(100),
        floodVteps: [],
        subnets: [
          { id: 's4', ipVersion: 4, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true },
          { id: 's6', ipVersion: 6, cidr: 'fd00::/64', gatewayIp: 'fd00::1', enableDhcp: false },
        ],
      },
    },
    ports: {
      [PORT]: {
        id: PORT,
        tenant: 't',
        networkId: 'n1',
        mac: '02:00:00:00:00:01',
        device: 'tapb1',
        fixedIps: [{ subnetId: 's4', ip: '10.0.0.5' }, { subnetId: 's6', ip: 'fd00::5' }],
        groupIds: [WEB],
        portSecurity: true,
      },
    },
    endpoints: {},
    domains: { r1: { id: 'r1', tenant: 't', kind: 'router', networkIds: ['n1'] } },
    groups: {
      [WEB]: {
        id: WEB,
        tenant: 't',
        rules: [
          sgRule('e1', 'ingress', { protocol: 'tcp', portMin: 443, portMax: 443 }),
          sgRule('e2', 'ingress', { protocol: 'tcp', portMin: 9000, portMax: 9000, remoteGroupId: APP }),
          sgRule('e3', 'ingress', { protocol: 'udp', portMin: 1000, portMax: 2000, remoteCidr: '203.0.113.0/24' }),
          sgRule('e4', 'ingress', { protocol: 'icmp', icmpType: 8, icmpCode: 0 }),
          sgRule('e5', 'ingress', { ethertype: 'IPv6', protocol: 'tcp', portMin: 443, portMax: 443, remoteCidr: '::/0' }),
          sgRule('e6', 'egress', { ethertype: 'IPv6', remoteGroupId: APP }),
          sgRule('e7', 'egress', {}),
        ],
      },
      [APP]: { id: APP, tenant: 't', rules: [sgRule('e8', 'ingress', { protocol: 'tcp', portMin: 5432, portMax: 5432, remoteGroupId: DB })] },
    },
    members: {
      [`${APP}.c9`]: { groupId: APP, portId: 'c9', ips: ['10.0.1.9', 'fd00:1::9'] },
      // DB is named by APP's rules, but no local port is in APP: not needed here.
      [`${DB}.d1`]: { groupId: DB, portId: 'd1', ips: ['10.0.2.1'] },
    },
    chains: {},
    l2gateways: {},
  };
}

const converged = (v: HostViewSnapshot): ActualState => {
  const start = empty();
  return applyPlanToState(start, diff(desiredState(v, OPTS).kernel, start));
};

/** The plan's nft commands (the plan must have nothing else). */
function nftOnly(plan: Plan): NftCmd[] {
  expect(plan.batches.map((b) => b.phase)).toEqual(['nft']);
  const ops = plan.batches[0]!.ops;
  expect(ops).toHaveLength(1);
  return ops[0]!.op === 'nft' ? ops[0]!.commands : [];
}

const ZONE = allocate(['r1']).get('r1')!;
const MARK = allocate([PORT]).get(PORT)!;
const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

const GOLDEN = `add table inet strata
add set inet strata sg_aaa2_v4 { type ipv4_addr; }
add element inet strata sg_aaa2_v4 { 10.0.1.9 }
add set inet strata sg_aaa2_v6 { type ipv6_addr; }
add element inet strata sg_aaa2_v6 { fd00:1::9 }
add map inet strata egress_chains { type mark : verdict; }
add map inet strata ingress_chains { type mark : verdict; }
add map inet strata zones { typeof iifname : ct zone; }
add counter inet strata r_e1
add counter inet strata r_e2
add counter inet strata r_e3
add counter inet strata r_e4
add counter inet strata r_e5
add counter inet strata r_e6
add counter inet strata r_e7
add chain inet strata fwd_egress { type filter hook forward priority 0; policy accept; }
add chain inet strata fwd_ingress { type filter hook forward priority 1; policy accept; }
add chain inet strata port_b1_in
add chain inet strata port_b1_out
add chain inet strata pre { type filter hook prerouting priority -300; policy accept; }
add chain inet strata sg_aaa1_in
add chain inet strata sg_aaa1_out
add rule inet strata fwd_egress ct state established,related accept comment "d715fd9ae66447ce"
add rule inet strata fwd_egress meta mark and 0x0000ffff vmap @egress_chains comment "c3db0edbf536368f"
add rule inet strata fwd_ingress ct state established,related accept comment "d715fd9ae66447ce"
add rule inet strata fwd_ingress meta mark and 0xffff0000 vmap @ingress_chains comment "4431a02f48d972a6"
add rule inet strata port_b1_in ct state invalid drop comment "efca34c884c5abbc"
add rule inet strata port_b1_in jump sg_aaa1_in comment "*"
add rule inet strata port_b1_in meta nfproto ipv4 udp sport 67 udp dport 68 accept comment "d544f2f5a017ecea"
add rule inet strata port_b1_in icmpv6 type 135-136 accept comment "ba97f511d569527d"
add rule inet strata port_b1_in ip6 saddr fe80::53:47ff:fe00:64 icmpv6 type nd-router-advert accept comment "5437dc165dd7ebd3"
add rule inet strata port_b1_in ip6 saddr fe80::53:47ff:fe00:64 udp sport 547 udp dport 546 accept comment "2f154f75beb7f716"
add rule inet strata port_b1_in drop comment "d90ee9ccf6bea1d2"
add rule inet strata port_b1_out ct state invalid drop comment "efca34c884c5abbc"
add rule inet strata port_b1_out meta nfproto ipv4 udp sport 68 udp dport 67 accept comment "487c0fa278a3a297"
add rule inet strata port_b1_out meta nfproto ipv6 udp sport 546 udp dport 547 accept comment "37fa58274a77d8ed"
add rule inet strata port_b1_out icmpv6 type nd-router-solicit accept comment "cae7a21c2d0b7d34"
add rule inet strata port_b1_out icmpv6 type 135-136 accept comment "ba97f511d569527d"
add rule inet strata port_b1_out jump sg_aaa1_out comment "*"
add rule inet strata port_b1_out drop comment "d90ee9ccf6bea1d2"
add rule inet strata pre ct zone set iifname map @zones comment "c3ea3d904078827c"
add rule inet strata sg_aaa1_in meta nfproto ipv4 tcp dport 443 counter name "r_e1" accept comment "*"
add rule inet strata sg_aaa1_in ip saddr @sg_aaa2_v4 tcp dport 9000 counter name "r_e2" accept comment "*"
add rule inet strata sg_aaa1_in ip saddr 203.0.113.0/24 udp dport 1000-2000 counter name "r_e3" accept comment "*"
add rule inet strata sg_aaa1_in meta nfproto ipv4 icmp type 8 icmp code 0 counter name "r_e4" accept comment "*"
add rule inet strata sg_aaa1_in meta nfproto ipv6 tcp dport 443 counter name "r_e5" accept comment "*"
add rule inet strata sg_aaa1_out ip6 daddr @sg_aaa2_v6 counter name "r_e6" accept comment "*"
add rule inet strata sg_aaa1_out meta nfproto ipv4 counter name "r_e7" accept comment "*"
add element inet strata egress_chains { ${hex8(MARK)} : jump port_b1_out }
add element inet strata ingress_chains { ${hex8(MARK << 16)} : jump port_b1_in }
add element inet strata zones { "sbr100" : ${ZONE} }
add table bridge strata
add map bridge strata out_ports { type ifname : verdict; }
add map bridge strata port_ids { type ifname : mark; }
add map bridge strata spoof_chains { type ifname : verdict; }
add chain bridge strata forward { type filter hook forward priority -200; policy accept; }
add chain bridge strata out_b1
add chain bridge strata pre { type filter hook prerouting priority -300; policy accept; }
add chain bridge strata spoof_b1
add rule bridge strata forward oifname vmap @out_ports comment "935b1923b2b1e56d"
add rule bridge strata out_b1 meta mark set meta mark and 0x0000ffff or ${hex8(MARK << 16)} comment "*"
add rule bridge strata pre iifname vmap @spoof_chains comment "cc2922f66eb8019a"
add rule bridge strata pre meta mark set iifname map @port_ids comment "164788b0cddde9d3"
add rule bridge strata spoof_b1 ether saddr != 02:00:00:00:00:01 drop comment "89a02bc2183fd860"
add rule bridge strata spoof_b1 ether type 8021q drop comment "c36f60b050a7217c"
add rule bridge strata spoof_b1 ether type 8021ad drop comment "801c850ce7923488"
add rule bridge strata spoof_b1 icmpv6 type nd-router-advert drop comment "e8f342cb40614b7d"
add rule bridge strata spoof_b1 ether type ip6 udp sport 547 drop comment "8d3697609ea57152"
add rule bridge strata spoof_b1 arp saddr ether != 02:00:00:00:00:01 drop comment "805a7bba40a51211"
add rule bridge strata spoof_b1 arp saddr ip != 0.0.0.0 arp saddr ip != 10.0.0.5 drop comment "f5930c43490a95ad"
add rule bridge strata spoof_b1 ip saddr 0.0.0.0 udp sport 68 udp dport 67 return comment "8bf07c4bec727a43"
add rule bridge strata spoof_b1 ip daddr 10.0.0.1 udp sport 68 udp dport 67 return comment "739046476de5ce13"
add rule bridge strata spoof_b1 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return comment "ce5ad7631ec4315f"
add rule bridge strata spoof_b1 ip saddr != 10.0.0.5 drop comment "cbb0fbf915aa734c"
add rule bridge strata spoof_b1 ip6 saddr != :: ip6 saddr != fd00::5 ip6 saddr != fe80::ff:fe00:1 drop comment "5cf26423a19828fd"
add element bridge strata out_ports { "tapb1" : jump out_b1 }
add element bridge strata port_ids { "tapb1" : ${hex8(MARK)} }
add element bridge strata spoof_chains { "tapb1" : jump spoof_b1 }
`;

describe('security groups → nftables (desired state and script)', () => {
  it('given a port in a group with tcp/443 from any, a group-to-group rule, a CIDR rule, an ICMP rule and IPv6 rules, then this script from nothing', () => {
    const plan = diff(desiredState(view(), OPTS).kernel, empty());
    expect(plan.batches[0]!.phase).toBe('nft');
    const op = plan.batches[0]!.ops[0]!;
    expect(op.op).toBe('nft');
    const script = op.op === 'nft' ? renderNftScript(op.commands) : '';
    // Digests of rules whose text has a port or rule id are not spelled out ("*").
    const masked = script.replace(/(jump sg_|counter name "r_|meta mark set meta mark and 0x0000ffff or )(.*) comment "[0-9a-f]{16}"/g, '$1$2 comment "*"');
    expect(masked).toBe(GOLDEN);
    // Every comment is the digest of its rule's text: what reading the kernel back compares.
    expect(script.match(/comment "[0-9a-f]{16}"$/gm)).toHaveLength(GOLDEN.split('\n').filter((l) => l.startsWith('add rule')).length);
  });

  it('given the view, then only the groups named as remote group get sets, and bridged traffic is handed to the inet hooks', () => {
    const k = desiredState(view(), OPTS).kernel;
    expect(Object.keys(k.nft.tables.inet!.sets).sort()).toEqual(['sg_aaa2_v4', 'sg_aaa2_v6']);
    expect(k.hostSysctls).toEqual({ 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '1' });
  });

  it('given a port in no group, then no dispatch entry (unfiltered) but anti-spoofing; with portSecurity off too, no nft table at all', () => {
    const v = view();
    v.ports[PORT]!.groupIds = [];
    let k = desiredState(v, OPTS).kernel;
    expect(k.nft.tables.inet).toBeUndefined();
    expect(k.nft.tables.bridge!.maps.spoof_chains!.elements).toEqual({ tapb1: 'jump spoof_b1' });
    expect(k.nft.tables.bridge!.maps.port_ids!.elements).toEqual({});
    v.ports[PORT]!.portSecurity = false;
    k = desiredState(v, OPTS).kernel;
    expect(k.nft).toEqual({ tables: {} });
    expect(k.hostSysctls).toEqual({});
  });

  it('given portSecurity off on a filtered port, then groups still apply and there is no anti-spoofing for it', () => {
    const v = view();
    v.ports[PORT]!.portSecurity = false;
    const b = desiredState(v, OPTS).kernel.nft.tables.bridge!;
    expect(b.maps.spoof_chains!.elements).toEqual({});
    expect(b.chains.spoof_b1).toBeUndefined();
    expect(b.maps.port_ids!.elements).toEqual({ tapb1: hex8(MARK) });
  });

  it('given a filtered port, then its chains hold no anonymous set (a set per port makes every nft call O(ports²) on a host)', () => {
    const nft = desiredState(view(), OPTS).kernel.nft;
    const sets = (rules: Array<{ text: string }>): string[] => rules.map((r) => r.text).filter((t) => t.includes('{'));
    expect(sets(nft.tables.inet!.chains.port_b1_in!.rules)).toEqual([]);
    expect(sets(nft.tables.inet!.chains.port_b1_out!.rules)).toEqual([]);
    expect(sets(nft.tables.bridge!.chains.spoof_b1!.rules)).toEqual([]);
  });

  it('given a port in a group whose rules are not in the view (yet), then the port is default-deny', () => {
    const v = view();
    v.ports[PORT]!.groupIds = ['ffff'];
    const inet = desiredState(v, OPTS).kernel.nft.tables.inet!;
    expect(inet.chains.port_b1_in!.rules.map((r) => r.text)).toEqual([
      'ct state invalid drop',
      'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
      'icmpv6 type 135-136 accept',
      // RAs and DHCPv6 replies from the network's gateway only (fe80::EUI-64 of its MAC 02:53:47:00:00:64).
      'ip6 saddr fe80::53:47ff:fe00:64 icmpv6 type nd-router-advert accept',
      'ip6 saddr fe80::53:47ff:fe00:64 udp sport 547 udp dport 546 accept',
      'drop',
    ]);
  });
});

describe('security groups: the plan is minimal', () => {
  it('(a) given a new member of a remote group, then only add element', () => {
    const v = view();
    const before = converged(v);
    v.members[`${APP}.c10`] = { groupId: APP, portId: 'c10', ips: ['10.0.1.10', 'fd00:1::10'] };
    const cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(cmds).toEqual([
      { cmd: 'add-element', family: 'inet', set: 'sg_aaa2_v4', elements: ['10.0.1.10'] },
      { cmd: 'add-element', family: 'inet', set: 'sg_aaa2_v6', elements: ['fd00:1::10'] },
    ]);
  });

  it('(b) given a member gone, then only delete element', () => {
    const v = view();
    const before = converged(v);
    delete v.members[`${APP}.c9`];
    const cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(cmds).toEqual([
      { cmd: 'delete-element', family: 'inet', set: 'sg_aaa2_v4', elements: ['10.0.1.9'] },
      { cmd: 'delete-element', family: 'inet', set: 'sg_aaa2_v6', elements: ['fd00:1::9'] },
    ]);
  });

  it('(c) given a port added to a group, then only that port\'s chains and the dispatch map elements change, no group chain', () => {
    const v = view();
    v.ports.b2 = { id: 'b2', tenant: 't', networkId: 'n1', mac: '02:00:00:00:00:02', device: 'tapb2', fixedIps: [{ subnetId: 's4', ip: '10.0.0.6' }], groupIds: [], portSecurity: true };
    const touched = (cmds: NftCmd[]): string[] =>
      [...new Set(cmds.flatMap((c) => ('chain' in c ? [c.chain] : c.cmd.endsWith('-chain') && 'name' in c ? [c.name] : [])))].sort();

    // b2 (anti-spoofing only so far) joins WEB.
    let before = converged(v);
    v.ports.b2!.groupIds = [WEB];
    let cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(touched(cmds)).toEqual(['out_b2', 'port_b2_in', 'port_b2_out']);
    expect([...new Set(cmds.map((c) => c.cmd))].sort()).toEqual(['add-chain', 'add-map-element', 'add-rule']);
    const maps = cmds.flatMap((c) => (c.cmd === 'add-map-element' ? [`${c.family}:${c.map}`] : []));
    expect(maps.sort()).toEqual(['bridge:out_ports', 'bridge:port_ids', 'inet:egress_chains', 'inet:ingress_chains']);

    // b1 joins APP, a group no local port was in: APP's chains, counter and the DB sets are new; b1's chains are rewritten.
    before = converged(v);
    v.ports.b1!.groupIds = [WEB, APP];
    cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(touched(cmds)).toEqual(['port_b1_in', 'port_b1_out', 'sg_aaa2_in', 'sg_aaa2_out']);
    expect(cmds.filter((c) => c.cmd === 'flush-chain').map((c) => ('name' in c ? c.name : ''))).toEqual(['port_b1_in', 'port_b1_out']);
    expect(cmds.filter((c) => c.cmd.startsWith('delete'))).toEqual([]);

    // b2 joins APP too: APP's chains exist, only b2's own chains change.
    before = converged(v);
    v.ports.b2!.groupIds = [WEB, APP];
    cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(cmds.map((c) => `${c.cmd} ${'chain' in c ? c.chain : 'name' in c ? c.name : ''}`)).toEqual([
      'flush-chain port_b2_in',
      ...Array<string>(8).fill('add-rule port_b2_in'),
      'flush-chain port_b2_out',
      ...Array<string>(8).fill('add-rule port_b2_out'),
    ]);
  });

  it('given a rule removed from a group, then that group\'s chain is rewritten and its counter deleted; nothing else', () => {
    const v = view();
    const before = converged(v);
    v.groups[WEB]!.rules = v.groups[WEB]!.rules.filter((r) => r.id !== 'e1');
    const cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(cmds.map((c) => c.cmd)).toEqual(['flush-chain', 'add-rule', 'add-rule', 'add-rule', 'add-rule', 'delete-counter']);
    expect(cmds[0]).toEqual({ cmd: 'flush-chain', family: 'inet', name: 'sg_aaa1_in' });
    expect(cmds[5]).toEqual({ cmd: 'delete-counter', family: 'inet', name: 'r_e1' });
  });

  it('given the last filtered port leaving its groups, then the inet table goes in one command; anti-spoofing stays', () => {
    const v = view();
    const before = converged(v);
    v.ports[PORT]!.groupIds = [];
    const cmds = nftOnly(diff(desiredState(v, OPTS).kernel, before));
    expect(cmds.filter((c) => c.family === 'inet')).toEqual([{ cmd: 'delete-table', family: 'inet' }]);
    expect(cmds.filter((c) => c.family === 'bridge').map((c) => c.cmd)).toEqual(['delete-map-element', 'delete-map-element', 'flush-chain', 'delete-chain']);
  });

  it('given drift (a rule without Strata\'s digest, a foreign chain, a set of the wrong type), then it is repaired, the table rebuilt only for the type', () => {
    const v = view();
    const want = desiredState(v, OPTS).kernel;
    const drifted = converged(v);
    const inet = drifted.nft.tables.inet!;
    inet.chains.sg_aaa1_in!.rules.splice(1, 0, { id: '?99', text: '', refs: [] });
    inet.chains.intruder = { name: 'intruder', base: null, rules: [{ id: '?100', text: '', refs: [] }] };
    let cmds = nftOnly(diff(want, drifted));
    expect(cmds.map((c) => `${c.cmd} ${'chain' in c ? c.chain : 'name' in c ? c.name : ''}`)).toEqual([
      'flush-chain sg_aaa1_in',
      ...Array<string>(5).fill('add-rule sg_aaa1_in'),
      'flush-chain intruder',
      'delete-chain intruder',
    ]);
    expect(diff(want, applyPlanToState(drifted, { batches: [{ phase: 'nft', ops: [{ op: 'nft', commands: cmds }] }] }))).toEqual({ batches: [] });

    const wrongType = converged(v);
    wrongType.nft.tables.inet!.sets.sg_aaa2_v6!.type = 'ipv4_addr';
    cmds = nftOnly(diff(want, wrongType));
    expect(cmds.slice(0, 2)).toEqual([
      { cmd: 'delete-table', family: 'inet' },
      { cmd: 'add-table', family: 'inet' },
    ]);
    expect(diff(want, applyPlanToState(wrongType, { batches: [{ phase: 'nft', ops: [{ op: 'nft', commands: cmds }] }] }))).toEqual({ batches: [] });
  });

  it('given br_netfilter switched off in the host namespace, then it is switched on again', () => {
    const v = view();
    const before = converged(v);
    before.hostSysctls['net.bridge.bridge-nf-call-iptables'] = '0';
    const plan = diff(desiredState(v, OPTS).kernel, before);
    expect(plan.batches).toEqual([{ phase: 'sysctls', ops: [{ op: 'sysctl', ns: '', key: 'net.bridge.bridge-nf-call-iptables', value: '1' }] }]);
  });
});

describe('security-group helpers', () => {
  it('rules that cannot match are left out', () => {
    expect(ruleFor(sgRule('x', 'ingress', { remoteCidr: 'fd00::/64' }), 'r_x')).toBeNull();
    expect(ruleFor(sgRule('x', 'ingress', { protocol: 'icmpv6' }), 'r_x')).toBeNull();
    expect(ruleFor(sgRule('x', 'ingress', { protocol: 'tcp', portMin: 20, portMax: 10 }), 'r_x')).toBeNull();
    expect(ruleFor(sgRule('x', 'egress', { ethertype: 'IPv6', protocol: 'icmp' }), 'r_x')!.text).toBe('meta nfproto ipv6 meta l4proto ipv6-icmp counter name "r_x" accept');
    expect(ruleFor(sgRule('x', 'egress', { protocol: 'udp', remoteCidr: '10.1.2.3/8' }), 'r_x')!.text).toBe('ip daddr 10.0.0.0/8 meta l4proto udp counter name "r_x" accept');
  });

  it('EUI-64 link-local addresses, as Linux derives them', () => {
    expect(eui64LinkLocal('02:00:00:00:00:01')).toBe('fe80::ff:fe00:1');
    expect(eui64LinkLocal('52:54:00:12:34:56')).toBe('fe80::5054:ff:fe12:3456');
    expect(eui64LinkLocal('nonsense')).toBeNull();
  });

  it('allocated numbers are stable while other ids come and go, and never collide', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `port-${i}`);
    const all = allocate(ids);
    expect(new Set(all.values()).size).toBe(300);
    expect([...all.values()].every((n) => n >= 1 && n <= 0xffff)).toBe(true);
    const fewer = allocate(ids.slice(0, 150));
    const moved = ids.slice(0, 150).filter((id) => fewer.get(id) !== all.get(id));
    // Only a collision with a smaller id can move a number; with 300 ids in 65535 that is rare.
    expect(moved.length).toBeLessThanOrEqual(2);
    // A tiny space shows the probing: every id still gets its own number.
    expect(new Set(allocate(['a', 'b', 'c', 'd'], 4).values()).size).toBe(4);
  });
});
