/**
 * Service chaining (L3 steering) → kernel state. Pure.
 *
 * In each routing-domain namespace with a chain (`HostChain`), on every host
 * that realises the router, so that this host steers the flows its own VMs
 * start (and, on an appliance's host, the packets that come back from it):
 *
 *   table `inet strata` (the domain namespace's `ip strata` is NAT's)
 *     sets   g_<group>_v4 / g_<group>_v6   addresses of a classifier group's members (member keys)
 *     chain  pre (filter, prerouting, priority mangle −150), in order:
 *       1. from an appliance leg (its gateway interface and its MAC) with a chain's classifier
 *          for the leg's direction: the next hop's mark, or drop / accept (last hop: route normally);
 *          any other packet from a leg: accept (an appliance's packets are never classified);
 *       2. `ct direction original` with a live steering mark in its conntrack mark: restore it;
 *       3. classification: `meta mark 0` + a chain's classifier (forward; with source and
 *          destination swapped for the return direction of a symmetric chain) → the first
 *          usable hop's mark (or drop: fail-closed without member; skip: fail-open);
 *       4. a marked packet of the original direction remembers its mark in its conntrack mark.
 *     chain  out (filter, output): no ICMP redirects (a steered packet often leaves by the
 *          interface it came in; a redirect would teach the VM to bypass the router).
 *   per mark and family it routes (for every L3 member whose legs are usable here, chosen now
 *   or not, so that a failover changes only the `pre` chain's rules):
 *   `ip [-6] rule pref 1000 fwmark M lookup M` and table M:
 *   `default via <leg address> dev qr<vni> onlink` (forward: the member's ingress address;
 *   return: its egress address; an IPv6 classifier's marks: the legs' IPv6 addresses).
 *
 * Marks: 0x5343xxxx, one per (chain, direction, hop, member), xxxx a hash of
 * that tuple with probing (stable while the chain's members stay); the
 * routing table has the mark's number. Choosing a member: active-standby →
 * the active one; flow-hash → `jhash` of the flow (tcp/udp: addresses and
 * ports, else addresses; the return direction hashes the same fields in
 * swapped order) mod 64, each bucket owned by a healthy member by
 * rendezvous hashing (only a leaving member's buckets move; every host
 * computes the same owners). The number of rules depends on chains,
 * classifiers and appliance members, never on classifier group sizes.
 *
 * A member is usable for a classifier when both its legs are on networks of
 * the chain's router here with a gateway subnet of the classifier's family
 * holding one of the leg's addresses (the packet goes out by one and comes
 * back by the other), it is L3 and (for flow-hash) healthy. ICMPv6
 * neighbour discovery is accepted before anything else: never steered, never
 * dropped by a fail-closed hop.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ChainHop, ChainLeg, ChainMember, FlowClassifier, HostChain } from '@strata/contracts';
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import { MemberIndex } from './members.js';
import { domainNamespace, gatewayDomainEnd, nftId } from './names.js';
import { diffNft, emptyNftTable, nftRule, type NftCmd, type NftRule, type NftState, type NftTable } from './nft.js';
import { allocate, canonicalIp } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';
import { routeKey, ruleKey, type KernelState, type RouteEntry, type RuleEntry } from './types.js';

/** Flow-hash buckets per hop. */
export const BUCKETS = 64;
/** Fixed seed: every host must compute the same bucket for a flow (`symhash` is seeded per boot). */
export const HASH_SEED = 0x53434831;
/** Marks and routing tables of steering decisions: 0x5343 ("SC") in the high half. */
export const MARK_BASE = 0x53430000;
/** Preference of the steering rules (before the main table's 32766). */
export const RULE_PREF = 1000;
/** Priority of the steering chain: mangle, before NAT's DNAT (−100). */
export const STEER_PRIO = -150;

export type Direction = 'fwd' | 'rev';

/** A classifier group's member addresses in a domain namespace. */
export const chainSetName = (groupId: string, v: 4 | 6): string => `g_${nftId(groupId)}_v${v}`;

/**
 * The membership index of the chaining sets applied in `tables` (domain
 * namespace → its Strata nft tables): a set is keyed `<ns> <set>`, and a
 * group's addresses go to its set in every namespace that has one.
 */
