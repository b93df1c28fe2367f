/**
 * A host's view → the kernel state the agent would program for it → lines a
 * person (or a diff) can read. Pure: no kernel, no NATS. The audit service
 * renders a hypervisor's past view with it ("what rules, sets, routes and
 * neighbours did hypervisor H have at 14:03"), so the rendering is the
 * agent's own code path, not a second one:
 *
 *   host-view keys (what hostview writes, `<h>.<kind>…` → value)
 *     → HostViewStore (the agent's own decoding of the bucket's entries)
 *     → composeDesired(MANAGERS, …) (every Dataplane manager's desired part:
 *       overlay, DHCP, security groups, router routes, NAT, chaining, wire)
 *     → HostLine[] (kernelLines: one line per kernel object)
 *
 * Options the agent takes from its own configuration rather than from the
 * view — the prefix of its routing-domain namespaces (AGENT_NETNS_PREFIX,
 * default `strata-`) and the DHCP lease time (AGENT_DHCP_LEASE_SECONDS,
 * default 86400) — are parameters with the agent's defaults. Everything else
 * (the local VTEP, the H-IP) comes from the host's own `host` key, as on the
 * agent.
 *
 * Lines. `where` names the place (the namespace: `host` for the hypervisor's
 * own, else the routing-domain namespace's name; for nftables the table and
 * chain or set); `text` is the object in iproute2/nft syntax. Sorted by kind
 * (links, addresses, routes, neighbours, fdb, nft sets, elements, rules,
 * dhcp), then `where`, then text — except nft rules, which keep their order
 * in the chain (the order is what they mean). Each chain's rules are
 * preceded by one line `chain` (a regular chain) or `chain type … hook …
 * priority …; policy …` (a base chain), so an empty chain shows too. The
 * agent's rule identity (the digest it keeps in each rule's comment) is not
 * part of the text: it is a function of the text. Sysctls are not lines.
 *
 * nft lines are complete enough to rebuild the tables (`nftScript`): the
 * kernel test loads them into an empty namespace and compares the result
 * with what the agent programmed (services/agent/src/host-lines.int.spec.ts).
 */
import type { HostLine } from '@strata/contracts';
import { composeDesired } from '../dataplane/compose.js';
import { MANAGERS } from '../dataplane/managers.js';
import { HostViewStore } from '../view/store.js';
import { WIRE_TABLE, chainDevice, type WireState } from '../core/chaining-wire.js';
import type { DesiredState } from '../core/desired.js';
import { NFT_TABLE, type NftState } from '../core/nft.js';
import { keyOf, MAP_DECL } from '../kernel/nft.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import { HOST_NS, type FdbEntry, type KernelState, type LinkState } from '../core/types.js';

export interface HostRenderOptions {
  /** Prefix of the agent's routing-domain namespaces (the agent's AGENT_NETNS_PREFIX; default `strata-`). */
  nsPrefix?: string;
  /** DHCP lease time in seconds (the agent's AGENT_DHCP_LEASE_SECONDS; default 86400). */
  leaseSeconds?: number;
}

export const DEFAULT_RENDER_OPTIONS: Required<HostRenderOptions> = { nsPrefix: 'strata-', leaseSeconds: 86_400 };

/** What the agent would program for a view: the shared kernel state, DHCP servers, and the WIRE objects outside the shared model. */
export interface HostDesired {
  desired: DesiredState;
  wire: WireState;
}

/**
 * Host-view keys → the agent's view snapshot, through the agent's own
 * HostViewStore (the same decoding and validation as entries from the
 * bucket). Values are the JSON values hostview writes (parsed) or their
 * text. A key of another host, an unknown key or an invalid value throws
 * InvalidEntryError naming the key. The `position` key is accepted and
 * ignored (it is no kernel object).
 */
