/**
 * Desired vs actual → an exact, ordered plan.
 *
 * The diff walks the phases in dependency order (namespaces, links, then the
 * attributes, addresses, FDB and neighbours that need them; removals in
 * reverse) and applies every operation it emits to a copy of the actual state
 * with the kernel model (`model.ts`). So it never adds what exists nor removes
 * what a cascade already removed (deleting a bridge empties its FDB, deleting
 * a namespace destroys its links), and replacing a link re-adds everything
 * that lived on it.
 */
import { applyOp, sameFdb } from './model.js';
import { diffNft } from './nft.js';
import {
  HOST_NS,
  PHASES,
  linkKey,
  type ActualState,
  type BridgePortFlags,
  type KernelState,
  type LinkChanges,
  type LinkState,
  type Op,
  type Phase,
  type Plan,
  DEFAULT_BRPORT,
} from './types.js';

export function diff(desired: KernelState, actual: ActualState): Plan {
  return diffTo(desired, actual).plan;
}

/** The plan, and the kernel as the model says it is once the plan is applied (`actual` is not changed). */
export function diffTo(desired: KernelState, actual: ActualState): { plan: Plan; after: ActualState } {
  const sim: ActualState = structuredClone(actual);
  const out = new Map<Phase, Op[]>();
  const emit = (phase: Phase, op: Op): void => {
    applyOp(sim, op);
    let ops = out.get(phase);
    if (!ops) out.set(phase, (ops = []));
    ops.push(op);
  };
  const desiredLinks = sortLinks(Object.values(desired.links));

  // nftables: one transaction, first (a new port's filters exist before it is plugged).
  const nft = diffNft(desired.nft, sim.nft);
  if (nft.length > 0) emit('nft', { op: 'nft', commands: nft });

  // Namespaces and their sysctls; the host's own sysctls.
  for (const [key, value] of sorted(desired.hostSysctls)) {
    if (sim.hostSysctls[key] !== value) emit('sysctls', { op: 'sysctl', ns: HOST_NS, key, value });
  }
  for (const name of Object.keys(desired.namespaces).sort()) {
    if (!sim.namespaces[name]) emit('namespaces', { op: 'ns-add', ns: name });
  }
  for (const [name, ns] of sorted(desired.namespaces)) {
    for (const [key, value] of sorted(ns.sysctls)) {
      if (sim.namespaces[name]?.sysctls[key] !== value) emit('sysctls', { op: 'sysctl', ns: name, key, value });
    }
  }

  // Links whose identity differs (kind, VNI, local VTEP, veth peer) are deleted and created again.
  for (const d of desiredLinks) {
    const a = sim.links[linkKey(d.ns, d.name)];
    if (a && !sameIdentity(d, a)) emit('replace', { op: 'link-del', ns: a.ns, name: a.name });
  }

  // New links, bridges first so the others can be enslaved as they are created.
  // A VLAN device is made only on a NIC that exists (like a plug): a missing trunk leaves the rest working.
  const devices = new Set(actual.devices);
  for (const kind of ['bridge', 'vxlan', 'veth', 'vlan'] as const) {
    for (const d of desiredLinks) {
      if (d.kind !== kind || sim.links[linkKey(d.ns, d.name)]) continue;
      if (kind === 'vlan' && !devices.has(d.vlan?.parent ?? '')) continue;
      if (kind !== 'veth') {
        emit(kind === 'vlan' ? 'gateway-vlans' : 'links', { op: 'link-add', link: d });
        continue;
      }
      // A veth pair is created from its host end, with its peer.
      if (d.ns !== HOST_NS || !d.peer) continue;
      const peer = desired.links[linkKey(d.peer.ns, d.peer.name)];
      if (!peer) throw new Error(`desired veth ${d.name} has no desired peer ${d.peer.ns}/${d.peer.name}`);
      // An orphaned peer end (its host end is gone) is normally replaced above; never collide with it.
      if (sim.links[linkKey(peer.ns, peer.name)]) emit('links', { op: 'link-del', ns: peer.ns, name: peer.name });
      emit('links', { op: 'link-add', link: d, peer });
    }
  }

  // Attributes of links that already existed.
  for (const d of desiredLinks) {
    const a = sim.links[linkKey(d.ns, d.name)];
    if (!a) continue;
    const set = linkChanges(d, a);
    if (Object.keys(set).length > 0) emit('link-attrs', { op: 'link-set', ns: d.ns, name: d.name, set });
  }

  // Foreign devices (taps): only those that exist can be plugged.
  for (const [device, p] of sorted(desired.plugs)) {
    if (!devices.has(device)) continue;
    const a = sim.plugs[device];
    if (!a || a.master !== p.master || a.mtu !== p.mtu || a.up !== p.up) emit('plugs', { op: 'plug', plug: p });
  }

  for (const [key, addr] of sorted(desired.addrs)) {
    if (!sim.addrs[key]) emit('addrs', { op: 'addr-add', addr });
  }
  for (const [key, entry] of sorted(desired.fdb)) {
    const a = sim.fdb[key];
    if (!a) emit('fdb', { op: 'fdb-add', entry });
    else if (!sameFdb(a, entry)) emit('fdb', { op: 'fdb-replace', entry });
  }
  for (const [key, entry] of sorted(desired.neighs)) {
    if (sim.neighs[key]?.mac !== entry.mac) emit('neighs', { op: 'neigh-replace', entry });
  }
  for (const [key, entry] of sorted(desired.routes)) {
    const a = sim.routes[key];
    if (!a || a.dev !== entry.dev || a.via !== entry.via) emit('routes', { op: 'route-replace', entry });
  }
  for (const [key, entry] of sorted(desired.rules)) {
    if (!sim.rules[key]) emit('rules', { op: 'rule-add', entry });
  }
  // Domain namespaces' nftables: one transaction each, for the namespaces that stay.
  for (const ns of [...new Set([...Object.keys(desired.nsNft), ...Object.keys(sim.nsNft)])].sort()) {
    if (!desired.namespaces[ns]) continue;
    const commands = diffNft(desired.nsNft[ns] ?? { tables: {} }, sim.nsNft[ns] ?? { tables: {} });
    if (commands.length > 0) emit('ns-nft', { op: 'nft', ns, commands });
  }

  // Removals, in reverse dependency order. What a later removal takes with it
  // (everything on a stale link or in a stale namespace) is not removed one by one.
  const staleNs = new Set(Object.keys(sim.namespaces).filter((n) => !desired.namespaces[n]));
  const staleLink = (ns: string, name: string): boolean =>
    staleNs.has(ns) || (sim.links[linkKey(ns, name)] !== undefined && !desired.links[linkKey(ns, name)]);

  for (const [key, r] of sorted(sim.rules)) {
    if (!desired.rules[key] && !staleNs.has(r.ns)) emit('rule-removals', { op: 'rule-del', entry: r });
  }
  for (const [key, r] of sorted(sim.routes)) {
    if (!desired.routes[key] && !staleLink(r.ns, r.dev)) emit('route-removals', { op: 'route-del', entry: r });
  }
  for (const [key, n] of sorted(sim.neighs)) {
    if (!desired.neighs[key] && !staleLink(n.ns, n.dev)) emit('neigh-removals', { op: 'neigh-del', entry: n });
  }
  for (const [key, f] of sorted(sim.fdb)) {
    if (desired.fdb[key] || staleLink(HOST_NS, f.dev) || (f.kind === 'bridge' && staleLink(HOST_NS, f.master))) continue;
    emit('fdb-removals', { op: 'fdb-del', entry: f });
  }
  for (const [key, a] of sorted(sim.addrs)) {
    if (!desired.addrs[key] && !staleLink(a.ns, a.dev)) emit('addr-removals', { op: 'addr-del', addr: a });
  }
  for (const [device, p] of sorted(sim.plugs)) {
    if (!desired.plugs[device] && !staleLink(HOST_NS, p.master)) emit('unplugs', { op: 'unplug', device });
  }
  // veths from their host end (takes the peer along, synchronously), then vxlans, then bridges.
  const removalOrder = (l: LinkState): number =>
    l.kind === 'veth' ? (l.ns === HOST_NS ? 0 : 1) : l.kind === 'bridge' ? 3 : 2;
  const staleLinks = sortLinks(Object.values(sim.links).filter((l) => !desired.links[linkKey(l.ns, l.name)]));
  staleLinks.sort((x, y) => removalOrder(x) - removalOrder(y));
  for (const l of staleLinks) {
    if (staleNs.has(l.ns) && !(l.kind === 'veth' && l.peer && !staleNs.has(l.peer.ns))) continue;
    if (sim.links[linkKey(l.ns, l.name)]) emit('link-removals', { op: 'link-del', ns: l.ns, name: l.name });
  }
  for (const ns of [...staleNs].sort()) emit('namespace-removals', { op: 'ns-del', ns });

  return { plan: { batches: PHASES.filter((p) => out.has(p)).map((phase) => ({ phase, ops: out.get(phase)! })) }, after: sim };
}

