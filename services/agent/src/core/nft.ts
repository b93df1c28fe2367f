/**
 * Strata's nftables tables as plain values, the exact commands that turn one
 * into another, and what the kernel does with each command (strict, like
 * `model.ts`: a command that adds what exists, removes what is missing or
 * breaks a reference throws `InexactPlanError`).
 *
 * Strata owns two tables, both named `strata`: `inet` (stateful filtering,
 * reached by bridged traffic through br_netfilter) and `bridge` (anti-spoofing
 * and the port marks). A rule is identified by a digest of its text, kept in
 * its comment: reading the kernel back gives the digest, so a chain whose
 * digests are unchanged is left alone (same rules, same handles), and a chain
 * whose list differs is flushed and written again. Sets and maps change by
 * element.
 *
 * All the commands of one apply go to the kernel as one `nft -f -`
 * transaction (`kernel/nft.ts`): the kernel applies all or nothing.
 */
import { createHash } from 'node:crypto';

export const NFT_TABLE = 'strata';
export const NFT_FAMILIES = ['inet', 'bridge', 'ip', 'ip6'] as const;
export type NftFamily = (typeof NFT_FAMILIES)[number];

export interface NftBaseChain {
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'forward' | 'postrouting' | 'output';
  /** Numeric priority, as `nft -j` reports it. */
  prio: number;
  policy: 'accept' | 'drop';
}

export interface NftRule {
  /** Identity: digest of `text` (16 hex), kept in the rule's comment. */
  id: string;
  /** nft syntax without the comment; '' when read back from the kernel. */
  text: string;
  /** Objects of the same table the rule uses: `set:<name>` (sets and maps), `chain:<name>`, `counter:<name>`. */
  refs: string[];
}

export interface NftChain {
  name: string;
  base: NftBaseChain | null;
  rules: NftRule[];
}

export interface NftSet {
  name: string;
  type: 'ipv4_addr' | 'ipv6_addr';
  /** Canonical address text, sorted. */
  elements: string[];
}

export type NftMapType = 'ifname:verdict' | 'mark:verdict' | 'ifname:mark' | 'ifname:integer' | 'ipv4_addr:ipv4_addr';

export interface NftMap {
  name: string;
  /** Key and value type as `nft -j` names them. */
  type: NftMapType;
  /** Key text → value text (`jump <chain>`, `0x0000002a`, `7`); keys of type mark in 0x%08x form. */
  elements: Record<string, string>;
}

export interface NftTable {
  family: NftFamily;
  sets: Record<string, NftSet>;
  maps: Record<string, NftMap>;
  /** Named counters (objects). */
  counters: Record<string, true>;
  chains: Record<string, NftChain>;
}

export interface NftState {
  tables: Partial<Record<NftFamily, NftTable>>;
}

export const emptyNftState = (): NftState => ({ tables: {} });
export const emptyNftTable = (family: NftFamily): NftTable => ({ family, sets: {}, maps: {}, counters: {}, chains: {} });

/** One command of an nft transaction. Elements are listed in full (the renderer splits long lists). */
export type NftCmd =
  | { cmd: 'add-table'; family: NftFamily }
  | { cmd: 'delete-table'; family: NftFamily }
  | { cmd: 'add-set'; family: NftFamily; name: string; type: NftSet['type'] }
  | { cmd: 'delete-set'; family: NftFamily; name: string }
  | { cmd: 'add-element'; family: NftFamily; set: string; elements: string[] }
  | { cmd: 'delete-element'; family: NftFamily; set: string; elements: string[] }
  | { cmd: 'add-map'; family: NftFamily; name: string; type: NftMapType }
  | { cmd: 'delete-map'; family: NftFamily; name: string }
  /** `type`: the map's key and value types, which decide how keys are written (interface names are quoted). */
  | { cmd: 'add-map-element'; family: NftFamily; map: string; type: NftMapType; entries: [string, string][] }
  | { cmd: 'delete-map-element'; family: NftFamily; map: string; type: NftMapType; keys: string[] }
  | { cmd: 'add-counter'; family: NftFamily; name: string }
  | { cmd: 'delete-counter'; family: NftFamily; name: string }
  | { cmd: 'add-chain'; family: NftFamily; name: string; base: NftBaseChain | null }
  | { cmd: 'flush-chain'; family: NftFamily; name: string }
  | { cmd: 'delete-chain'; family: NftFamily; name: string }
  | { cmd: 'add-rule'; family: NftFamily; chain: string; rule: NftRule };