export function viewFromKeys(hostId: string, keys: Readonly<Record<string, unknown>>): HostViewSnapshot {
  const store = new HostViewStore(hostId);
  let revision = 0;
  // Sorted: the snapshot does not depend on the order the caller listed the keys in.
  for (const key of Object.keys(keys).sort()) {
    const v = keys[key];
    store.apply({ key, operation: 'PUT', revision: ++revision, value: typeof v === 'string' ? v : JSON.stringify(v) });
  }
  return store.snapshot();
}

/** A view snapshot → what the agent's managers want programmed (composeDesired over MANAGERS, the Dataplane's own). */
export function desiredForView(view: HostViewSnapshot, options: HostRenderOptions = {}): HostDesired {
  const o = { ...DEFAULT_RENDER_OPTIONS, ...options };
  const { desired, parts } = composeDesired(MANAGERS, view, { nsPrefix: o.nsPrefix, leaseSeconds: o.leaseSeconds });
  const wirePart = parts[MANAGERS.findIndex((m) => m.name === 'chaining-wire')];
  const wire = (wirePart?.own as WireState | undefined) ?? { table: null, ports: {} };
  return { desired, wire };
}

/**
 * A host's view keys → the lines of the kernel state the agent would
 * program for it, sorted (see the file comment). The function the audit
 * service calls.
 */
export function renderHostLines(hostId: string, keys: Readonly<Record<string, unknown>>, options: HostRenderOptions = {}): HostLine[] {
  const { desired, wire } = desiredForView(viewFromKeys(hostId, keys), options);
  return [...kernelLines(desired.kernel), ...wireLines(wire), ...dhcpLines(desired)].sort(compareLines);
}

const KIND_ORDER: Record<HostLine['kind'], number> = {
  link: 0,
  address: 1,
  route: 2,
  neighbour: 3,
  fdb: 4,
  'nft-set': 5,
  'nft-element': 6,
  'nft-rule': 7,
  dhcp: 8,
};

