/**
 * nftables in and out: commands → one `nft -f -` script (pure), and
 * `nft -j list table …` → the agent's model of Strata's tables, plus the
 * named counters (for metrics).
 */
import { canonicalAddress } from '@strata/netaddr';
import {
  NFT_FAMILIES,
  NFT_TABLE,
  emptyNftTable,
  type NftBaseChain,
  type NftCmd,
  type NftFamily,
  type NftMapType,
  type NftState,
  type NftTable,
} from '../core/nft.js';
import { runOk, type Exec } from './exec.js';

/** Long element lists are split over several commands of the same transaction. */
const ELEMENTS_PER_LINE = 1000;

/** A map's declaration by its key and value types (the host-lines rendering uses the same). */
export const MAP_DECL: Record<NftMapType, string> = {
  'ifname:verdict': 'type ifname : verdict',
  'mark:verdict': 'type mark : verdict',
  'ifname:mark': 'type ifname : mark',
  'ifname:integer': 'typeof iifname : ct zone',
  'ipv4_addr:ipv4_addr': 'type ipv4_addr : ipv4_addr',
};

/** A map key as nft syntax, by the map's key type: interface names quoted, marks (0x%08x) and addresses as they are. */
export const keyOf = (type: NftMapType) => (k: string): string => (type.startsWith('ifname:') ? `"${k}"` : k);

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += ELEMENTS_PER_LINE) out.push(xs.slice(i, i + ELEMENTS_PER_LINE));
  return out;
}

export function renderNftCmd(c: NftCmd): string[] {
  const t = `${c.family} ${NFT_TABLE}`;
  switch (c.cmd) {
    case 'add-table':
      return [`add table ${t}`];
    case 'delete-table':
      return [`delete table ${t}`];
    case 'add-set':
      return [`add set ${t} ${c.name} { type ${c.type}; }`];
    case 'delete-set':
      return [`delete set ${t} ${c.name}`];
    case 'add-element':
    case 'delete-element':
      return chunks(c.elements).map((es) => `${c.cmd === 'add-element' ? 'add' : 'delete'} element ${t} ${c.set} { ${es.join(', ')} }`);
    case 'add-map':
      return [`add map ${t} ${c.name} { ${MAP_DECL[c.type]}; }`];
    case 'delete-map':
      return [`delete map ${t} ${c.name}`];
    case 'add-map-element':
      return chunks(c.entries).map((es) => `add element ${t} ${c.map} { ${es.map(([k, v]) => `${keyOf(c.type)(k)} : ${v}`).join(', ')} }`);
    case 'delete-map-element':
      return chunks(c.keys).map((ks) => `delete element ${t} ${c.map} { ${ks.map(keyOf(c.type)).join(', ')} }`);
    case 'add-counter':
      return [`add counter ${t} ${c.name}`];
    case 'delete-counter':
      return [`delete counter ${t} ${c.name}`];
    case 'add-chain':
      return [c.base ? `add chain ${t} ${c.name} { type ${c.base.type} hook ${c.base.hook} priority ${c.base.prio}; policy ${c.base.policy}; }` : `add chain ${t} ${c.name}`];
    case 'flush-chain':
      return [`flush chain ${t} ${c.name}`];
    case 'delete-chain':
      return [`delete chain ${t} ${c.name}`];
    case 'add-rule':
      return [`add rule ${t} ${c.chain} ${c.rule.text} comment "${c.rule.id}"`];
  }
}

/** One transaction: the whole script goes to a single `nft -f -`. */
export const renderNftScript = (commands: NftCmd[]): string => `${commands.flatMap(renderNftCmd).join('\n')}\n`;

// ---- reading ----