export function chainingMemberIndex(view: HostViewSnapshot, tables: Record<string, NftState>): MemberIndex {
  const keys = new Set(Object.entries(tables).flatMap(([ns, s]) => Object.keys(s.tables.inet?.sets ?? {}).map((set) => `${ns} ${set}`)));
  const namespaces = Object.keys(tables).sort();
  return new MemberIndex(view, keys, (g, v) => namespaces.map((ns) => `${ns} ${chainSetName(g, v)}`));
}

/** `<ns> <set>` → its parts. */
export const splitSetKey = (key: string): { ns: string; set: string } => {
  const i = key.indexOf(' ');
  return { ns: key.slice(0, i), set: key.slice(i + 1) };
};

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** What entering a hop (or the rest of the chain from it) does with a flow. */
export type Entry = { kind: 'mark'; text: string; marks: number[] } | { kind: 'drop' } | { kind: 'pass' };

/** Where a mark sends a packet of one family. */
interface Target {
  mark: number;
  family: Family;
  via: string;
  dev: string;
}

export type Family = 4 | 6;

interface UsableLeg {
  dev: string;
  ip: string;
}

export interface ChainingState {
  /** Domain namespace → its `inet strata` table. */
  tables: Record<string, NftTable>;
  routes: Record<string, RouteEntry>;
  rules: Record<string, RuleEntry>;
}

/** The chaining objects of this host; `namespaces`: the domain namespaces the overlay has here. */
export function desiredChaining(view: HostViewSnapshot, nsPrefix: string, namespaces: KernelState['namespaces']): ChainingState {
  const out: ChainingState = { tables: {}, routes: {}, rules: {} };
  const byNs = new Map<string, HostChain[]>();
  for (const c of Object.values(view.chains).sort((a, b) => cmp(a.id, b.id))) {
    const ns = domainNamespace(nsPrefix, c.domainId);
    if (view.domains[c.domainId]?.kind !== 'router' || !namespaces[ns]) continue;
    let list = byNs.get(ns);
    if (!list) byNs.set(ns, (list = []));
    list.push(c);
  }
  for (const [ns, chains] of byNs) {
    const t = domainTable(view, ns, chains);
    out.tables[ns] = t.table;
    for (const target of t.targets.values()) {
      const route: RouteEntry = { ns, dst: target.family === 4 ? '0.0.0.0/0' : '::/0', dev: target.dev, via: target.via, table: target.mark };
      out.routes[routeKey(route)] = route;
      const rule: RuleEntry = { ns, family: target.family, pref: RULE_PREF, fwmark: hex8(target.mark), table: target.mark };
      out.rules[ruleKey(rule)] = rule;
    }
  }
  return out;
}