/** The lines' order: kind, place, then text (nft rules: stable, their order in the chain). */
export function compareLines(a: HostLine, b: HostLine): number {
  const k = KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  if (k !== 0) return k;
  if (a.where !== b.where) return a.where < b.where ? -1 : 1;
  if (a.kind === 'nft-rule') return 0;
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

/** A namespace as lines name it. */
export const nsLabel = (ns: string): string => (ns === HOST_NS ? 'host' : ns);

const onOff = (b: boolean): string => (b ? 'on' : 'off');

function linkText(l: LinkState): string {
  const parts = [l.name, l.kind, `mtu ${l.mtu}`, l.up ? 'up' : 'down'];
  if (l.master !== null) parts.push(`master ${l.master}`);
  if (l.mac !== null) parts.push(`address ${l.mac}`);
  if (l.vxlan) parts.push(`vxlan id ${l.vxlan.vni} local ${l.vxlan.local} dstport ${l.vxlan.port} ${l.vxlan.learning ? 'learning' : 'nolearning'}`);
  if (l.peer) parts.push(`peer ${nsLabel(l.peer.ns)}/${l.peer.name}`);
  if (l.brport) parts.push(`brport learning ${onOff(l.brport.learning)} neigh_suppress ${onOff(l.brport.neighSuppress)}`);
  if (l.alias) parts.push(`alias ${JSON.stringify(l.alias)}`);
  return parts.join(' ');
}

function fdbText(f: FdbEntry): string {
  switch (f.kind) {
    case 'flood':
      return `00:00:00:00:00:00 dev ${f.dev} dst ${f.dst} self permanent`;
    case 'tunnel':
      return `${f.mac} dev ${f.dev} dst ${f.dst} self permanent`;
    case 'bridge':
      return `${f.mac} dev ${f.dev} master ${f.master} static`;
  }
}

/** Every object of a kernel state as lines (unsorted). The same function renders desired and actual state. */
export function kernelLines(k: KernelState): HostLine[] {
  const out: HostLine[] = [];
  for (const ns of Object.keys(k.namespaces)) out.push({ kind: 'link', where: nsLabel(ns), text: `netns ${ns}` });
  for (const l of Object.values(k.links)) out.push({ kind: 'link', where: nsLabel(l.ns), text: linkText(l) });
  for (const p of Object.values(k.plugs)) out.push({ kind: 'link', where: 'host', text: `${p.device} port mtu ${p.mtu} ${p.up ? 'up' : 'down'} master ${p.master}` });
  for (const a of Object.values(k.addrs)) out.push({ kind: 'address', where: nsLabel(a.ns), text: `${a.cidr} dev ${a.dev}` });
  for (const r of Object.values(k.routes)) {
    out.push({ kind: 'route', where: nsLabel(r.ns), text: `${r.dst}${r.via !== null ? ` via ${r.via} onlink` : ''} dev ${r.dev}${r.table !== undefined ? ` table ${r.table}` : ''}` });
  }
  for (const r of Object.values(k.rules)) out.push({ kind: 'route', where: nsLabel(r.ns), text: `rule -${r.family} pref ${r.pref} fwmark ${r.fwmark} table ${r.table}` });
  for (const n of Object.values(k.neighs)) out.push({ kind: 'neighbour', where: nsLabel(n.ns), text: `${n.ip} dev ${n.dev} lladdr ${n.mac} permanent` });
  for (const f of Object.values(k.fdb)) out.push({ kind: 'fdb', where: 'host', text: fdbText(f) });
  out.push(...nftLines(HOST_NS, k.nft));
  for (const [ns, state] of Object.entries(k.nsNft)) out.push(...nftLines(ns, state));
  return out;
}

const byName = <T>(r: Record<string, T>): [string, T][] => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** One namespace's Strata tables as lines (unsorted; each chain's rules in order). */
export function nftLines(ns: string, state: NftState): HostLine[] {
  const out: HostLine[] = [];
  for (const t of Object.values(state.tables)) {
    if (!t) continue;
    const table = `${nsLabel(ns)} ${t.family} ${NFT_TABLE}`;
    for (const [name, s] of byName(t.sets)) {
      out.push({ kind: 'nft-set', where: table, text: `set ${name} { type ${s.type}; }` });
      for (const e of s.elements) out.push({ kind: 'nft-element', where: `${table} set ${name}`, text: e });
    }
    for (const [name, m] of byName(t.maps)) {
      out.push({ kind: 'nft-set', where: table, text: `map ${name} { ${MAP_DECL[m.type]}; }` });
      for (const [key, value] of byName(m.elements)) out.push({ kind: 'nft-element', where: `${table} map ${name}`, text: `${keyOf(m.type)(key)} : ${value}` });
    }
    for (const name of Object.keys(t.counters).sort()) out.push({ kind: 'nft-set', where: table, text: `counter ${name}` });
    for (const [name, c] of byName(t.chains)) {
      const where = `${table} chain ${name}`;
      out.push({ kind: 'nft-rule', where, text: c.base ? `chain type ${c.base.type} hook ${c.base.hook} priority ${c.base.prio}; policy ${c.base.policy};` : 'chain' });
      for (const r of c.rules) out.push({ kind: 'nft-rule', where, text: r.text });
    }
  }
  return out;
}

