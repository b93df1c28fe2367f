import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { ChainHop, ChainMember, FlowClassifier, HostChain, HostNetwork } from '@strata/contracts';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOwners, chainingMemberIndex, chainSetName, classifierMatch, desiredChaining, hashFields, splitSetKey, steeringUpdate, type ChainingState } from './chaining.js';
import { patchSorted, type MemberChange } from './members.js';
import { domainNamespace } from './names.js';
import type { NftState } from './nft.js';
import { emptySnapshot, type HostViewSnapshot } from './snapshot.js';

const R = 'router-1';
const PREFIX = 'p-';
const NS = domainNamespace(PREFIX, R);
const net = (id: string, vni: number, cidr: string, gw: string, domainId = R): HostNetwork => ({
  id,
  tenant: 't',
  vni,
  mtu: 1450,
  subnets: [{ id: `s-${id}`, ipVersion: 4, cidr, gatewayIp: gw, enableDhcp: true }],
  domainId,
  gatewayMac: '02:53:47:00:00:01',
  floodVteps: [],
});
const leg = (portId: string, networkId: string, ip: string, mac: string): ChainMember['ingress'] => ({ portId, networkId, mac, ips: [ip] });
/** A two-armed appliance: in on svc-in (10.0.3.x), out on svc-out (10.0.4.x). */
const fn = (n: number, healthy = true): ChainMember => ({
  functionId: `f${n}`,
  ingress: leg(`in${n}`, 'svc-in', `10.0.3.${n}`, `02:00:00:00:03:0${n}`),
  egress: leg(`out${n}`, 'svc-out', `10.0.4.${n}`, `02:00:00:00:04:0${n}`),
  healthy,
  healthCheck: null,
  virtualIp: null,
});
const hop = (over: Partial<ChainHop>): ChainHop => ({ groupId: 'g', mode: 'l3', selection: 'flow-hash', fallback: 'fail-closed', members: [], activeFunctionId: null, ...over });
const classifier: FlowClassifier = {
  id: 'c1',
  ethertype: 'IPv4',
  protocol: 'tcp',
  source: { groupId: 'WEB', cidr: null },
  destination: { groupId: null, cidr: '10.0.2.0/24' },
  sourcePorts: null,
  destinationPorts: { min: 9000, max: 9001 },
};
const classifier6: FlowClassifier = { ...classifier, id: 'c6', ethertype: 'IPv6', destination: { groupId: null, cidr: 'fd00:2::/64' } };
const chain = (hops: ChainHop[], over: Partial<HostChain> = {}): HostChain => ({ id: 'chain-1', tenant: 't', domainId: R, symmetric: true, classifiers: [classifier], hops, ...over });

function view(chains: HostChain[], members = 2): HostViewSnapshot {
  const v = emptySnapshot();
  v.domains[R] = { id: R, tenant: 't', kind: 'router', networkIds: [] };
  for (const n of [net('web', 100, '10.0.1.0/24', '10.0.1.1'), net('app', 101, '10.0.2.0/24', '10.0.2.1'), net('svc-in', 102, '10.0.3.0/24', '10.0.3.1'), net('svc-out', 103, '10.0.4.0/24', '10.0.4.1')]) v.networks[n.id] = n;
  for (let i = 0; i < members; i++) v.members[`WEB.p${i}`] = { groupId: 'WEB', portId: `p${i}`, ips: [`10.0.${100 + (i >> 8)}.${i & 0xff}`, `fd00::${i.toString(16)}`] };
  for (const c of chains) v.chains[c.id] = c;
  return v;
}
const namespaces = { [NS]: { name: NS, sysctls: {} } };
const desired = (v: HostViewSnapshot) => desiredChaining(v, PREFIX, namespaces);
const rulesOf = (v: HostViewSnapshot): string[] => desired(v).tables[NS]!.chains.pre!.rules.map((r) => r.text);
/** Bucket → the member (function id) a classification rule's map sends it to, read back through the routes. */
function bucketMembers(v: HostViewSnapshot, ruleText: string, legOf: (m: ChainMember) => string): string[] {
  const d = desired(v);
  const viaByMark = new Map(Object.values(d.routes).map((r) => [r.table!, r.via!]));
  const members = Object.values(v.chains).flatMap((c) => c.hops.flatMap((h) => h.members));
  const memberByIp = new Map(members.map((m) => [legOf(m), m.functionId]));
  const map = /map \{ (.*) \}$/.exec(ruleText)![1]!;
  const out: string[] = [];
  for (const part of map.split(', ')) {
    const [range, mark] = part.split(' : ') as [string, string];
    const [lo, hi = lo] = range.split('-').map(Number) as [number, number?];
    for (let b = lo; b <= hi!; b++) out[b] = memberByIp.get(viaByMark.get(Number(mark))!)!;
  }
  return out;
}

