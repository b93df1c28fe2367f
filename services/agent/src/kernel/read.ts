/**
 * The kernel's actual state, from iproute2's JSON output. Only Strata's
 * objects are reported (links named sbr/svx/sgw, this agent's domain
 * namespaces and what is in them, permanent neighbours and static FDB entries
 * on those links), plus foreign devices plugged into a Strata bridge and the
 * names of all other links (so the diff knows which port devices exist);
 * Strata's nftables tables (`kernel/nft.ts`) and the br_netfilter sysctls.
 */
import { isDomainNamespace, STRATA_HOST_LINK, STRATA_LINK_LOCAL } from '../core/names.js';
import type { NftState } from '../core/nft.js';
import {
  HOST_NS,
  HOST_SYSCTLS,
  MANAGED_SYSCTLS,
  addrKey,
  emptyKernelState,
  fdbKey,
  linkKey,
  neighKey,
  routeKey,
  ruleKey,
  type ActualState,
  type FdbEntry,
  type LinkState,
} from '../core/types.js';
import { runOk, type Exec } from './exec.js';
import { parseNftRuleset, readNft } from './nft.js';
import { ROUTE_PROTO } from './render.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  master?: string;
  address?: string;
  ifalias?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; local?: string; port?: number; learning?: boolean };
    info_slave_kind?: string;
    info_slave_data?: { learning?: boolean; neigh_suppress?: boolean };
  };
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
  /** Absent for the main table (`ip -j route show table all`). */
  table?: string;
}

interface IpRule {
  priority: number;
  fwmark?: string;
  table?: string;
  protocol?: string;
}

interface BridgeFdb {
  mac: string;
  ifname: string;
  dst?: string;
  flags?: string[];
  master?: string;
  state?: string;
}

const ZERO_MAC = '00:00:00:00:00:00';
const isStrataBridge = (name: string): boolean => STRATA_HOST_LINK.test(name) && name.startsWith('sbr');

