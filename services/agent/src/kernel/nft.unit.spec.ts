import { describe, expect, it } from 'vitest';
import type { NftCmd } from '../core/nft.js';
import { parseNftTable, renderNftScript } from './nft.js';

/** `nft -j list table …` as nftables 1.0.6 prints it on this kernel (captured). */
const INET = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'strata', handle: 2 } },
    { counter: { family: 'inet', name: 'r_1', table: 'strata', handle: 4, packets: 3, bytes: 180 } },
    { set: { family: 'inet', name: 'sg_g_v6', table: 'strata', type: 'ipv6_addr', handle: 1, elem: ['fd00::1', 'fd00:0:0:1::9'] } },
    { map: { family: 'inet', name: 'zones', table: 'strata', type: 'ifname', handle: 2, map: 'integer', elem: [['sbr100', 7]] } },
    { map: { family: 'inet', name: 'ingress_chains', table: 'strata', type: 'mark', handle: 3, map: 'verdict', elem: [[65536, { jump: { target: 'port_p_in' } }]] } },
    { chain: { family: 'inet', table: 'strata', name: 'sg_g_in', handle: 5 } },
    { chain: { family: 'inet', table: 'strata', name: 'port_p_in', handle: 6 } },
    { chain: { family: 'inet', table: 'strata', name: 'pre', handle: 7, type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } },
    {
      rule: {
        family: 'inet', table: 'strata', chain: 'sg_g_in', handle: 9, comment: 'c2',
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: '@sg_g_v6' } },
          { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 443 } },
          { counter: 'r_1' },
          { accept: null },
        ],
      },
    },
    { rule: { family: 'inet', table: 'strata', chain: 'port_p_in', handle: 10, comment: 'c3', expr: [{ jump: { target: 'sg_g_in' } }] } },
    { rule: { family: 'inet', table: 'strata', chain: 'port_p_in', handle: 11, expr: [{ drop: null }] } },
    {
      rule: {
        family: 'inet', table: 'strata', chain: 'pre', handle: 8, comment: 'c1',
        expr: [{ mangle: { key: { ct: { key: 'zone' } }, value: { map: { key: { meta: { key: 'iifname' } }, data: '@zones' } } } }],
      },
    },
  ],
};

const BRIDGE = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'bridge', name: 'strata', handle: 1 } },
    { map: { family: 'bridge', name: 'port_ids', table: 'strata', type: 'ifname', handle: 1, map: 'mark', elem: [['tap1', 1]] } },
    { map: { family: 'bridge', name: 'out_ports', table: 'strata', type: 'ifname', handle: 2, map: 'verdict', elem: [['tap1', { jump: { target: 'out_1' } }]] } },
    { chain: { family: 'bridge', table: 'strata', name: 'out_1', handle: 3 } },
    { chain: { family: 'bridge', table: 'strata', name: 'forward', handle: 4, type: 'filter', hook: 'forward', prio: -200, policy: 'accept' } },
    {
      rule: {
        family: 'bridge', table: 'strata', chain: 'out_1', handle: 6, comment: 'aaaa',
        expr: [{ mangle: { key: { meta: { key: 'mark' } }, value: { '|': [{ '&': [{ meta: { key: 'mark' } }, 131071] }, 65536] } } }],
      },
    },
    { rule: { family: 'bridge', table: 'strata', chain: 'forward', handle: 5, comment: '935b1923b2b1e56d', expr: [{ vmap: { key: { meta: { key: 'oifname' } }, data: '@out_ports' } }] } },
  ],
};

describe('parseNftTable', () => {
  it('given the inet table, then sets (canonical addresses), maps (marks as 0x%08x), counters, chains and rules by digest with their references', () => {
    const { table, counters } = parseNftTable('inet', JSON.stringify(INET));
    expect(table.sets).toEqual({ sg_g_v6: { name: 'sg_g_v6', type: 'ipv6_addr', elements: ['fd00:0:0:1::9', 'fd00::1'] } });
    expect(table.maps).toEqual({
      zones: { name: 'zones', type: 'ifname:integer', elements: { sbr100: '7' } },
      ingress_chains: { name: 'ingress_chains', type: 'mark:verdict', elements: { '0x00010000': 'jump port_p_in' } },
    });
    expect(table.counters).toEqual({ r_1: true });
    expect(counters).toEqual([{ name: 'r_1', packets: 3, bytes: 180 }]);
    expect(table.chains.pre!.base).toEqual({ type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' });
    expect(table.chains.pre!.rules).toEqual([{ id: 'c1', text: '', refs: ['set:zones'] }]);
    expect(table.chains.sg_g_in!.rules).toEqual([{ id: 'c2', text: '', refs: ['counter:r_1', 'set:sg_g_v6'] }]);
    // A rule without Strata's comment never matches a desired one.
    expect(table.chains.port_p_in!.rules).toEqual([
      { id: 'c3', text: '', refs: ['chain:sg_g_in'] },
      { id: '?11', text: '', refs: [] },
    ]);
  });

  it('given the bridge table, then ifname → mark and ifname → verdict maps', () => {
    const { table } = parseNftTable('bridge', JSON.stringify(BRIDGE));
    expect(table.maps.port_ids!.elements).toEqual({ tap1: '0x00000001' });
    expect(table.maps.out_ports!.elements).toEqual({ tap1: 'jump out_1' });
    expect(table.chains.forward!.rules).toEqual([{ id: '935b1923b2b1e56d', text: '', refs: ['set:out_ports'] }]);
  });
});

describe('renderNftScript', () => {
  it('quotes interface names, not marks or addresses (by the map\'s key type); splits long element lists; carries the digest in the comment', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const cmds: NftCmd[] = [
      { cmd: 'add-map-element', family: 'bridge', map: 'port_ids', type: 'ifname:mark', entries: [['tap1', '0x00000001']] },
      { cmd: 'add-map-element', family: 'inet', map: 'egress_chains', type: 'mark:verdict', entries: [['0x00000001', 'jump port_p_out']] },
      { cmd: 'delete-map-element', family: 'bridge', map: 'port_ids', type: 'ifname:mark', keys: ['tap1'] },
      { cmd: 'add-map-element', family: 'ip', map: 'fip_dnat', type: 'ipv4_addr:ipv4_addr', entries: [['203.0.113.10', '10.0.0.5']] },
      { cmd: 'add-element', family: 'inet', set: 's', elements: many },
      { cmd: 'add-rule', family: 'inet', chain: 'c', rule: { id: '0123456789abcdef', text: 'drop', refs: [] } },
      { cmd: 'add-chain', family: 'inet', name: 'pre', base: { type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } },
    ];
    const lines = renderNftScript(cmds).trimEnd().split('\n');
    expect(lines[0]).toBe('add element bridge strata port_ids { "tap1" : 0x00000001 }');
    expect(lines[1]).toBe('add element inet strata egress_chains { 0x00000001 : jump port_p_out }');
    expect(lines[2]).toBe('delete element bridge strata port_ids { "tap1" }');
    expect(lines[3]).toBe('add element ip strata fip_dnat { 203.0.113.10 : 10.0.0.5 }');
    expect(lines[4]).toMatch(/^add element inet strata s \{ 10\.0\.0\.0, .* 10\.0\.3\.231 \}$/);
    expect(lines[5]).toBe('add element inet strata s { 10.0.3.232 }');
    expect(lines[6]).toBe('add rule inet strata c drop comment "0123456789abcdef"');
    expect(lines[7]).toBe('add chain inet strata pre { type filter hook prerouting priority -300; policy accept; }');
  });
});