export interface NftCounterValue {
  name: string;
  packets: number;
  bytes: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (x: Json | undefined): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** The objects a rule's expressions use: `@set` references, jump/goto targets, named counters. */
function refsOf(expr: Json, out: Set<string>): void {
  if (typeof expr === 'string') {
    if (expr.startsWith('@')) out.add(`set:${expr.slice(1)}`);
  } else if (Array.isArray(expr)) {
    for (const e of expr) refsOf(e, out);
  } else if (isObj(expr)) {
    for (const [k, v] of Object.entries(expr)) {
      if ((k === 'jump' || k === 'goto') && isObj(v) && typeof v.target === 'string') out.add(`chain:${v.target}`);
      else if (k === 'counter' && typeof v === 'string') out.add(`counter:${v}`);
      else refsOf(v, out);
    }
  }
}

function verdictText(v: Json | undefined): string {
  if (isObj(v)) {
    for (const kind of ['jump', 'goto'] as const) {
      const x = v[kind];
      if (isObj(x) && typeof x.target === 'string') return `${kind} ${x.target}`;
    }
    const keys = Object.keys(v);
    if (keys.length === 1) return keys[0]!;
  }
  return JSON.stringify(v);
}

function elementValue(type: string, v: Json | undefined): string {
  if (type === 'verdict') return verdictText(v);
  if (type === 'mark' && typeof v === 'number') return hex8(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function elementKey(type: string, k: Json | undefined): string {
  if (type === 'mark' && typeof k === 'number') return hex8(k);
  return typeof k === 'string' ? k : JSON.stringify(k);
}

/** An element as nft prints it: a plain value, or wrapped (`{"elem": {"val": …}}`) when it has options. */
const unwrap = (e: Json): Json => (isObj(e) && isObj(e.elem) ? (e.elem.val ?? null) : e);

const address = (x: Json): string => {
  if (typeof x !== 'string') return JSON.stringify(x);
  try {
    return canonicalAddress(x);
  } catch {
    return x;
  }
};

/** `nft -j list table <family> strata` → the table and its named counters' values. */
export function parseNftTable(family: NftFamily, text: string): { table: NftTable; counters: NftCounterValue[] } {
  const table = emptyNftTable(family);
  const counters: NftCounterValue[] = [];
  const doc = JSON.parse(text) as { nftables?: Obj[] };
  const rules: Obj[] = [];
  for (const item of doc.nftables ?? []) {
    if (isObj(item.set)) {
      const s = item.set;
      const name = String(s.name);
      const elems = Array.isArray(s.elem) ? s.elem.map(unwrap) : [];
      const type = String(s.type);
      table.sets[name] = {
        name,
        type: type as 'ipv4_addr' | 'ipv6_addr',
        elements: [...new Set(elems.map(type === 'ipv4_addr' || type === 'ipv6_addr' ? address : (e) => JSON.stringify(e)))].sort(),
      };
    } else if (isObj(item.map)) {
      const m = item.map;
      const name = String(m.name);
      const keyType = Array.isArray(m.type) ? m.type.join('.') : String(m.type);
      const valueType = String(m.map);
      const elements: Record<string, string> = {};
      for (const e of Array.isArray(m.elem) ? m.elem : []) {
        if (!Array.isArray(e) || e.length !== 2) continue;
        elements[elementKey(keyType, unwrap(e[0]!))] = elementValue(valueType, e[1]);
      }
      table.maps[name] = { name, type: `${keyType}:${valueType}` as NftMapType, elements };
    } else if (isObj(item.counter)) {
      const c = item.counter;
      table.counters[String(c.name)] = true;
      counters.push({ name: String(c.name), packets: Number(c.packets ?? 0), bytes: Number(c.bytes ?? 0) });
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const base: NftBaseChain | null =
        typeof c.hook === 'string'
          ? { type: String(c.type) as NftBaseChain['type'], hook: c.hook as NftBaseChain['hook'], prio: Number(c.prio), policy: String(c.policy ?? 'accept') as 'accept' | 'drop' }
          : null;
      table.chains[String(c.name)] = { name: String(c.name), base, rules: [] };
    } else if (isObj(item.rule)) {
      rules.push(item.rule);
    }
  }
  for (const r of rules) {
    const chain = table.chains[String(r.chain)];
    if (!chain) continue;
    const refs = new Set<string>();
    refsOf(r.expr ?? null, refs);
    // A rule without Strata's digest comment (added by someone else) never equals a desired one.
    const id = typeof r.comment === 'string' ? r.comment : `?${String(r.handle)}`;
    chain.rules.push({ id, text: '', refs: [...refs].sort() });
  }
  return { table, counters };
}

/** `nft -j list ruleset` → Strata's tables in it (every family), e.g. of a domain namespace: one process for all of them. */
export function parseNftRuleset(text: string): NftState {
  const doc = JSON.parse(text || '{}') as { nftables?: Obj[] };
  const byFamily = new Map<NftFamily, Obj[]>();
  for (const item of doc.nftables ?? []) {
    const inner = Object.values(item)[0];
    if (!isObj(inner)) continue;
    // A table object names itself; every other object names its table.
    const table = isObj(item.table) ? inner.name : inner.table;
    const family = inner.family as NftFamily;
    if (table !== NFT_TABLE || !NFT_FAMILIES.includes(family)) continue;
    let items = byFamily.get(family);
    if (!items) byFamily.set(family, (items = []));
    items.push(item);
  }
  const state: NftState = { tables: {} };
  for (const [family, items] of byFamily) state.tables[family] = parseNftTable(family, JSON.stringify({ nftables: items })).table;
  return state;
}

/** Strata's tables as they are in the kernel, and the named counters of `inet strata`. */
export async function readNft(exec: Exec): Promise<{ state: NftState; counters: NftCounterValue[] }> {
  const listed = JSON.parse((await runOk(exec, ['nft', '-j', 'list', 'tables'])) || '{}') as { nftables?: Obj[] };
  const present = new Set(
    (listed.nftables ?? []).flatMap((i) => (isObj(i.table) && i.table.name === NFT_TABLE ? [String(i.table.family)] : [])),
  );
  const state: NftState = { tables: {} };
  let counters: NftCounterValue[] = [];
  await Promise.all(
    NFT_FAMILIES.filter((f) => present.has(f)).map(async (family) => {
      const parsed = parseNftTable(family, await runOk(exec, ['nft', '-j', 'list', 'table', family, NFT_TABLE]));
      state.tables[family] = parsed.table;
      if (family === 'inet') counters = parsed.counters;
    }),
  );
  return { state, counters };
}

/** The named counters of `inet strata` (none when the table does not exist). */
export async function readRuleCounters(exec: Exec): Promise<NftCounterValue[]> {
  const r = await exec.run(['nft', '-j', 'list', 'counters', 'table', 'inet', NFT_TABLE]);
  if (r.code !== 0) return [];
  const doc = JSON.parse(r.stdout || '{}') as { nftables?: Obj[] };
  return (doc.nftables ?? []).flatMap((i) =>
    isObj(i.counter) ? [{ name: String(i.counter.name), packets: Number(i.counter.packets ?? 0), bytes: Number(i.counter.bytes ?? 0) }] : [],
  );
}