/** The WIRE table (`netdev strata_wire`, managed namespace) and the legs' bridge-port flags. */
export function wireLines(w: WireState): HostLine[] {
  const out: HostLine[] = [];
  for (const [device, f] of byName(w.ports)) {
    out.push({
      kind: 'link',
      where: 'host',
      text: `${device} brport learning ${onOff(f.learning)} flood ${onOff(f.flood)} mcast_flood ${onOff(f.mcastFlood)} bcast_flood ${onOff(f.bcastFlood)}`,
    });
  }
  if (!w.table) return out;
  const table = `host netdev ${WIRE_TABLE}`;
  for (const [name, s] of byName(w.table.sets)) {
    out.push({ kind: 'nft-set', where: table, text: `set ${name} { type ${s.type}; }` });
    for (const e of s.elements) out.push({ kind: 'nft-element', where: `${table} set ${name}`, text: e });
  }
  for (const [name, c] of byName(w.table.chains)) {
    const where = `${table} chain ${name}`;
    out.push({ kind: 'nft-rule', where, text: `chain type filter hook ${c.hook} device "${chainDevice(name)}" priority 0;` });
    for (const r of c.rules) out.push({ kind: 'nft-rule', where, text: r.text });
  }
  return out;
}

/** Each routing domain's DHCP server: its interfaces, subnets and static leases. */
export function dhcpLines(d: DesiredState): HostLine[] {
  const out: HostLine[] = [];
  for (const spec of Object.values(d.dhcp)) {
    const where = `${nsLabel(spec.ns)} dhcp`;
    for (const iface of spec.interfaces) out.push({ kind: 'dhcp', where, text: `interface ${iface}` });
    for (const s of spec.subnets) {
      const opts = [`range ${s.network} ${s.netmask} on ${s.iface}`, `lease ${s.leaseSeconds}s`, `mtu ${s.mtu}`];
      if (s.router !== null) opts.push(`router ${s.router}`);
      if (s.dnsServers.length) opts.push(`dns ${s.dnsServers.join(',')}`);
      for (const r of s.classlessRoutes) opts.push(`route ${r.destination} via ${r.nexthop}`);
      out.push({ kind: 'dhcp', where, text: opts.join(' ') });
    }
    for (const h of spec.hosts) out.push({ kind: 'dhcp', where, text: `host ${h.mac}${h.ips.length ? ` ${h.ips.join(',')}` : ''}` });
    if (spec.v6) out.push({ kind: 'dhcp', where, text: `ipv6 ${JSON.stringify(spec.v6)}` });
  }
  return out;
}

/**
 * The nft lines of one namespace as an `nft -f` script that builds the
 * tables they describe (without the agent's digest comments): how the
 * kernel test checks that the lines are the ruleset the agent programs.
 * `ns`: the lines' namespace label (`host` or a namespace name).
 */
export function nftScript(lines: readonly HostLine[], ns: string): string {
  const out: string[] = [];
  const tables = new Set<string>();
  const table = (where: string): string => {
    const [, family, name] = where.split(' ');
    const t = `${family} ${name}`;
    if (!tables.has(t)) {
      tables.add(t);
      out.push(`add table ${t}`);
    }
    return t;
  };
  const mine = lines.filter((l) => l.where.split(' ')[0] === ns && l.kind.startsWith('nft-'));
  for (const l of mine.filter((x) => x.kind === 'nft-set')) {
    const t = table(l.where);
    out.push(l.text.startsWith('counter ') ? `add ${l.text.replace(/^counter /, `counter ${t} `)}` : `add ${l.text.replace(/^(set|map) /, `$1 ${t} `)}`);
  }
  for (const l of mine.filter((x) => x.kind === 'nft-rule' && x.text.startsWith('chain'))) {
    const t = table(l.where);
    const name = l.where.split(' ').at(-1)!;
    out.push(l.text === 'chain' ? `add chain ${t} ${name}` : `add chain ${t} ${name} { ${l.text.slice('chain '.length)} }`);
  }
  for (const l of mine.filter((x) => x.kind === 'nft-element')) {
    const t = table(l.where);
    out.push(`add element ${t} ${l.where.split(' ').at(-1)} { ${l.text} }`);
  }
  for (const l of mine.filter((x) => x.kind === 'nft-rule' && !x.text.startsWith('chain'))) {
    const t = table(l.where);
    out.push(`add rule ${t} ${l.where.split(' ').at(-1)} ${l.text}`);
  }
  return `${out.join('\n')}\n`;
}