async function json<T>(exec: Exec, argv: string[]): Promise<T[]> {
  const out = (await runOk(exec, argv)).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

export async function readActual(exec: Exec, nsPrefix: string): Promise<ActualState> {
  const [hostLinks, fdb, hostNeighs, nsIds, nsList, nft, hostSysctls, hostRoutes, hostRoutes6] = await Promise.all([
    json<IpLink>(exec, ['ip', '-j', '-d', 'addr', 'show']),
    json<BridgeFdb>(exec, ['bridge', '-j', 'fdb', 'show']),
    json<IpNeigh>(exec, ['ip', '-j', 'neigh', 'show', 'nud', 'permanent']),
    json<{ nsid: number; name?: string }>(exec, ['ip', '-j', 'netns', 'list-id']),
    json<{ name: string }>(exec, ['ip', '-j', 'netns', 'list']),
    readNft(exec),
    readHostSysctls(exec),
    json<IpRoute>(exec, ['ip', '-4', '-j', 'route', 'show', 'proto', String(ROUTE_PROTO)]),
    json<IpRoute>(exec, ['ip', '-6', '-j', 'route', 'show', 'proto', String(ROUTE_PROTO)]),
  ]);
  const domainNs = nsList.map((n) => n.name).filter((n) => isDomainNamespace(nsPrefix, n)).sort();
  const perNs = await Promise.all(domainNs.map((ns) => readNamespace(exec, ns)));

  const state: ActualState = { ...emptyKernelState(), nft: nft.state, hostSysctls, devices: [] };
  const nsById = new Map(nsIds.filter((n) => n.name !== undefined).map((n) => [n.nsid, n.name!]));
  const byIndex = new Map<string, Map<number, IpLink>>(perNs.map((p) => [p.ns, new Map(p.links.map((l) => [l.ifindex, l]))]));
  const hostByIndex = new Map(hostLinks.map((l) => [l.ifindex, l]));

  for (const l of hostLinks) {
    if (!STRATA_HOST_LINK.test(l.ifname)) {
      state.devices.push(l.ifname);
      if (l.master && isStrataBridge(l.master)) {
        state.plugs[l.ifname] = { device: l.ifname, master: l.master, mtu: l.mtu, up: isUp(l) };
      }
      continue;
    }
    const link = toLink(HOST_NS, l);
    if (link.kind === 'veth') {
      if (l.link_netnsid === undefined) {
        const peer = l.link_index === undefined ? undefined : hostByIndex.get(l.link_index);
        link.peer = peer ? { ns: HOST_NS, name: peer.ifname } : l.link ? { ns: HOST_NS, name: l.link } : null;
      } else {
        const ns = nsById.get(l.link_netnsid);
        const peer = ns === undefined || l.link_index === undefined ? undefined : byIndex.get(ns)?.get(l.link_index);
        link.peer = ns === undefined ? null : { ns, name: peer?.ifname ?? `?${l.link_index ?? ''}` };
      }
    }
    state.links[linkKey(HOST_NS, l.ifname)] = link;
    addAddrs(state, HOST_NS, l);
  }
  state.devices.sort();
  addRoutes(state, HOST_NS, hostRoutes, 4);
  addRoutes(state, HOST_NS, hostRoutes6, 6);

  for (const n of hostNeighs) {
    if (!STRATA_HOST_LINK.test(n.dev) || !n.lladdr || !n.state?.includes('PERMANENT')) continue;
    const e = { ns: HOST_NS, dev: n.dev, ip: n.dst, mac: n.lladdr.toLowerCase() };
    state.neighs[neighKey(e)] = e;
  }

  for (const f of fdb) {
    const e = fdbEntry(f, state);
    if (e) state.fdb[fdbKey(e)] = e;
  }

  for (const p of perNs) {
    state.namespaces[p.ns] = { name: p.ns, sysctls: p.sysctls };
    for (const l of p.links) {
      if (l.ifname === 'lo') continue;
      const link = toLink(p.ns, l);
      if (link.kind === 'veth') {
        // The domain end's peer is the host link that points at it (the domain does not know our namespace's name).
        const hostEnd = Object.values(state.links).find(
          (h) => h.ns === HOST_NS && h.kind === 'veth' && h.peer?.ns === p.ns && h.peer.name === l.ifname,
        );
        link.peer = hostEnd ? { ns: HOST_NS, name: hostEnd.name } : null;
      }
      state.links[linkKey(p.ns, l.ifname)] = link;
      addAddrs(state, p.ns, l);
    }
    addRoutes(state, p.ns, p.routes, 4);
    addRoutes(state, p.ns, p.routes6, 6);
    for (const [family, rules] of [[4, p.rules], [6, p.rules6]] as const) {
      for (const r of rules) {
        const table = Number(r.table);
        if (r.protocol !== String(ROUTE_PROTO) || r.fwmark === undefined || !Number.isInteger(table)) continue;
        const e = { ns: p.ns, family, pref: r.priority, fwmark: hex8(Number(r.fwmark)), table };
        state.rules[ruleKey(e)] = e;
      }
    }
    if (p.nft) state.nsNft[p.ns] = p.nft;
    for (const n of p.neighs) {
      if (n.dev === 'lo' || !n.lladdr || !n.state?.includes('PERMANENT')) continue;
      const e = { ns: p.ns, dev: n.dev, ip: n.dst, mac: n.lladdr.toLowerCase() };
      state.neighs[neighKey(e)] = e;
    }
  }
  return state;
}

/** The host namespace's HOST_SYSCTLS; none when they do not exist (no bridge support). */
async function readHostSysctls(exec: Exec): Promise<Record<string, string>> {
  const r = await exec.run(['sysctl', '-n', ...HOST_SYSCTLS]);
  if (r.code !== 0) return {};
  const values = r.stdout.trim().split('\n');
  return Object.fromEntries(HOST_SYSCTLS.map((k, i) => [k, (values[i] ?? '').trim()]));
}

async function readNamespace(
  exec: Exec,
  ns: string,
): Promise<{
  ns: string;
  links: IpLink[];
  neighs: IpNeigh[];
  routes: IpRoute[];
  routes6: IpRoute[];
  rules: IpRule[];
  rules6: IpRule[];
  sysctls: Record<string, string>;
  nft: NftState | null;
}> {
  const [links, neighs, routes, routes6, rules, rules6, sysctlOut, ruleset] = await Promise.all([
    json<IpLink>(exec, ['ip', '-n', ns, '-j', '-d', 'addr', 'show']),
    json<IpNeigh>(exec, ['ip', '-n', ns, '-j', 'neigh', 'show', 'nud', 'permanent']),
    // Every table: service chaining's steering tables beside the main one (NAT's default route). Each family
    // apart (`ip route` without one lists both; `ip rule`, IPv4 only): IPv6 classifiers' rules and tables.
    json<IpRoute>(exec, ['ip', '-4', '-n', ns, '-j', 'route', 'show', 'table', 'all', 'proto', String(ROUTE_PROTO)]),
    json<IpRoute>(exec, ['ip', '-6', '-n', ns, '-j', 'route', 'show', 'table', 'all', 'proto', String(ROUTE_PROTO)]),
    json<IpRule>(exec, ['ip', '-4', '-n', ns, '-j', 'rule', 'show']),
    json<IpRule>(exec, ['ip', '-6', '-n', ns, '-j', 'rule', 'show']),
    runOk(exec, ['ip', 'netns', 'exec', ns, 'sysctl', '-n', ...MANAGED_SYSCTLS]),
    // One process for every Strata table of the domain (`ip strata`: NAT, `inet strata`: service chaining).
    runOk(exec, ['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset']),
  ]);
  const values = sysctlOut.trim().split('\n');
  const sysctls = Object.fromEntries(MANAGED_SYSCTLS.map((k, i) => [k, (values[i] ?? '').trim()]));
  const parsed = parseNftRuleset(ruleset);
  const nft = Object.keys(parsed.tables).length > 0 ? parsed : null;
  return { ns, links, neighs, routes, routes6, rules, rules6, sysctls, nft };
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** Global-scope addresses of a link, and Strata's fixed link-local ones (the kernel's own link-local ones are not Strata's). */
function addAddrs(state: ActualState, ns: string, l: IpLink): void {
  for (const a of l.addr_info ?? []) {
    if (a.scope !== undefined && a.scope !== 'global' && !(a.scope === 'link' && STRATA_LINK_LOCAL.includes(a.local))) continue;
    const addr = { ns, dev: l.ifname, cidr: `${a.local}/${a.prefixlen}` };
    state.addrs[addrKey(addr)] = addr;
  }
}

/** Strata's routes (proto 83) as `ip -j route` lists them: `default` and host routes without a length. */
function addRoutes(state: ActualState, ns: string, routes: IpRoute[], family: 4 | 6): void {
  for (const r of routes) {
    const dst = r.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : r.dst.includes('/') ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`;
    const table = r.table === undefined || r.table === 'main' ? undefined : Number(r.table);
    if (table !== undefined && !Number.isInteger(table)) continue;
    const e = { ns, dst, dev: r.dev, via: r.gateway ?? null, ...(table !== undefined ? { table } : {}) };
    state.routes[routeKey(e)] = e;
  }
}

function toLink(ns: string, l: IpLink): LinkState {
  const info = l.linkinfo;
  const kind = info?.info_kind === 'bridge' || info?.info_kind === 'vxlan' || info?.info_kind === 'veth' || info?.info_kind === 'vlan' ? info.info_kind : 'other';
  const d = info?.info_data;
  const slave = info?.info_slave_kind === 'bridge' ? info.info_slave_data : undefined;
  return {
    ns,
    name: l.ifname,
    kind,
    mtu: l.mtu,
    up: isUp(l),
    master: l.master ?? null,
    alias: l.ifalias ?? '',
    mac: l.address?.toLowerCase() ?? null,
    vxlan:
      kind === 'vxlan' && d
        ? { vni: d.id ?? -1, local: d.local ?? '', port: d.port ?? -1, learning: d.learning ?? true }
        : null,
    peer: null,
    brport: slave ? { learning: slave.learning ?? true, neighSuppress: slave.neigh_suppress ?? false } : null,
    ...(kind === 'vlan' ? { vlan: { parent: l.link ?? '', id: d?.id ?? -1 } } : {}),
  };
}

function fdbEntry(f: BridgeFdb, state: ActualState): FdbEntry | null {
  const mac = f.mac.toLowerCase();
  const flags = f.flags ?? [];
  const own = state.links[linkKey(HOST_NS, f.ifname)];
  if (flags.includes('self')) {
    if (own?.kind !== 'vxlan' || f.dst === undefined) return null;
    return mac === ZERO_MAC ? { kind: 'flood', dev: f.ifname, dst: f.dst } : { kind: 'tunnel', dev: f.ifname, mac, dst: f.dst };
  }
  if (f.master === undefined || !isStrataBridge(f.master) || f.state !== 'static') return null;
  return { kind: 'bridge', master: f.master, mac, dev: f.ifname };
}

const isUp = (l: IpLink): boolean => l.flags?.includes('UP') ?? false;
