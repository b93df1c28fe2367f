/**
 * Service chaining, WIRE mode (transparent bump-in-the-wire appliances) →
 * the objects of the appliance's host. Pure: the desired objects, their
 * reading from `nft -j` and `bridge -j -d link show`, and the plan.
 *
 * Steering happens only on the host of a WIRE member's legs, at the egress
 * of the devices by which frames leave the chain's bridges there (the local
 * ports' taps and `svx<vni>` towards other hosts), after the bridge has
 * applied the sender's anti-spoofing and both ports' security groups:
 *
 *   table `netdev strata_wire` (in the managed namespace)
 *     sets   g_<group>_v4 / g_<group>_v6             a classifier group's member addresses (member keys)
 *     chain  in_<leg tap>   (ingress of each local WIRE leg)
 *              meta mark set W                        a frame the appliance sends out
 *     chain  out_<device>   (egress of each local tap and svx of the chain's networks, legs excepted)
 *              meta mark and 0xffff == W|<leg id> accept   from a leg: never steered again
 *              <forward classifier> fwd to "<ingress leg tap>"
 *              <reverse classifier> fwd to "<egress leg tap>"     (symmetric chains)
 *
 *   the legs' bridge ports: learning off flood off mcast_flood off bcast_flood off
 *   (the appliance bridges its NICs: it must get no flooded frame, which it
 *   would carry to the other leg, and the legs must not learn the MACs of
 *   the frames it carries).
 *
 * Frames keep their MACs and addresses. The mark W sits in the bits the
 * security-group bridge chains keep (0–15, the "from port" bits) and is a
 * value no filtered port has there (those come from `port_ids`); a leg in a
 * security group gets its own port id written over W by the bridge, so its
 * id counts as "from a leg" too.
 *
 * What is steered: a chain with one hop, WIRE, whose selected member
 * (active-standby: the active one; flow-hash: the first healthy one in group
 * order) has both legs on this host. A flow with no end on the appliance's
 * host never passes here, so it is not steered (hostview's fallback of the
 * L3 router still applies to routed flows as before).
 */
import type { ChainMember, HostChain } from '@strata/contracts';
import { portDevice } from '@strata/contracts';
import { chainSetName, classifierMatch, type Direction } from './chaining.js';
import { nftRule, type NftRule } from './nft.js';
import { canonicalIp } from './secgroups.js';
import type { HostViewSnapshot } from './snapshot.js';
import { vxlanName } from './names.js';

export const WIRE_TABLE = 'strata_wire';
/** Preferred "from a leg" mark value; the next lower one no filtered port uses is taken. */
export const WIRE_MARK = 0xffff;

export interface WireSet {
  name: string;
  type: 'ipv4_addr' | 'ipv6_addr';
  /** Canonical addresses, sorted. */
  elements: string[];
}

export interface WireChain {
  /** `in_<device>` or `out_<device>`: the kernel does not report a netdev chain's device in JSON, so the name carries it. */
  name: string;
  hook: 'ingress' | 'egress';
  rules: NftRule[];
}

export interface WireTable {
  sets: Record<string, WireSet>;
  chains: Record<string, WireChain>;
}

/** A bridge port's flooding and learning flags. */
export interface PortFlags {
  learning: boolean;
  flood: boolean;
  mcastFlood: boolean;
  bcastFlood: boolean;
}

export const LEG_FLAGS: PortFlags = { learning: false, flood: false, mcastFlood: false, bcastFlood: false };
/** What a tap has when no chain isolates it (the kernel's defaults for a new port). */
export const PLAIN_FLAGS: PortFlags = { learning: true, flood: true, mcastFlood: true, bcastFlood: true };