describe('flow-hash buckets (rendezvous hashing)', () => {
  it('is deterministic and independent of the order members are listed in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), (ids) => {
        expect(bucketOwners(ids)).toEqual(bucketOwners([...ids].reverse()));
        expect(bucketOwners(ids)).toHaveLength(BUCKETS);
      }),
    );
  });

  it('moves only the buckets of a member that leaves, and a member that joins takes buckets only for itself', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 6 }), fc.nat(), (ids, k) => {
        const gone = ids[k % ids.length]!;
        const before = bucketOwners(ids);
        const after = bucketOwners(ids.filter((i) => i !== gone));
        before.forEach((owner, b) => {
          if (owner !== gone) expect(after[b]).toBe(owner);
        });
        // Joining is the same relation read backwards.
        after.forEach((owner, b) => {
          if (before[b] !== owner) expect(before[b]).toBe(gone);
        });
      }),
    );
  });

  it('spreads two members over the buckets', () => {
    const owners = bucketOwners(['f1', 'f2']);
    expect(new Set(owners)).toEqual(new Set(['f1', 'f2']));
  });
});

describe('chaining → kernel state', () => {
  it('sends both directions of a flow to the same member: forward to its ingress, the return to its egress', () => {
    const v = view([chain([hop({ members: [fn(1), fn(2), fn(3)] })])]);
    const rules = rulesOf(v);
    const fwd = rules.find((r) => r.startsWith('meta mark 0') && r.includes('ip saddr @'))!;
    const rev = rules.find((r) => r.startsWith('meta mark 0') && r.includes('ip daddr @'))!;
    expect(fwd).toContain(`jhash ${hashFields(classifier, 'fwd')} mod 64`);
    expect(rev).toContain(`jhash ${hashFields(classifier, 'rev')} mod 64`);
    const f = bucketMembers(v, fwd, (m) => m.ingress.ips[0]!);
    const r = bucketMembers(v, rev, (m) => m.egress.ips[0]!);
    expect(f).toEqual(r);
    expect(f).toEqual(bucketOwners(['f1', 'f2', 'f3']));
  });

  it('the rules do not depend on the classifier groups\' sizes (10 vs 10,000 members): only the sets do', () => {
    const c = chain([hop({ members: [fn(1), fn(2)] })]);
    const small = desired(view([c], 10));
    const large = desired(view([c], 10_000));
    expect(large.tables[NS]!.chains).toEqual(small.tables[NS]!.chains);
    expect(large.rules).toEqual(small.rules);
    expect(large.routes).toEqual(small.routes);
    expect(large.tables[NS]!.sets[chainSetName('WEB', 4)]!.elements).toHaveLength(10_000);
    expect(small.tables[NS]!.sets[chainSetName('WEB', 6)]!.elements).toHaveLength(10);
  });

  it('orders the steering chain: neighbour discovery, back from a leg, restore, classify, remember; and drops ICMP redirects', () => {
    const t = desired(view([chain([hop({ selection: 'active-standby', members: [fn(1)], activeFunctionId: 'f1' })])])).tables[NS]!;
    const [nd, ...texts] = t.chains.pre!.rules.map((r) => r.text);
    expect(nd).toBe('icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept');
    expect(texts[0]).toMatch(/^iifname "qr103" ether saddr 02:00:00:00:04:01 meta nfproto ipv4 meta l4proto tcp ip saddr @g_\S+_v4 ip daddr 10\.0\.2\.0\/24 th dport 9000-9001 accept$/);
    expect(texts[1]).toMatch(/^iifname "qr102" ether saddr 02:00:00:00:03:01 meta nfproto ipv4 meta l4proto tcp ip saddr 10\.0\.2\.0\/24 ip daddr @g_\S+_v4 th sport 9000-9001 accept$/);
    expect(texts.slice(2, 4)).toEqual(['iifname "qr103" ether saddr 02:00:00:00:04:01 accept', 'iifname "qr102" ether saddr 02:00:00:00:03:01 accept']);
    expect(texts[4]).toMatch(/^ct direction original ct mark \{ 0x5343[0-9a-f]{4}, 0x5343[0-9a-f]{4} \} meta mark set ct mark accept$/);
    expect(texts[5]).toMatch(/^meta mark 0 .* meta mark set 0x5343[0-9a-f]{4}$/);
    expect(texts.at(-1)).toBe('meta mark != 0 ct direction original ct mark set meta mark');
    expect(t.chains.pre!.base).toEqual({ type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' });
    expect(t.chains.out!.rules.map((r) => r.text)).toEqual(['icmp type redirect drop', 'icmpv6 type nd-redirect drop']);
  });

  it('routes each mark to the member\'s leg on its network\'s gateway interface, one rule and one table per mark, the standby\'s too (a failover changes rules only)', () => {
    const d = desired(view([chain([hop({ selection: 'active-standby', members: [fn(1), fn(2)], activeFunctionId: 'f2' })])]));
    const routes = Object.values(d.routes).map(({ dev, via }) => `${via} dev ${dev}`).sort();
    expect(routes).toEqual(['10.0.3.1 dev qr102', '10.0.3.2 dev qr102', '10.0.4.1 dev qr103', '10.0.4.2 dev qr103']);
    const classifying = rulesOf(view([chain([hop({ selection: 'active-standby', members: [fn(1), fn(2)], activeFunctionId: 'f2' })])])).filter((r) => r.startsWith('meta mark 0'));
    const markOfVia = new Map(Object.values(d.routes).map((r) => [r.via!, `0x${r.table!.toString(16)}`]));
    expect(classifying.map((r) => r.split(' meta mark set ')[1])).toEqual([markOfVia.get('10.0.3.2'), markOfVia.get('10.0.4.2')]);
    expect(Object.values(d.rules).map((r) => [r.pref, Number(r.fwmark), r.table])).toEqual(Object.values(d.routes).map((r) => [1000, r.table, r.table]));
  });

  it('no usable member: fail-closed drops, fail-open skips the hop (to the next one, or straight to the destination)', () => {
    const second = hop({ groupId: 'g2', selection: 'active-standby', members: [fn(2)], activeFunctionId: 'f2' });
    const closed = rulesOf(view([chain([hop({ members: [fn(1, false)] }), second])]));
    expect(closed.filter((r) => r.startsWith('meta mark 0'))).toEqual([expect.stringMatching(/ drop$/), expect.stringMatching(/ meta mark set 0x5343/)]);
    const open = rulesOf(view([chain([hop({ members: [fn(1, false)], fallback: 'fail-open' }), second])]));
    const d = desired(view([chain([hop({ members: [fn(1, false)], fallback: 'fail-open' }), second])]));
    expect(open.filter((r) => r.startsWith('meta mark 0')).every((r) => / meta mark set 0x5343/.test(r))).toBe(true);
    // The unhealthy flow-hash member keeps its routes (it may come back with a rule change only).
    expect(Object.values(d.routes).map((r) => r.via).sort()).toEqual(['10.0.3.1', '10.0.3.2', '10.0.4.1', '10.0.4.2']);
    const alone = rulesOf(view([chain([hop({ members: [fn(1, false)], fallback: 'fail-open' })])]));
    expect(alone.filter((r) => r.startsWith('meta mark 0')).every((r) => r.endsWith(' accept'))).toBe(true);
  });

  it('a member whose legs are not on a network of the router here is unusable; so is a WIRE member (not built yet)', () => {
    const v = view([chain([hop({ members: [fn(1)] })])]);
    v.networks['svc-out'] = { ...v.networks['svc-out']!, domainId: 'other-router' };
    expect(rulesOf(v).filter((r) => r.startsWith('meta mark 0')).every((r) => r.endsWith(' drop'))).toBe(true);
    expect(desired(v).routes).toEqual({});
    const wire = rulesOf(view([chain([hop({ mode: 'wire', members: [fn(1)] })])]));
    expect(wire.filter((r) => r.startsWith('meta mark 0')).every((r) => r.endsWith(' drop'))).toBe(true);
  });

  it('two hops: back from the first hop\'s leg goes on to the second; back from the last is routed normally', () => {
    const v = view([chain([hop({ selection: 'active-standby', members: [fn(1)], activeFunctionId: 'f1' }), hop({ groupId: 'g2', selection: 'active-standby', members: [fn(2)], activeFunctionId: 'f2' })], { symmetric: false })]);
    const rules = rulesOf(v);
    expect(rules.find((r) => r.startsWith('iifname "qr103" ether saddr 02:00:00:00:04:01 meta'))).toMatch(/ meta mark set 0x5343[0-9a-f]{4} accept$/);
    expect(rules.find((r) => r.startsWith('iifname "qr103" ether saddr 02:00:00:00:04:02 meta'))).toMatch(/ accept$/);
    expect(rules.find((r) => r.startsWith('iifname "qr103" ether saddr 02:00:00:00:04:02 meta'))).not.toContain('mark set');
    // Not symmetric: no return classification.
    expect(rules.filter((r) => r.startsWith('meta mark 0'))).toHaveLength(1);
  });

  it('classifiers: ICMPv6 on IPv4, ICMP on IPv6 and a CIDR of the other family match nothing; ports only for tcp/udp; the return direction swaps ends and ports', () => {
    expect(classifierMatch({ ...classifier, ethertype: 'IPv6' }, 'fwd')).toBeNull();
    expect(classifierMatch({ ...classifier, protocol: 'icmpv6' }, 'fwd')).toBeNull();
    expect(classifierMatch({ ...classifier6, protocol: 'icmp' }, 'fwd')).toBeNull();
    expect(classifierMatch({ ...classifier6, protocol: 'icmpv6' }, 'rev')).toBe(`meta nfproto ipv6 meta l4proto ipv6-icmp ip6 saddr fd00:2::/64 ip6 daddr @${chainSetName('WEB', 6)}`);
    expect(classifierMatch(classifier6, 'fwd')).toBe(`meta nfproto ipv6 meta l4proto tcp ip6 saddr @${chainSetName('WEB', 6)} ip6 daddr fd00:2::/64 th dport 9000-9001`);
    expect(hashFields(classifier6, 'rev')).toBe('ip6 daddr . ip6 saddr . th dport . th sport');
    expect(classifierMatch({ ...classifier, protocol: 'icmp' }, 'fwd')).toBe(`meta nfproto ipv4 meta l4proto icmp ip saddr @${chainSetName('WEB', 4)} ip daddr 10.0.2.0/24`);
    expect(classifierMatch({ ...classifier, protocol: 'any', source: { groupId: null, cidr: null } }, 'rev')).toBe('meta nfproto ipv4 ip saddr 10.0.2.0/24');
    expect(classifierMatch({ ...classifier, sourcePorts: { min: 1, max: 1 } }, 'rev')).toBe(`meta nfproto ipv4 meta l4proto tcp ip saddr 10.0.2.0/24 ip daddr @${chainSetName('WEB', 4)} th sport 9000-9001 th dport 1`);
  });

  it('a domain without a namespace here, or a lone network, gets nothing', () => {
    const v = view([chain([hop({ members: [fn(1)] })])]);
    expect(desiredChaining(v, PREFIX, {})).toEqual({ tables: {}, routes: {}, rules: {} });
    v.domains[R] = { ...v.domains[R]!, kind: 'network' };
    expect(desired(v)).toEqual({ tables: {}, routes: {}, rules: {} });
  });
});

describe('IPv6 classifiers', () => {
  /** The view with IPv6 subnets on every network and IPv6 addresses on the legs (`v6Legs`: which members have them). */
  function dualStack(chains: HostChain[], v6Legs = (_n: number) => true): HostViewSnapshot {
    const v = view(chains.map((c) => ({ ...c, hops: c.hops.map((h) => ({ ...h, members: h.members.map((m) => withV6(m, v6Legs)) })) })));
    for (const [id, n] of [['web', 1], ['app', 2], ['svc-in', 3], ['svc-out', 4]] as const) {
      const nw = v.networks[id]!;
      v.networks[id] = { ...nw, subnets: [...nw.subnets, { id: `s6-${id}`, ipVersion: 6, cidr: `fd00:${n}::/64`, gatewayIp: `fd00:${n}::1`, enableDhcp: false }] };
    }
    return v;
  }
  const withV6 = (m: ChainMember, v6Legs: (n: number) => boolean): ChainMember => {
    const n = Number(m.functionId.slice(1));
    if (!v6Legs(n)) return m;
    return { ...m, ingress: { ...m.ingress, ips: [...m.ingress.ips, `fd00:3::${n}`] }, egress: { ...m.egress, ips: [...m.egress.ips, `fd00:4::${n}`] } };
  };

  it('routes an IPv6 classifier\'s marks by `ip -6` rules to the legs\' IPv6 addresses; both directions of a flow pick the same member', () => {
    const v = dualStack([chain([hop({ members: [fn(1), fn(2), fn(3)] })], { classifiers: [classifier6] })]);
    const d = desired(v);
    expect(Object.values(d.routes).map((r) => `${r.dst} via ${r.via} dev ${r.dev}`).sort()).toEqual(
      ['fd00:3::1 dev qr102', 'fd00:3::2 dev qr102', 'fd00:3::3 dev qr102', 'fd00:4::1 dev qr103', 'fd00:4::2 dev qr103', 'fd00:4::3 dev qr103'].map((x) => `::/0 via ${x}`),
    );
    expect(Object.values(d.rules).every((r) => r.family === 6)).toBe(true);
    expect(Object.values(d.rules).map((r) => [r.pref, Number(r.fwmark), r.table]).sort()).toEqual(Object.values(d.routes).map((r) => [1000, r.table, r.table]).sort());
    const rules = rulesOf(v);
    const fwd = rules.find((r) => r.startsWith('meta mark 0') && r.includes('ip6 saddr @'))!;
    const rev = rules.find((r) => r.startsWith('meta mark 0') && r.includes('ip6 daddr @'))!;
    expect(fwd).toContain(`jhash ${hashFields(classifier6, 'fwd')} mod 64`);
    const f = bucketMembers(v, fwd, (m) => m.ingress.ips[1]!);
    expect(f).toEqual(bucketMembers(v, rev, (m) => m.egress.ips[1]!));
    expect(f).toEqual(bucketOwners(['f1', 'f2', 'f3']));
  });

  it('an IPv4 and an IPv6 classifier share a member\'s marks: one rule and one table per mark and family', () => {
    const v = dualStack([chain([hop({ selection: 'active-standby', members: [fn(1)], activeFunctionId: 'f1' })], { classifiers: [classifier, classifier6] })]);
    const d = desired(v);
    const byMark = new Map<number, string[]>();
    for (const r of Object.values(d.routes)) byMark.set(r.table!, [...(byMark.get(r.table!) ?? []), r.via!].sort());
    expect([...byMark.values()].sort()).toEqual([['10.0.3.1', 'fd00:3::1'], ['10.0.4.1', 'fd00:4::1']]);
    expect(Object.values(d.rules).map((r) => `${r.family} ${r.fwmark}`).sort()).toEqual([...byMark.keys()].flatMap((m) => [4, 6].map((f) => `${f} 0x${m.toString(16)}`)).sort());
  });

  it('a member without an IPv6 address on a leg is unusable for IPv6 classifiers only', () => {
    const v = dualStack([chain([hop({ selection: 'active-standby', members: [fn(1)], activeFunctionId: 'f1' })], { classifiers: [classifier, classifier6] })], () => false);
    const rules = rulesOf(v).filter((r) => r.startsWith('meta mark 0'));
    expect(rules.filter((r) => r.includes('ipv6'))).toEqual([expect.stringMatching(/ drop$/), expect.stringMatching(/ drop$/)]);
    expect(rules.filter((r) => r.includes('ipv4')).every((r) => / meta mark set 0x5343[0-9a-f]{4}$/.test(r))).toBe(true);
    expect(Object.values(desired(v).rules).every((r) => r.family === 4)).toBe(true);
    // Back from its legs: only the IPv4 classifier goes on.
    expect(rulesOf(v).filter((r) => r.startsWith('iifname') && r.includes('meta nfproto ipv6'))).toEqual([]);
  });

  it('neighbour discovery is accepted before anything can steer or drop it (a fail-closed "any" classifier)', () => {
    const any6: FlowClassifier = { ...classifier6, protocol: 'any', destination: { groupId: null, cidr: null }, destinationPorts: null };
    const rules = rulesOf(dualStack([chain([hop({ members: [fn(1, false)] })], { classifiers: [any6] })]));
    expect(rules[0]).toMatch(/^icmpv6 type \{ .*nd-neighbor-solicit, nd-neighbor-advert.* \} accept$/);
    expect(rules.filter((r) => r.startsWith('meta mark 0'))).toEqual([`meta mark 0 meta nfproto ipv6 ip6 saddr @${chainSetName('WEB', 6)} drop`, `meta mark 0 meta nfproto ipv6 ip6 daddr @${chainSetName('WEB', 6)} drop`]);
  });
});

describe('the chaining membership fast path', () => {
  it('element deltas, applied in any sequence, equal the full computation', () => {
    const c = chain([hop({ members: [fn(1)] })], { classifiers: [classifier, { ...classifier, id: 'c2', source: { groupId: 'DB', cidr: null } }] });
    const ip = fc.constantFrom('10.0.0.1', '10.0.0.2', '10.00.0.3', 'fd00::1', 'FD00:0::1', 'garbage');
    const op = fc.record({ group: fc.constantFrom('WEB', 'DB', 'NOT-CLASSIFIED'), port: fc.constantFrom('p1', 'p2', 'p3'), ips: fc.option(fc.array(ip, { maxLength: 3 })) });
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 4 }), { maxLength: 6 }), (batches) => {
        let v = view([c], 0);
        const applied: Record<string, NftState> = structuredClone(Object.fromEntries(Object.entries(desired(v).tables).map(([ns, t]) => [ns, { tables: { inet: t } }])));
        const index = chainingMemberIndex(v, applied);
        for (const batch of batches) {
          const changes: MemberChange[] = [];
          const members = { ...v.members };
          for (const o of batch) {
            const key = `${o.group}.${o.port}`;
            const before = members[key];
            const after = o.ips === null ? undefined : { groupId: o.group, portId: o.port, ips: o.ips };
            if (after) members[key] = after;
            else delete members[key];
            if (before || after) changes.push({ ...(before ? { before } : {}), ...(after ? { after } : {}) });
          }
          v = { ...v, members };
          for (const d of index.apply(changes)) {
            const { ns, set } = splitSetKey(d.set);
            patchSorted(applied[ns]!.tables.inet!.sets[set]!.elements, d);
          }
          expect(applied[NS]!.tables.inet!.sets).toEqual(desired(v).tables[NS]!.sets);
        }
      }),
    );
  });
});