/** A rule from its text and the objects it uses. */
export function nftRule(text: string, refs: string[] = []): NftRule {
  return { id: ruleDigest(text), text, refs: [...new Set(refs)].sort() };
}

export const ruleDigest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Up to this many values, a per-port list is written without a set (`noneOf`, `anyOf`). */
export const INLINE_VALUES = 8;

/**
 * The match "`selector` is none of `values`" (deduplicated, sorted). Up to
 * INLINE_VALUES values, that many `!=` matches in one rule, which must all
 * hold; more, an anonymous set. Not a set for the usual one to three
 * addresses of a port: each anonymous set is a kernel set of its own, and
 * every nft call that reads the table looks each set up by name in a list,
 * so sets per port make nft calls O(ports²) on a host (docs/architecture.md,
 * "No anonymous set per port").
 */
export function noneOf(selector: string, values: Iterable<string>): string {
  const xs = [...new Set(values)].sort();
  if (xs.length === 0) throw new Error(`noneOf(${selector}): no values (the rule would match everything)`);
  if (xs.length > INLINE_VALUES) return `${selector} != { ${xs.join(', ')} }`;
  return xs.map((x) => `${selector} != ${x}`).join(' ');
}

/** The matches "`selector` is one of `values`", one per rule (the rules share a verdict), or one set past INLINE_VALUES. */
export function anyOf(selector: string, values: Iterable<string>): string[] {
  const xs = [...new Set(values)].sort();
  if (xs.length === 0) throw new Error(`anyOf(${selector}): no values`);
  return xs.length > INLINE_VALUES ? [`${selector} { ${xs.join(', ')} }`] : xs.map((x) => `${selector} ${x}`);
}

/** The chain a verdict (`jump x`, `goto x`) leads to, if any. */
export const verdictTarget = (v: string): string | null => /^(?:jump|goto) (\S+)$/.exec(v)?.[1] ?? null;

// ---- the diff ----

const sortedKeys = (r: Record<string, unknown>): string[] => Object.keys(r).sort();
const sameBase = (a: NftBaseChain | null, b: NftBaseChain | null): boolean => JSON.stringify(a) === JSON.stringify(b);
const sameRules = (a: NftRule[], b: NftRule[]): boolean => a.length === b.length && a.every((r, i) => r.id === b[i]!.id);

/**
 * Whether a table can be brought to the desired one in place. Objects whose
 * identity cannot change in place (a set's or map's type, a chain's hook or
 * priority, base vs regular) force the table to be built again, inside the same
 * transaction; the kernel only ever sees the old table or the new one.
 */
function reconcilable(d: NftTable, a: NftTable): boolean {
  for (const s of Object.values(d.sets)) {
    if (a.maps[s.name] || (a.sets[s.name] && a.sets[s.name]!.type !== s.type)) return false;
  }
  for (const m of Object.values(d.maps)) {
    if (a.sets[m.name] || (a.maps[m.name] && a.maps[m.name]!.type !== m.type)) return false;
  }
  for (const c of Object.values(d.chains)) {
    const ac = a.chains[c.name];
    if (ac && !sameBase(ac.base, c.base)) return false;
  }
  return true;
}

/**
 * The commands that turn `actual` into `desired`, in transaction order: tables,
 * sets (with their elements), maps, counters, chains, rules, map elements; then
 * the removals in reverse (map and set elements, stale chains' rules, stale
 * maps and sets, stale chains, stale counters), and finally stale tables.
 */
export function diffNft(desired: NftState, actual: NftState): NftCmd[] {
  const adds: NftCmd[] = [];
  const removals: NftCmd[] = [];
  const dropTables: NftCmd[] = [];
  for (const family of NFT_FAMILIES) {
    const d = desired.tables[family];
    let a = actual.tables[family];
    if (!d) {
      if (a) dropTables.push({ cmd: 'delete-table', family });
      continue;
    }
    if (a && !reconcilable(d, a)) {
      adds.push({ cmd: 'delete-table', family });
      a = undefined;
    }
    if (!a) {
      adds.push({ cmd: 'add-table', family });
      a = emptyNftTable(family);
    }
    diffTable(d, a, adds, removals);
  }
  return [...adds, ...removals, ...dropTables];
}