export interface WireState {
  /** Null: no table. */
  table: WireTable | null;
  /** Bridge port (device) → its flags; desired: the legs only (every other port must not look like a leg). */
  ports: Record<string, PortFlags>;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export const chainDevice = (name: string): string => name.replace(/^(in|out)_/, '');

/** The hosts' own port devices. */
const deviceOf = (view: HostViewSnapshot, portId: string): string | null => {
  const p = view.ports[portId];
  return p ? p.device || portDevice(p.id) : null;
};

/** The member a WIRE hop steers to on this host, or null (not WIRE, none selected, or its legs are not both here). */
export function localWireMember(view: HostViewSnapshot, c: HostChain): ChainMember | null {
  if (c.hops.length !== 1 || c.hops[0]!.mode !== 'wire') return null;
  const hop = c.hops[0]!;
  const here = (m: ChainMember): boolean => deviceOf(view, m.ingress.portId) !== null && deviceOf(view, m.egress.portId) !== null && m.ingress.portId !== m.egress.portId;
  if (hop.selection === 'active-standby') {
    const m = hop.members.find((x) => x.functionId === hop.activeFunctionId);
    return m && here(m) ? m : null;
  }
  return hop.members.find((m) => m.healthy && here(m)) ?? null;
}

/**
 * The WIRE objects of this host. `portIds`: the bridge family's `port_ids`
 * (device → its security-group port id, as `0x%08x`), so W avoids them and
 * a filtered leg is recognised by its own id.
 */
export function desiredWire(view: HostViewSnapshot, portIds: Record<string, string>): WireState {
  const chains = Object.values(view.chains).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Every local leg of a WIRE function is isolated, selected or not: a standby bridging appliance must not loop flooded frames either.
  const legs = new Set<string>();
  for (const c of chains) {
    for (const h of c.hops) {
      if (h.mode !== 'wire') continue;
      for (const m of h.members) for (const l of [m.ingress, m.egress]) { const d = deviceOf(view, l.portId); if (d) legs.add(d); }
    }
  }
  const ports: Record<string, PortFlags> = Object.fromEntries([...legs].sort().map((d) => [d, LEG_FLAGS]));
  if (legs.size === 0) return { table: null, ports };

  const used = new Set(Object.values(portIds).map((x) => Number(x) & 0xffff));
  let w = WIRE_MARK;
  while (used.has(w)) w--;
  const fromLeg = [w, ...[...legs].flatMap((d) => (portIds[d] !== undefined ? [Number(portIds[d]) & 0xffff] : []))];
  const table: WireTable = { sets: {}, chains: {} };
  for (const d of legs) table.chains[`in_${d}`] = { name: `in_${d}`, hook: 'ingress', rules: [nftRule(`meta mark set ${hex8(w)}`)] };

  const steering = new Map<string, NftRule[]>();
  const groups = new Set<string>();
  for (const c of chains) {
    const m = localWireMember(view, c);
    if (!m) continue;
    const to: Record<Direction, string> = { fwd: deviceOf(view, m.ingress.portId)!, rev: deviceOf(view, m.egress.portId)! };
    const nets = Object.values(view.networks).filter((n) => n.domainId === c.domainId || n.id === m.ingress.networkId || n.id === m.egress.networkId);
    const netIds = new Set(nets.map((n) => n.id));
    const devices = [
      ...Object.values(view.ports).filter((p) => netIds.has(p.networkId)).map((p) => p.device || portDevice(p.id)),
      ...nets.map((n) => vxlanName(n.vni)),
    ].filter((d) => !legs.has(d));
    const rules: NftRule[] = [];
    for (const d of (c.symmetric ? ['fwd', 'rev'] : ['fwd']) as Direction[]) {
      for (const cl of c.classifiers) {
        const match = classifierMatch(cl, d);
        if (match === null) continue;
        for (const g of [cl.source.groupId, cl.destination.groupId]) if (g !== null) groups.add(g);
        rules.push(nftRule(`${netdevMatch(match)} fwd to "${to[d]}"`, [...match.matchAll(/@(\S+)/g)].map((x) => `set:${x[1]}`)));
      }
    }
    for (const dev of devices) {
      let list = steering.get(dev);
      if (!list) steering.set(dev, (list = []));
      list.push(...rules);
    }
  }
  for (const [dev, rules] of [...steering].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const name = `out_${dev}`;
    table.chains[name] = { name, hook: 'egress', rules: [...fromLeg.map((v) => nftRule(`meta mark and 0x0000ffff == ${hex8(v)} accept`)), ...rules] };
  }
  for (const g of [...groups].sort()) for (const v of [4, 6] as const) table.sets[chainSetName(g, v)] = { name: chainSetName(g, v), type: v === 4 ? 'ipv4_addr' : 'ipv6_addr', elements: [] };
  for (const mem of Object.values(view.members)) {
    if (!groups.has(mem.groupId)) continue;
    for (const ip of mem.ips) {
      const a = canonicalIp(ip);
      if (a) table.sets[chainSetName(mem.groupId, a.version)]!.elements.push(a.text);
    }
  }
  for (const s of Object.values(table.sets)) s.elements = [...new Set(s.elements)].sort();
  return { table, ports };
}

/** The inet family's match in the netdev family: `meta nfproto` is the hook's family there, `meta protocol` the frame's. */
const netdevMatch = (match: string): string => match.replace('meta nfproto ipv4', 'meta protocol ip').replace('meta nfproto ipv6', 'meta protocol ip6');

// ---- reading back ----

interface JsonObj {
  [k: string]: unknown;
}

/** `nft -j list table netdev strata_wire` → the table (rules by their comment digest, text ''). */
export function parseWireTable(text: string): WireTable {
  const items = (JSON.parse(text) as { nftables: JsonObj[] }).nftables;
  const table: WireTable = { sets: {}, chains: {} };
  for (const it of items) {
    if (it.set) {
      const s = it.set as JsonObj;
      const elem = (s.elem as unknown[] | undefined) ?? [];
      table.sets[s.name as string] = {
        name: s.name as string,
        type: s.type as WireSet['type'],
        elements: elem.map((e) => canonicalIp(String(e))?.text ?? String(e)).sort(),
      };
    } else if (it.chain) {
      const c = it.chain as JsonObj;
      table.chains[c.name as string] = { name: c.name as string, hook: (c.hook as WireChain['hook']) ?? 'ingress', rules: [] };
    }
  }
  for (const it of items) {
    if (!it.rule) continue;
    const r = it.rule as JsonObj;
    table.chains[r.chain as string]?.rules.push({ id: (r.comment as string | undefined) ?? '', text: '', refs: [] });
  }
  return table;
}

/** A Strata network's bridge (`sbr<vni>`): only its ports are ever a leg; other bridges of the host are not the agent's. */
const STRATA_BRIDGE = /^sbr\d{1,8}$/;

/** `bridge -j -d link show` → the flags of every port of a Strata bridge. */
export function parsePortFlags(text: string): Record<string, PortFlags> {
  const out: Record<string, PortFlags> = {};
  for (const p of JSON.parse(text || '[]') as JsonObj[]) {
    if (typeof p.ifname !== 'string' || typeof p.master !== 'string' || !STRATA_BRIDGE.test(p.master)) continue;
    out[p.ifname] = { learning: p.learning !== false, flood: p.flood !== false, mcastFlood: p.mcast_flood !== false, bcastFlood: p.bcast_flood !== false };
  }
  return out;
}

// ---- the plan ----

export interface WirePlan {
  /** One nft transaction ('' : nothing to do). */
  nft: string;
  /** `bridge link set` lines, one per port to change. */
  bridge: string[];
}

const sameFlags = (a: PortFlags, b: PortFlags): boolean => a.learning === b.learning && a.flood === b.flood && a.mcastFlood === b.mcastFlood && a.bcastFlood === b.bcastFlood;
const onOff = (b: boolean): string => (b ? 'on' : 'off');

/** Whether two tables have the same sets (names and types) and chains (names, hooks, rule digests in order). */
function sameShape(d: WireTable, a: WireTable): boolean {
  const keys = (r: Record<string, unknown>): string => Object.keys(r).sort().join(',');
  if (keys(d.sets) !== keys(a.sets) || keys(d.chains) !== keys(a.chains)) return false;
  for (const s of Object.values(d.sets)) if (a.sets[s.name]!.type !== s.type) return false;
  for (const c of Object.values(d.chains)) {
    const ac = a.chains[c.name]!;
    if (ac.hook !== c.hook || ac.rules.length !== c.rules.length || c.rules.some((r, i) => ac.rules[i]!.id !== r.id)) return false;
  }
  return true;
}

/** The whole table as one nft script (after `add`+`delete`, so the transaction replaces whatever is there). */
function renderTable(t: WireTable): string[] {
  const lines = [`add table netdev ${WIRE_TABLE}`, `delete table netdev ${WIRE_TABLE}`, `table netdev ${WIRE_TABLE} {`];
  for (const s of Object.values(t.sets)) lines.push(`  set ${s.name} { type ${s.type};${s.elements.length ? ` elements = { ${s.elements.join(', ')} };` : ''} }`);
  for (const c of Object.values(t.chains)) {
    lines.push(`  chain ${c.name} {`, `    type filter hook ${c.hook} device "${chainDevice(c.name)}" priority 0; policy accept;`);
    for (const r of c.rules) lines.push(`    ${r.text} comment "${r.id}"`);
    lines.push('  }');
  }
  lines.push('}');
  return lines;
}

/** Set element changes as nft commands. */
export function elementDeltas(desired: WireTable, actual: WireTable): { lines: string[]; added: number; deleted: number } {
  const lines: string[] = [];
  let added = 0;
  let deleted = 0;
  for (const s of Object.values(desired.sets)) {
    const have = new Set(actual.sets[s.name]?.elements ?? []);
    const want = new Set(s.elements);
    const add = s.elements.filter((e) => !have.has(e));
    const del = [...have].filter((e) => !want.has(e));
    if (del.length) lines.push(`delete element netdev ${WIRE_TABLE} ${s.name} { ${del.join(', ')} }`);
    if (add.length) lines.push(`add element netdev ${WIRE_TABLE} ${s.name} { ${add.join(', ')} }`);
    added += add.length;
    deleted += del.length;
  }
  return { lines, added, deleted };
}

/**
 * Actual → desired: the table is deleted, rebuilt in one transaction when its
 * chains or sets differ (rules by digest), or changed by set elements only;
 * legs get LEG_FLAGS, and any other bridge port that still has flooding off
 * (a former leg: no other Strata object turns it off) gets PLAIN_FLAGS back.
 * Nothing when the kernel is as desired.
 */
export function planWire(desired: WireState, actual: WireState): WirePlan {
  let nft: string[] = [];
  if (desired.table === null) {
    if (actual.table !== null) nft = [`delete table netdev ${WIRE_TABLE}`];
  } else if (actual.table === null || !sameShape(desired.table, actual.table)) {
    nft = renderTable(desired.table);
  } else {
    nft = elementDeltas(desired.table, actual.table).lines;
  }
  const bridge: string[] = [];
  for (const [dev, have] of Object.entries(actual.ports).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const want = desired.ports[dev] ?? (have.flood ? null : PLAIN_FLAGS);
    if (want && !sameFlags(want, have)) {
      bridge.push(`link set dev ${dev} learning ${onOff(want.learning)} flood ${onOff(want.flood)} mcast_flood ${onOff(want.mcastFlood)} bcast_flood ${onOff(want.bcastFlood)}`);
    }
  }
  return { nft: nft.length ? `${nft.join('\n')}\n` : '', bridge };
}
