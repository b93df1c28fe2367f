/**
 * The agent's model of the kernel: plain values, compared key by key.
 *
 * Desired and actual state share one shape (`KernelState`), so the diff is a
 * comparison of two values and a plan can be checked by applying it to a value
 * (`core/model.ts`) as well as to a kernel (`kernel/apply.ts`).
 *
 * Namespaces: `''` (HOST_NS) is the namespace the agent manages (the
 * hypervisor's); any other string is a routing-domain namespace the agent
 * created. Every object here is Strata's own, except `plugs`, which record
 * foreign devices (the hypervisor's taps) attached to a Strata bridge.
 */

import { emptyNftState, type NftCmd, type NftState } from './nft.js';

export const HOST_NS = '';

export type LinkKind = 'bridge' | 'vxlan' | 'veth' | 'vlan';

export interface VxlanInfo {
  vni: number;
  local: string;
  port: number;
  learning: boolean;
}

/** A VLAN device (software L2 gateway, core/l2gw.ts): VLAN `id` of the host-namespace NIC `parent`. */
export interface VlanInfo {
  parent: string;
  id: number;
}

export interface PeerRef {
  ns: string;
  name: string;
}

/** Bridge-port flags of a link enslaved to a bridge. */
export interface BridgePortFlags {
  learning: boolean;
  neighSuppress: boolean;
}

/** The kernel's defaults for a freshly enslaved port. */
export const DEFAULT_BRPORT: BridgePortFlags = { learning: true, neighSuppress: false };

export interface LinkState {
  ns: string;
  name: string;
  /** `other`: a link with a Strata name but a kind the agent never creates (only ever seen in actual state). */
  kind: LinkKind | 'other';
  mtu: number;
  up: boolean;
  master: string | null;
  alias: string;
  /** Desired: null = the kernel chooses. */
  mac: string | null;
  vxlan: VxlanInfo | null;
  /** veth: the other end. Actual: null when it cannot be identified (orphan). */
  peer: PeerRef | null;
  /** vlan only: its NIC and VLAN id (absent on every other kind). */
  vlan?: VlanInfo;
  /** Desired: null = don't care. Actual: the flags, or null when not enslaved. */
  brport: BridgePortFlags | null;
}

/** A foreign device (a VM's tap) attached to a Strata bridge. */
export interface PlugState {
  device: string;
  master: string;
  mtu: number;
  up: boolean;
}

export interface AddrEntry {
  ns: string;
  dev: string;
  /** `address/prefixlen`, canonical address text. */
  cidr: string;
}

/**
 * FDB entries, all in the host namespace:
 * - flood: head-end replication, `00:00:00:00:00:00 dst <vtep>` on a vxlan (self; several per device);
 * - tunnel: unicast MAC → VTEP on a vxlan (self; one per MAC);
 * - bridge: MAC → port in a bridge's own table (master static; one per MAC per bridge).
 */
export type FdbEntry =
  | { kind: 'flood'; dev: string; dst: string }
  | { kind: 'tunnel'; dev: string; mac: string; dst: string }
  | { kind: 'bridge'; master: string; mac: string; dev: string };

export interface NeighEntry {
  ns: string;
  dev: string;
  ip: string;
  mac: string;
}

/**
 * An IPv4 route Strata installed (`proto 83`, so reading back finds only
 * Strata's). `via` null: a device route. Gateways are `onlink`: they are
 * link-local transit addresses that no connected prefix covers.
 */
export interface RouteEntry {
  ns: string;
  /** `address/prefixlen`, canonical (`0.0.0.0/0` for the default route). */
  dst: string;
  dev: string;
  via: string | null;
  /** A routing table of a policy rule (service chaining's steering); absent: the main table. */
  table?: number;
}

/**
 * A policy routing rule Strata installed in a routing-domain namespace
 * (`proto 83`): packets carrying `fwmark` look up `table` (service
 * chaining's steering to an appliance). Identity is the whole rule: a
 * changed rule is a new one added and the old one deleted.
 */
export interface RuleEntry {
  ns: string;
  /** The rule's address family (`ip -4 rule` / `ip -6 rule`): a steering mark has a rule per family it routes. */
  family: 4 | 6;
  pref: number;
  /** 0x%08x */
  fwmark: string;
  table: number;
}

export interface NamespaceState {
  name: string;
  /** The sysctls the agent manages in this namespace (key → value as text). */
  sysctls: Record<string, string>;
}

export interface KernelState {
  namespaces: Record<string, NamespaceState>;
  links: Record<string, LinkState>;
  plugs: Record<string, PlugState>;
  addrs: Record<string, AddrEntry>;
  fdb: Record<string, FdbEntry>;
  neighs: Record<string, NeighEntry>;
  routes: Record<string, RouteEntry>;
  rules: Record<string, RuleEntry>;
  /** Strata's nftables tables in the managed namespace (`inet strata`, `bridge strata`, `ip strata`). */
  nft: NftState;
  /** Strata's nftables tables in routing-domain namespaces (`ip strata`: floating IPs and PNAT; `inet strata`: service chaining), by namespace. */
  nsNft: Record<string, NftState>;
  /**
   * Sysctls of the managed (host) namespace. Desired: only the keys that must
   * have a value (br_netfilter on while ports are filtered); a key that is not
   * desired is left as it is. Actual: the values of HOST_SYSCTLS.
   */
  hostSysctls: Record<string, string>;
}