describe('the chain-key fast path (steeringUpdate)', () => {
  /** What a full pass leaves applied: the manager's part (its tables per namespace, routes, rules), deep-copied. */
  const appliedOf = (v: HostViewSnapshot) => {
    const d: ChainingState = structuredClone(desired(v));
    return { tables: Object.fromEntries(Object.entries(d.tables).map(([ns, t]) => [ns, { tables: { inet: t } } as NftState])), routes: d.routes, rules: d.rules };
  };
  /** The fast path on `applied` (patched in place as the manager does); false when it declined. */
  const fast = (applied: ReturnType<typeof appliedOf>, v: HostViewSnapshot): boolean => {
    const updates = steeringUpdate(v, PREFIX, applied, [NS]);
    if (updates === null) return false;
    for (const u of updates) applied.tables[u.ns]!.tables.inet!.chains.pre!.rules = u.table.chains.pre!.rules;
    return true;
  };
  const pair = (active: string | null, over: Partial<ChainHop> = {}) => chain([hop({ selection: 'active-standby', members: [fn(1), fn(2)], activeFunctionId: active, ...over })]);

  it('an active-member swap rewrites only the steering chain: flush and add in one script, and the patched record equals the full computation', () => {
    const before = view([pair('f1')]);
    const after = view([pair('f2')]);
    const applied = appliedOf(before);
    const [u] = steeringUpdate(after, PREFIX, applied, [NS])!;
    expect(u!.commands[0]).toEqual({ cmd: 'flush-chain', family: 'inet', name: 'pre' });
    expect(u!.commands.slice(1).every((c) => c.cmd === 'add-rule' && c.chain === 'pre')).toBe(true);
    expect(u!.commands).toHaveLength(1 + desired(after).tables[NS]!.chains.pre!.rules.length);
    expect(fast(applied, after)).toBe(true);
    expect(applied).toEqual(appliedOf(after));
    // The classification now sets the other member's mark.
    expect(desired(after).tables[NS]!.chains.pre!.rules).not.toEqual(desired(before).tables[NS]!.chains.pre!.rules);
  });

  it('a chain key change that leaves the rules alone needs no command', () => {
    const applied = appliedOf(view([pair('f1')]));
    const updates = steeringUpdate(view([pair('f1', { members: [fn(1), fn(2, false)] })]), PREFIX, applied, [NS])!;
    expect(updates.map((u) => u.commands)).toEqual([[]]);
  });

  it('declines when marks, routing tables, sets or the namespace\'s table would change', () => {
    const applied = appliedOf(view([pair('f1')]));
    // A third member: new marks, routes and rules.
    expect(steeringUpdate(view([pair('f1', { members: [fn(1), fn(2), fn(3)] })]), PREFIX, applied, [NS])).toBeNull();
    // A classifier naming another group: a new set.
    expect(steeringUpdate(view([{ ...pair('f1'), classifiers: [classifier, { ...classifier, id: 'c2', source: { groupId: 'DB', cidr: null } }] }]), PREFIX, applied, [NS])).toBeNull();
    // The last chain goes: the table goes.
    expect(steeringUpdate(view([]), PREFIX, applied, [NS])).toBeNull();
    // A first chain in a namespace without a table.
    expect(steeringUpdate(view([pair('f1')]), PREFIX, appliedOf(view([])), [NS])).toBeNull();
  });

  it('any sequence of chain changes: the fast path, where it applies, leaves exactly what the full computation has; it declines only when more than the steering chain differs', () => {
    const member = fc.record({ n: fc.integer({ min: 1, max: 3 }), healthy: fc.boolean() });
    const hopArb = fc.record({
      selection: fc.constantFrom('active-standby' as const, 'flow-hash' as const),
      fallback: fc.constantFrom('fail-closed' as const, 'fail-open' as const),
      members: fc.uniqueArray(member, { selector: (m) => m.n, maxLength: 3 }),
      active: fc.option(fc.integer({ min: 1, max: 3 })),
    });
    const chainArb = fc.record({ hops: fc.array(hopArb, { minLength: 1, maxLength: 2 }), symmetric: fc.boolean(), v6: fc.boolean() });
    type Spec = { hops: { selection: 'active-standby' | 'flow-hash'; fallback: 'fail-closed' | 'fail-open'; members: { n: number; healthy: boolean }[]; active: number | null }[]; symmetric: boolean; v6: boolean };
    /** Mostly what a failover or a health report does to the previous chain: another active member, other health, another fallback. */
    const tweakArb = fc.record({ hop: fc.nat(1), active: fc.option(fc.integer({ min: 1, max: 3 })), healthy: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fallback: fc.constantFrom('fail-closed' as const, 'fail-open' as const) });
    const stepArb = fc.oneof({ weight: 1, arbitrary: fc.option(chainArb, { freq: 8 }).map((c) => ({ replace: c as Spec | null })) }, { weight: 4, arbitrary: tweakArb.map((t) => ({ tweak: t })) });
    const toView = (c: Spec | null): HostViewSnapshot =>
      view(
        c === null
          ? []
          : [
              chain(
                c.hops.map((h, i) => hop({ groupId: `g${i}`, selection: h.selection, fallback: h.fallback, members: h.members.map((m) => fn(m.n, m.healthy)), activeFunctionId: h.active === null ? null : `f${h.active}` })),
                { symmetric: c.symmetric, classifiers: c.v6 ? [classifier, classifier6] : [classifier] },
              ),
            ],
      );
    let fastOnes = 0;
    fc.assert(
      fc.property(chainArb, fc.array(stepArb, { minLength: 1, maxLength: 8 }), (first, steps) => {
        let spec: Spec | null = first;
        let applied = appliedOf(toView(spec));
        for (const step of steps) {
          if ('replace' in step) spec = step.replace;
          else if (spec) {
            const t = step.tweak;
            spec = { ...spec, hops: spec.hops.map((h, i) => (i !== t.hop % spec!.hops.length ? h : { ...h, active: t.active, fallback: t.fallback, members: h.members.map((m) => ({ ...m, healthy: t.healthy[m.n - 1]! })) })) };
          }
          const v = toView(spec);
          const full = appliedOf(v);
          const onlyPre = (t: typeof full) => ({ ...t, tables: Object.fromEntries(Object.entries(t.tables).map(([ns, s]) => [ns, { ...s.tables.inet, chains: { ...s.tables.inet!.chains, pre: null } }])) });
          const samePlumbing = isDeepStrictEqual(onlyPre(full), onlyPre(applied)) && full.tables[NS] !== undefined;
          expect(fast(applied, v)).toBe(samePlumbing);
          if (samePlumbing) fastOnes++;
          else applied = full; // the full pass
          expect(applied).toEqual(full);
        }
      }),
      { numRuns: 200 },
    );
    // The fast path must have been taken, and often (a failover or health change is its case).
    expect(fastOnes).toBeGreaterThan(100);
  });
});