function domainTable(view: HostViewSnapshot, ns: string, chains: HostChain[]): { table: NftTable; targets: Map<string, Target> } {
  const table = emptyNftTable('inet');
  const groups = new Set<string>();
  for (const c of chains) for (const cl of c.classifiers) for (const g of [cl.source.groupId, cl.destination.groupId]) if (g !== null) groups.add(g);
  for (const g of [...groups].sort()) {
    for (const v of [4, 6] as const) table.sets[chainSetName(g, v)] = { name: chainSetName(g, v), type: v === 4 ? 'ipv4_addr' : 'ipv6_addr', elements: [] };
  }
  for (const m of Object.values(view.members)) {
    if (!groups.has(m.groupId)) continue;
    for (const ip of m.ips) {
      const a = canonicalIp(ip);
      if (a) table.sets[chainSetName(m.groupId, a.version)]!.elements.push(a.text);
    }
  }
  for (const s of Object.values(table.sets)) s.elements = [...new Set(s.elements)].sort();

  const marks = allocate(chains.flatMap((c) => c.hops.flatMap((h, i) => h.members.flatMap((m) => (['fwd', 'rev'] as const).map((d) => markId(c.id, d, i, m.functionId))))));
  const markOf = (c: HostChain, d: Direction, hop: number, m: ChainMember): number => MARK_BASE | marks.get(markId(c.id, d, hop, m.functionId))!;
  const targets = new Map<string, Target>();
  const legOf = (c: HostChain, l: ChainLeg, f: Family): UsableLeg | null => usableLeg(view, c.domainId, l, f);

  const back: NftRule[] = [];
  const fromLegs: NftRule[] = [];
  const classify: NftRule[] = [];
  const live = new Set<number>();
  for (const c of chains) {
    const dirs: Direction[] = c.symmetric ? ['fwd', 'rev'] : ['fwd'];
    /** Per direction, the classifiers that can match here: their match, jhash input and family. */
    const matchers = new Map<Direction, { match: string; hash: string; family: Family }[]>(
      dirs.map((d) => [d, c.classifiers.flatMap((cl) => { const match = classifierMatch(cl, d); return match === null ? [] : [{ match, hash: hashFields(cl, d), family: familyOf(cl) }]; })]),
    );
    const legsOk = (m: ChainMember, f: Family): boolean => legOf(c, m.ingress, f) !== null && legOf(c, m.egress, f) !== null;
    /** Entering the chain at position p of direction d (p = hops: past the last) with a packet of family f. */
    const entry = (d: Direction, p: number, hash: string, f: Family): Entry => {
      const order = d === 'fwd' ? c.hops.map((_, i) => i) : c.hops.map((_, i) => c.hops.length - 1 - i);
      for (const i of order.slice(p)) {
        const hop = c.hops[i]!;
        const usable = usableMembers(hop, (m) => legsOk(m, f));
        if (usable.length === 0) {
          if (hop.fallback === 'fail-closed') return { kind: 'drop' };
          continue;
        }
        const owners = bucketOwners(usable.map((m) => m.functionId));
        const markFor = new Map(usable.map((m) => [m.functionId, markOf(c, d, i, m)]));
        if (usable.length === 1) {
          const mark = markOf(c, d, i, usable[0]!);
          return { kind: 'mark', text: `meta mark set ${hex8(mark)}`, marks: [mark] };
        }
        const map = bucketRanges(owners.map((f) => markFor.get(f)!));
        return { kind: 'mark', text: `meta mark set jhash ${hash} mod ${BUCKETS} seed ${hex8(HASH_SEED)} map { ${map} }`, marks: [...markFor.values()] };
      }
      return { kind: 'pass' };
    };
    // Every member that could be chosen has its mark's route and rule, whichever is chosen now (active, healthy):
    // a failover or a health change then changes the steering chain's rules only (the chain-key fast path).
    for (const d of dirs) {
      const families = new Set(matchers.get(d)!.map((m) => m.family));
      c.hops.forEach((hop, i) => {
        if (hop.mode !== 'l3') return;
        for (const m of hop.members) {
          for (const f of families) {
            if (!legsOk(m, f)) continue;
            const leg = legOf(c, d === 'fwd' ? m.ingress : m.egress, f)!;
            const mark = markOf(c, d, i, m);
            targets.set(`${f}/${mark}`, { mark, family: f, via: leg.ip, dev: leg.dev });
          }
        }
      });
    }
    for (const d of dirs) {
      const ms = matchers.get(d)!;
      const order = d === 'fwd' ? c.hops.map((_, i) => i) : c.hops.map((_, i) => c.hops.length - 1 - i);
      // 1. Back from a member's leg at position p: on to position p + 1 (the classifiers of the families the member is usable in).
      order.forEach((i, p) => {
        for (const m of c.hops[i]!.members) {
          const families = ([4, 6] as const).filter((f) => legsOk(m, f));
          if (families.length === 0) continue;
          const leg = legOf(c, d === 'fwd' ? m.egress : m.ingress, families[0]!)!;
          const from = `iifname "${leg.dev}" ether saddr ${m[d === 'fwd' ? 'egress' : 'ingress'].mac.toLowerCase()}`;
          for (const { match, hash, family } of ms) {
            if (!families.includes(family)) continue;
            const e = entry(d, p + 1, hash, family);
            back.push(nftRule(`${from} ${match} ${verdict(e, true)}`, refsOf(match)));
          }
          const rule = nftRule(`${from} accept`);
          if (!fromLegs.some((r) => r.id === rule.id)) fromLegs.push(rule);
        }
      });
      // 3. Classification.
      ms.forEach(({ match, hash, family }) => {
        const e = entry(d, 0, hash, family);
        if (e.kind === 'mark') for (const mk of e.marks) live.add(mk);
        classify.push(nftRule(`meta mark 0 ${match} ${verdict(e, false)}`, refsOf(match)));
      });
    }
  }
  const restore = live.size === 0 ? [] : [nftRule(`ct direction original ct mark { ${[...live].sort((a, b) => a - b).map(hex8).join(', ')} } meta mark set ct mark accept`)];
  const remember = nftRule('meta mark != 0 ct direction original ct mark set meta mark');
  table.chains.pre = {
    name: 'pre',
    base: { type: 'filter', hook: 'prerouting', prio: STEER_PRIO, policy: 'accept' },
    rules: [nftRule(`icmpv6 type { ${ND_TYPES.join(', ')} } accept`), ...back, ...fromLegs, ...restore, ...classify, remember],
  };
  table.chains.out = {
    name: 'out',
    base: { type: 'filter', hook: 'output', prio: 0, policy: 'accept' },
    rules: [nftRule('icmp type redirect drop'), nftRule('icmpv6 type nd-redirect drop')],
  };
  return { table, targets };
}