/** What the kernel has: Strata's objects, plus the names of the other links in the host namespace. */
export interface ActualState extends KernelState {
  /** Names of non-Strata links in the host namespace (port devices may be among them). */
  devices: string[];
}

export const MANAGED_SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  // A domain namespace is a router: the other hosts' RAs reaching its gateways must configure nothing (core/desired.ts).
  'net.ipv6.conf.all.accept_ra',
  'net.ipv6.conf.default.accept_ra',
] as const;

/** Host-namespace sysctls the agent reads (and sets when needed). */
export const BR_NETFILTER_SYSCTLS = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'] as const;
/** br_netfilter (security groups), IPv4 forwarding (floating IPs and PNAT route through the hypervisor), IPv6 forwarding (routed IPv6 networks). */
export const HOST_SYSCTLS = [...BR_NETFILTER_SYSCTLS, 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'] as const;

export const emptyKernelState = (): KernelState => ({
  namespaces: {},
  links: {},
  plugs: {},
  addrs: {},
  fdb: {},
  neighs: {},
  routes: {},
  rules: {},
  nft: emptyNftState(),
  nsNft: {},
  hostSysctls: {},
});

// ---- keys: one place that decides identity ----

export const linkKey = (ns: string, name: string): string => (ns === HOST_NS ? name : `${ns}/${name}`);
export const addrKey = (a: AddrEntry): string => `${a.ns}|${a.dev}|${a.cidr}`;
export const neighKey = (n: Pick<NeighEntry, 'ns' | 'dev' | 'ip'>): string => `${n.ns}|${n.dev}|${n.ip}`;
export const routeKey = (r: Pick<RouteEntry, 'ns' | 'dst' | 'table'>): string => (r.table === undefined ? `${r.ns}|${r.dst}` : `${r.ns}|${r.dst}|t${r.table}`);
export const ruleKey = (r: RuleEntry): string => `${r.ns}|v${r.family}|${r.pref}|${r.fwmark}|${r.table}`;
export function fdbKey(f: FdbEntry): string {
  switch (f.kind) {
    case 'flood':
      return `flood|${f.dev}|${f.dst}`;
    case 'tunnel':
      return `tunnel|${f.dev}|${f.mac}`;
    case 'bridge':
      return `bridge|${f.master}|${f.mac}`;
  }
}

// ---- the plan ----

export type Op =
  /** One nftables transaction (`nft -f -`): atomic, all or nothing. `ns`: a routing-domain namespace (default: the managed one). */
  | { op: 'nft'; commands: NftCmd[]; ns?: string }
  | { op: 'ns-add'; ns: string }
  | { op: 'ns-del'; ns: string }
  /** `ns` HOST_NS: a sysctl of the managed namespace itself. */
  | { op: 'sysctl'; ns: string; key: string; value: string }
  /** Creates the link with every attribute; a veth is created with its peer (`peer` holds that end's state). */
  | { op: 'link-add'; link: LinkState; peer?: LinkState }
  | { op: 'link-set'; ns: string; name: string; set: LinkChanges }
  /** Deleting one end of a veth deletes both. */
  | { op: 'link-del'; ns: string; name: string }
  | { op: 'plug'; plug: PlugState }
  | { op: 'unplug'; device: string }
  | { op: 'addr-add'; addr: AddrEntry }
  | { op: 'addr-del'; addr: AddrEntry }
  | { op: 'fdb-add'; entry: FdbEntry }
  /** Same key, new value: a tunnel's VTEP or a bridge entry's port changed. */
  | { op: 'fdb-replace'; entry: FdbEntry }
  | { op: 'fdb-del'; entry: FdbEntry }
  | { op: 'neigh-replace'; entry: NeighEntry }
  | { op: 'neigh-del'; entry: NeighEntry }
  | { op: 'route-replace'; entry: RouteEntry }
  | { op: 'route-del'; entry: RouteEntry }
  | { op: 'rule-add'; entry: RuleEntry }
  | { op: 'rule-del'; entry: RuleEntry };

export interface LinkChanges {
  mtu?: number;
  up?: boolean;
  master?: string | null;
  alias?: string;
  mac?: string;
  brport?: BridgePortFlags;
}

export const PHASES = [
  // First: a port's filters are in place before it is plugged.
  'nft',
  'namespaces',
  'sysctls',
  'replace',
  'links',
  'link-attrs',
  'plugs',
  'addrs',
  'fdb',
  'neighs',
  'routes',
  // Policy rules after the tables they look up, before the nft rules that mark packets for them.
  'rules',
  // Domain namespaces' tables (NAT, service chaining), once their namespaces, links, routes and rules exist.
  'ns-nft',
  // Software L2 gateways' VLAN devices (core/l2gw.ts), last of the additions: a NIC or a kernel that refuses one
  // (no 802.1Q support) fails only this batch, after the overlay, routing and filters are in place.
  'gateway-vlans',
  // After the marks are gone (ns-nft), before the tables the rules look up.
  'rule-removals',
  'route-removals',
  'neigh-removals',
  'fdb-removals',
  'addr-removals',
  'unplugs',
  'link-removals',
  'namespace-removals',
] as const;
export type Phase = (typeof PHASES)[number];

export interface Batch {
  phase: Phase;
  ops: Op[];
}

/** Ordered batches; empty batches are left out, so an empty plan has no batches. */
export interface Plan {
  batches: Batch[];
}

export const planSize = (p: Plan): number => p.batches.reduce((n, b) => n + b.ops.length, 0);