/** Kind, VXLAN parameters, veth peer and a VLAN device's NIC and id cannot be changed in place. */
export function sameIdentity(d: LinkState, a: LinkState): boolean {
  if (d.kind !== a.kind) return false;
  if (d.kind === 'vxlan') return JSON.stringify(d.vxlan) === JSON.stringify(a.vxlan);
  if (d.kind === 'veth') return a.peer !== null && a.peer.ns === d.peer?.ns && a.peer.name === d.peer.name;
  if (d.kind === 'vlan') return a.vlan?.parent === d.vlan?.parent && a.vlan?.id === d.vlan?.id;
  return true;
}

/** What `ip link set` / `bridge link set` must change; desired nulls (mac, brport) mean "don't care". */
export function linkChanges(d: LinkState, a: LinkState): LinkChanges {
  const c: LinkChanges = {};
  if (d.master !== a.master) c.master = d.master;
  if (d.mtu !== a.mtu) c.mtu = d.mtu;
  if (d.mac !== null && d.mac !== a.mac) c.mac = d.mac;
  if (d.alias !== a.alias) c.alias = d.alias;
  if (d.up !== a.up) c.up = d.up;
  const brportAfter: BridgePortFlags | null =
    c.master === undefined ? a.brport : c.master === null ? null : DEFAULT_BRPORT;
  if (d.brport !== null && d.master !== null && !sameFlags(d.brport, brportAfter)) c.brport = d.brport;
  // Re-enslaved with flags: the link goes down while it gets them, and up again after (kernel/render.ts).
  if (c.brport !== undefined && c.master !== undefined && c.master !== null) c.up = d.up;
  return c;
}

const sameFlags = (x: BridgePortFlags, y: BridgePortFlags | null): boolean =>
  y !== null && x.learning === y.learning && x.neighSuppress === y.neighSuppress;

const sorted = <T>(r: Record<string, T>): [string, T][] =>
  Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Namespace, then name: consecutive operations on one namespace share one `ip -batch`. */
const sortLinks = (ls: LinkState[]): LinkState[] =>
  [...ls].sort((x, y) => (x.ns === y.ns ? cmp(x.name, y.name) : cmp(x.ns, y.ns)));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