/** ICMPv6 neighbour discovery: the router's own business on every link, never steered or dropped by a chain. */
const ND_TYPES = ['nd-router-solicit', 'nd-router-advert', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-redirect'];

/** The verdict of an entry: from an appliance leg every outcome ends the chain; a classification's mark is remembered by the last rule. */
function verdict(e: Entry, fromLeg: boolean): string {
  if (e.kind === 'drop') return 'drop';
  if (e.kind === 'pass') return 'accept';
  return fromLeg ? `${e.text} accept` : e.text;
}

const refsOf = (match: string): string[] => [...match.matchAll(/@(\S+)/g)].map((m) => `set:${m[1]}`);

const markId = (chainId: string, d: Direction, hop: number, functionId: string): string => `${chainId}/${d}/${hop}/${functionId}`;

/** The members a hop may send flows to now (in the group's order). */
export function usableMembers(hop: ChainHop, legsOk: (m: ChainMember) => boolean): ChainMember[] {
  const ok = legsOk;
  if (hop.mode !== 'l3') return [];
  if (hop.selection === 'active-standby') {
    const active = hop.members.find((m) => m.functionId === hop.activeFunctionId);
    return active && ok(active) ? [active] : [];
  }
  return hop.members.filter((m) => m.healthy && ok(m));
}

/** A leg this domain can route packets of family f to: its network is the domain's here, with a gateway subnet of f holding one of the leg's addresses. */
export function usableLeg(view: HostViewSnapshot, domainId: string, leg: ChainLeg, f: Family): UsableLeg | null {
  const net = view.networks[leg.networkId];
  if (!net || net.domainId !== domainId) return null;
  for (const s of net.subnets) {
    if (s.ipVersion !== f || s.gatewayIp === null) continue;
    const prefix = safe(() => parsePrefix(s.cidr, false));
    if (!prefix) continue;
    for (const ip of leg.ips) {
      const a = canonicalIp(ip);
      if (a?.version === f && safe(() => contains(prefix, parseAddress(a.text)))) return { dev: gatewayDomainEnd(net.vni), ip: a.text };
    }
  }
  return null;
}

/** Owner (function id) of each of the 64 buckets: rendezvous hashing, the member with the highest score for the bucket. */
export function bucketOwners(functionIds: string[]): string[] {
  const ids = [...new Set(functionIds)].sort();
  if (ids.length === 0) return [];
  const owners: string[] = [];
  for (let b = 0; b < BUCKETS; b++) {
    let best = ids[0]!;
    let bestScore = -1n;
    for (const id of ids) {
      const score = rendezvousScore(id, b);
      if (score > bestScore) [best, bestScore] = [id, score];
    }
    owners.push(best);
  }
  return owners;
}

const rendezvousScore = (id: string, bucket: number): bigint => BigInt(`0x${createHash('sha256').update(`${id}|${bucket}`).digest('hex').slice(0, 13)}`);

/** Bucket → mark as nft map text, consecutive buckets with one mark as a range. */
function bucketRanges(marks: number[]): string {
  const parts: string[] = [];
  for (let b = 0; b < marks.length; ) {
    let e = b;
    while (e + 1 < marks.length && marks[e + 1] === marks[b]) e++;
    parts.push(`${b === e ? b : `${b}-${e}`} : ${hex8(marks[b]!)}`);
    b = e + 1;
  }
  return parts.join(', ');
}

const familyOf = (cl: FlowClassifier): Family => (cl.ethertype === 'IPv6' ? 6 : 4);
/** nft's address payload of a family. */
const ipOf = (f: Family): string => (f === 4 ? 'ip' : 'ip6');

/**
 * The match of a classifier for one direction (`rev`: source and
 * destination swapped), or null when it can match nothing (ICMP on IPv6,
 * ICMPv6 on IPv4, a CIDR of the other family).
 */
export function classifierMatch(cl: FlowClassifier, d: Direction): string | null {
  const f = familyOf(cl);
  if ((f === 4 && cl.protocol === 'icmpv6') || (f === 6 && cl.protocol === 'icmp')) return null;
  const [src, dst] = d === 'fwd' ? [cl.source, cl.destination] : [cl.destination, cl.source];
  const [sp, dp] = d === 'fwd' ? [cl.sourcePorts, cl.destinationPorts] : [cl.destinationPorts, cl.sourcePorts];
  const parts = [`meta nfproto ipv${f}`];
  if (cl.protocol !== 'any') parts.push(`meta l4proto ${cl.protocol === 'icmpv6' ? 'ipv6-icmp' : cl.protocol}`);
  for (const [field, end] of [['saddr', src], ['daddr', dst]] as const) {
    if (end.groupId !== null) parts.push(`${ipOf(f)} ${field} @${chainSetName(end.groupId, f)}`);
    else if (end.cidr !== null) {
      const p = safe(() => parsePrefix(end.cidr!, false));
      if (!p || p.version !== f) return null;
      parts.push(`${ipOf(f)} ${field} ${end.cidr}`);
    }
  }
  const ported = cl.protocol === 'tcp' || cl.protocol === 'udp';
  for (const [field, r] of [['sport', sp], ['dport', dp]] as const) {
    if (r && ported) parts.push(`th ${field} ${r.min === r.max ? r.min : `${r.min}-${r.max}`}`);
  }
  return parts.join(' ');
}

/** The jhash input of a flow in one direction: the return direction lists the same fields swapped, so both hash alike. */
export function hashFields(cl: FlowClassifier, d: Direction): string {
  const ported = cl.protocol === 'tcp' || cl.protocol === 'udp';
  const ip = ipOf(familyOf(cl));
  const fwd = ported ? [`${ip} saddr`, `${ip} daddr`, 'th sport', 'th dport'] : [`${ip} saddr`, `${ip} daddr`];
  const rev = ported ? [`${ip} daddr`, `${ip} saddr`, 'th dport', 'th sport'] : [`${ip} daddr`, `${ip} saddr`];
  return (d === 'fwd' ? fwd : rev).join(' . ');
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A domain namespace's steering table brought to the view by the chain-key fast path: its nft commands and the table they leave. */
export interface SteeringUpdate {
  ns: string;
  /** flush + add of the `pre` chain's rules only; empty: nothing to do. */
  commands: NftCmd[];
  /** The applied table as the full computation has it now. */
  table: NftTable;
}

/**
 * The chain-key fast path, pure part: the steering tables of `namespaces`
 * (the domain namespaces whose chains changed) for `view`, against what
 * was applied (`applied`: this manager's part). Null when the change is
 * more than the `pre` chain's rules (a namespace gains or loses its table,
 * a mark, route, rule, set, chain or counter comes or goes): then only a
 * full pass will do.
 *
 * Set elements follow members, never chain keys, and the membership fast
 * path keeps the applied ones exact; so the members are left out of the
 * computation (its cost does not grow with group sizes) and the applied
 * elements kept.
 */
export function steeringUpdate(view: HostViewSnapshot, nsPrefix: string, applied: Pick<ChainingState, 'routes' | 'rules'> & { tables: Record<string, NftState> }, namespaces: readonly string[]): SteeringUpdate[] | null {
  const present = Object.fromEntries(namespaces.map((ns) => [ns, { name: ns, sysctls: {} }]));
  const want = desiredChaining({ ...view, members: {} }, nsPrefix, present);
  const inNs = new Set(namespaces);
  for (const kind of ['routes', 'rules'] as const) {
    const had = Object.fromEntries(Object.entries(applied[kind]).filter(([, e]) => inNs.has(e.ns)));
    if (!isDeepStrictEqual(had, want[kind])) return null;
  }
  const updates: SteeringUpdate[] = [];
  for (const ns of namespaces) {
    const have = applied.tables[ns]?.tables.inet;
    const table = want.tables[ns];
    if (!have || !table) return null;
    for (const [name, s] of Object.entries(table.sets)) s.elements = have.sets[name]?.elements ?? s.elements;
    const commands = diffNft({ tables: { inet: table } }, { tables: { inet: have } });
    if (!commands.every((c) => (c.cmd === 'flush-chain' && c.name === 'pre') || (c.cmd === 'add-rule' && c.chain === 'pre'))) return null;
    updates.push({ ns, commands, table });
  }
  return updates;
}