function diffTable(d: NftTable, a: NftTable, adds: NftCmd[], allRemovals: NftCmd[]): void {
  const family = d.family;
  const removals: NftCmd[] = [];
  const stage = { sets: [] as NftCmd[], maps: [] as NftCmd[], counters: [] as NftCmd[], chains: [] as NftCmd[], rules: [] as NftCmd[], mapElems: [] as NftCmd[] };

  for (const name of sortedKeys(d.sets)) {
    const ds = d.sets[name]!;
    const as = a.sets[name];
    if (!as) stage.sets.push({ cmd: 'add-set', family, name, type: ds.type });
    const have = new Set(as?.elements ?? []);
    const add = ds.elements.filter((e) => !have.has(e));
    if (add.length > 0) stage.sets.push({ cmd: 'add-element', family, set: name, elements: add });
    if (as) {
      const want = new Set(ds.elements);
      const del = as.elements.filter((e) => !want.has(e));
      if (del.length > 0) removals.push({ cmd: 'delete-element', family, set: name, elements: del });
    }
  }

  const mapDeletes: NftCmd[] = [];
  for (const name of sortedKeys(d.maps)) {
    const dm = d.maps[name]!;
    const am = a.maps[name];
    if (!am) stage.maps.push({ cmd: 'add-map', family, name, type: dm.type });
    const have = am?.elements ?? {};
    // A changed value is a delete and an add of the key (`add element` refuses an existing key).
    const changed = sortedKeys(dm.elements).filter((k) => have[k] !== undefined && have[k] !== dm.elements[k]);
    if (changed.length > 0) stage.mapElems.push({ cmd: 'delete-map-element', family, map: name, type: dm.type, keys: changed });
    const add = sortedKeys(dm.elements).filter((k) => have[k] !== dm.elements[k]);
    if (add.length > 0) stage.mapElems.push({ cmd: 'add-map-element', family, map: name, type: dm.type, entries: add.map((k) => [k, dm.elements[k]!]) });
    const del = sortedKeys(have).filter((k) => dm.elements[k] === undefined);
    if (del.length > 0) mapDeletes.push({ cmd: 'delete-map-element', family, map: name, type: am!.type, keys: del });
  }

  for (const name of sortedKeys(d.counters)) {
    if (!a.counters[name]) stage.counters.push({ cmd: 'add-counter', family, name });
  }

  for (const name of sortedKeys(d.chains)) {
    const dc = d.chains[name]!;
    const ac = a.chains[name];
    if (!ac) stage.chains.push({ cmd: 'add-chain', family, name, base: dc.base });
    if (ac && sameRules(dc.rules, ac.rules)) continue;
    if (ac && ac.rules.length > 0) stage.rules.push({ cmd: 'flush-chain', family, name });
    for (const rule of dc.rules) stage.rules.push({ cmd: 'add-rule', family, chain: name, rule });
  }

  adds.push(...stage.sets, ...stage.maps, ...stage.counters, ...stage.chains, ...stage.rules, ...stage.mapElems);

  // Removals: nothing may still refer to what is deleted.
  const staleChains = sortedKeys(a.chains).filter((n) => !d.chains[n]);
  removals.unshift(...mapDeletes);
  for (const name of staleChains) if (a.chains[name]!.rules.length > 0) removals.push({ cmd: 'flush-chain', family, name });
  for (const name of sortedKeys(a.maps)) if (!d.maps[name]) removals.push({ cmd: 'delete-map', family, name });
  for (const name of sortedKeys(a.sets)) if (!d.sets[name]) removals.push({ cmd: 'delete-set', family, name });
  for (const name of staleChains) removals.push({ cmd: 'delete-chain', family, name });
  for (const name of sortedKeys(a.counters)) if (!d.counters[name]) removals.push({ cmd: 'delete-counter', family, name });
  allRemovals.push(...removals);
}

// ---- the kernel model ----

export class NftModelError extends Error {
  override readonly name = 'NftModelError';
}

/** Apply one command to a state, in place, strictly. Throws NftModelError. */
export function applyNftCmd(s: NftState, c: NftCmd): void {
  const fail = (why: string): never => {
    throw new NftModelError(why);
  };
  if (c.cmd === 'add-table') {
    if (s.tables[c.family]) fail('table exists');
    s.tables[c.family] = emptyNftTable(c.family);
    return;
  }
  const t = s.tables[c.family] ?? fail(`no table ${c.family} ${NFT_TABLE}`);
  const referencedByRule = (ref: string): boolean => Object.values(t.chains).some((ch) => ch.rules.some((r) => r.refs.includes(ref)));
  switch (c.cmd) {
    case 'delete-table':
      delete s.tables[c.family];
      return;
    case 'add-set':
      if (t.sets[c.name] || t.maps[c.name]) fail(`set ${c.name} exists`);
      t.sets[c.name] = { name: c.name, type: c.type, elements: [] };
      return;
    case 'add-map':
      if (t.sets[c.name] || t.maps[c.name]) fail(`map ${c.name} exists`);
      t.maps[c.name] = { name: c.name, type: c.type, elements: {} };
      return;
    case 'delete-set':
    case 'delete-map': {
      const exists = c.cmd === 'delete-set' ? t.sets[c.name] : t.maps[c.name];
      if (!exists) fail(`no ${c.cmd === 'delete-set' ? 'set' : 'map'} ${c.name}`);
      if (referencedByRule(`set:${c.name}`)) fail(`${c.name} is in use`);
      if (c.cmd === 'delete-set') delete t.sets[c.name];
      else delete t.maps[c.name];
      return;
    }
    case 'add-element': {
      const set = t.sets[c.set] ?? fail(`no set ${c.set}`);
      const have = new Set(set.elements);
      for (const e of c.elements) {
        if (have.has(e)) fail(`element ${e} exists in ${c.set}`);
        have.add(e);
      }
      set.elements = [...have].sort();
      return;
    }
    case 'delete-element': {
      const set = t.sets[c.set] ?? fail(`no set ${c.set}`);
      const have = new Set(set.elements);
      for (const e of c.elements) if (!have.delete(e)) fail(`no element ${e} in ${c.set}`);
      set.elements = [...have].sort();
      return;
    }
    case 'add-map-element': {
      const map = t.maps[c.map] ?? fail(`no map ${c.map}`);
      for (const [k, v] of c.entries) {
        if (map.elements[k] !== undefined) fail(`key ${k} exists in ${c.map}`);
        const target = verdictTarget(v);
        if (target !== null) {
          const chain = t.chains[target] ?? fail(`no chain ${target}`);
          if (chain.base) fail(`cannot jump to base chain ${target}`);
        }
        map.elements[k] = v;
      }
      return;
    }
    case 'delete-map-element': {
      const map = t.maps[c.map] ?? fail(`no map ${c.map}`);
      for (const k of c.keys) {
        if (map.elements[k] === undefined) fail(`no key ${k} in ${c.map}`);
        delete map.elements[k];
      }
      return;
    }
    case 'add-counter':
      if (t.counters[c.name]) fail(`counter ${c.name} exists`);
      t.counters[c.name] = true;
      return;
    case 'delete-counter':
      if (!t.counters[c.name]) fail(`no counter ${c.name}`);
      if (referencedByRule(`counter:${c.name}`)) fail(`counter ${c.name} is in use`);
      delete t.counters[c.name];
      return;
    case 'add-chain':
      if (t.chains[c.name]) fail(`chain ${c.name} exists`);
      t.chains[c.name] = { name: c.name, base: c.base ? { ...c.base } : null, rules: [] };
      return;
    case 'flush-chain': {
      const chain = t.chains[c.name] ?? fail(`no chain ${c.name}`);
      if (chain.rules.length === 0) fail(`chain ${c.name} is empty`);
      chain.rules = [];
      return;
    }
    case 'delete-chain': {
      const chain = t.chains[c.name] ?? fail(`no chain ${c.name}`);
      if (chain.rules.length > 0) fail(`chain ${c.name} is not empty`);
      if (referencedByRule(`chain:${c.name}`)) fail(`chain ${c.name} is jumped to`);
      if (Object.values(t.maps).some((m) => Object.values(m.elements).some((v) => verdictTarget(v) === c.name))) {
        fail(`chain ${c.name} is in a verdict map`);
      }
      delete t.chains[c.name];
      return;
    }
    case 'add-rule': {
      const chain = t.chains[c.chain] ?? fail(`no chain ${c.chain}`);
      for (const ref of c.rule.refs) {
        const [kind, name = ''] = ref.split(':', 2) as [string, string];
        const ok =
          kind === 'set' ? t.sets[name] !== undefined || t.maps[name] !== undefined : kind === 'chain' ? t.chains[name] !== undefined && !t.chains[name]!.base : t.counters[name] !== undefined;
        if (!ok) fail(`rule in ${c.chain} uses missing ${ref}`);
      }
      chain.rules.push({ ...c.rule, refs: [...c.rule.refs] });
      return;
    }
  }
}
