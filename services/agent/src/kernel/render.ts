/**
 * Plan operations → iproute2 command lines. Pure.
 *
 * Lines of `ip`/`bridge` for one namespace are run together with `-batch -`;
 * namespace creation/deletion and sysctls are separate programs; nftables
 * changes are one `nft -f -` script.
 */
import { DEFAULT_BRPORT, HOST_NS, type BridgePortFlags, type FdbEntry, type LinkChanges, type LinkState, type Op } from '../core/types.js';
import { renderNftScript } from './nft.js';

export type Command =
  /** `family` 6: the line needs `ip -6` (iproute2 6.1 takes `::/0` as family-less, i.e. IPv4, in rules and route deletions). */
  | { tool: 'ip' | 'bridge'; ns: string; line: string; family?: 6 }
  | { tool: 'exec'; argv: string[] }
  /** One nftables transaction (`nft -f -`, atomic), in the managed namespace or a domain namespace. */
  | { tool: 'nft'; script: string; ns: string }
  /** Named-namespace management: runs in the machine's mount namespace (Exec.runHost). */
  | { tool: 'netns'; argv: string[] };

const ZERO_MAC = '00:00:00:00:00:00';

/** Routing protocol number of Strata's routes (`proto 83`, "S"): reading back lists only these. */
export const ROUTE_PROTO = 83;

export function renderOp(op: Op): Command[] {
  const ip = (ns: string, line: string, family: 4 | 6 = 4): Command => ({ tool: 'ip', ns, line, ...(family === 6 ? { family } : {}) });
  const br = (line: string): Command => ({ tool: 'bridge', ns: HOST_NS, line });
  switch (op.op) {
    case 'nft':
      return [{ tool: 'nft', script: renderNftScript(op.commands), ns: op.ns ?? HOST_NS }];
    case 'ns-add':
      return [{ tool: 'netns', argv: ['ip', 'netns', 'add', op.ns] }, ip(op.ns, 'link set dev lo up')];
    case 'ns-del':
      return [{ tool: 'netns', argv: ['ip', 'netns', 'del', op.ns] }];
    case 'sysctl':
      if (op.ns === HOST_NS) return [{ tool: 'exec', argv: ['sysctl', '-q', '-w', `${op.key}=${op.value}`] }];
      return [{ tool: 'exec', argv: ['ip', 'netns', 'exec', op.ns, 'sysctl', '-q', '-w', `${op.key}=${op.value}`] }];
    case 'link-add':
      return renderLinkAdd(op.link, op.peer);
    case 'link-set':
      return renderLinkSet(op.ns, op.name, op.set);
    case 'link-del':
      return [ip(op.ns, `link del dev ${op.name}`)];
    case 'plug':
      return [ip(HOST_NS, `link set dev ${op.plug.device} master ${op.plug.master} mtu ${op.plug.mtu} ${op.plug.up ? 'up' : 'down'}`)];
    case 'unplug':
      return [ip(HOST_NS, `link set dev ${op.device} nomaster`)];
    case 'addr-add':
      return [ip(op.addr.ns, `addr add ${op.addr.cidr} dev ${op.addr.dev}${op.addr.cidr.includes(':') ? ' nodad' : ''}`)];
    case 'addr-del':
      return [ip(op.addr.ns, `addr del ${op.addr.cidr} dev ${op.addr.dev}`)];
    case 'fdb-add':
    case 'fdb-replace':
      return [br(renderFdbAdd(op.entry))];
    case 'fdb-del':
      return [br(renderFdbDel(op.entry))];
    case 'neigh-replace':
      return [ip(op.entry.ns, `neigh replace ${op.entry.ip} lladdr ${op.entry.mac} dev ${op.entry.dev} nud permanent`)];
    case 'neigh-del':
      return [ip(op.entry.ns, `neigh del ${op.entry.ip} dev ${op.entry.dev}`)];
    case 'route-replace': {
      const r = op.entry;
      return [ip(r.ns, `route replace ${r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev} proto ${ROUTE_PROTO}${r.via ? ' onlink' : ''}${tableArg(r.table)}`, routeFamily(r.dst))];
    }
    case 'route-del':
      return [ip(op.entry.ns, `route del ${op.entry.dst} dev ${op.entry.dev} proto ${ROUTE_PROTO}${tableArg(op.entry.table)}`, routeFamily(op.entry.dst))];
    case 'rule-add':
      return [ip(op.entry.ns, `rule add pref ${op.entry.pref} fwmark ${op.entry.fwmark} lookup ${op.entry.table} proto ${ROUTE_PROTO}`, op.entry.family)];
    case 'rule-del':
      return [ip(op.entry.ns, `rule del pref ${op.entry.pref} fwmark ${op.entry.fwmark} lookup ${op.entry.table}`, op.entry.family)];
  }
}

const routeFamily = (dst: string): 4 | 6 => (dst.includes(':') ? 6 : 4);

const tableArg = (table: number | undefined): string => (table === undefined ? '' : ` table ${table}`);

function renderLinkAdd(l: LinkState, peer?: LinkState): Command[] {
  const out: Command[] = [];
  const common = (x: LinkState): string => `mtu ${x.mtu}${x.mac ? ` address ${x.mac}` : ''}`;
  let type: string;
  if (l.kind === 'bridge') type = 'type bridge';
  else if (l.kind === 'vxlan' && l.vxlan) {
    const v = l.vxlan;
    type = `type vxlan id ${v.vni} local ${v.local} dstport ${v.port}${v.learning ? '' : ' nolearning'}`;
  } else if (l.kind === 'veth' && peer) type = `type veth peer name ${peer.name} ${common(peer)} netns ${nsArg(peer.ns)}`;
  else if (l.kind === 'vlan' && l.vlan) type = `link ${l.vlan.parent} type vlan id ${l.vlan.id}`;
  else throw new Error(`cannot create link ${l.name} of kind ${l.kind}`);
  out.push({ tool: 'ip', ns: l.ns, line: `link add name ${l.name} ${common(l)} ${type}` });
  // Host-side plumbing gets no IPv6 link-local address: it would send RS/MLD/DAD into the overlay.
  if (l.ns === HOST_NS) out.push({ tool: 'ip', ns: l.ns, line: `link set dev ${l.name} addrgenmode none` });
  // A freshly enslaved port has the kernel's default flags: setting them again would only split the
  // `ip -batch` with a `bridge` command per link (1,000 gateway VLANs: 2,000 extra processes).
  const brport = l.brport && !sameBrport(l.brport, DEFAULT_BRPORT) ? { brport: l.brport } : {};
  out.push(...renderLinkSet(l.ns, l.name, { master: l.master, alias: l.alias, up: l.up, ...brport }));
  if (peer) out.push(...renderLinkSet(peer.ns, peer.name, { alias: peer.alias, up: peer.up }));
  return out;
}

/**
 * A port whose bridge-port flags matter (the vxlan: learning off) is enslaved
 * down, gets its flags, and only then comes up: up with the kernel's default
 * flags, even for a moment, it would learn the anycast gateway MAC from a
 * remote host's routed frames and steal it from the local gateway port.
 */
function renderLinkSet(ns: string, name: string, c: LinkChanges): Command[] {
  const guarded = c.brport !== undefined && c.master !== undefined && c.master !== null;
  const parts: string[] = [];
  if (c.master !== undefined) parts.push(c.master === null ? 'nomaster' : `master ${c.master}`);
  if (c.mtu !== undefined) parts.push(`mtu ${c.mtu}`);
  if (c.mac !== undefined) parts.push(`address ${c.mac}`);
  if (c.alias !== undefined) parts.push(`alias ${c.alias}`);
  if (guarded) parts.unshift('down');
  else if (c.up !== undefined && !c.brport) parts.push(c.up ? 'up' : 'down');
  const out: Command[] = [];
  if (parts.length > 0) out.push({ tool: 'ip', ns, line: `link set dev ${name} ${parts.join(' ')}` });
  if (c.brport) {
    const onOff = (b: boolean): string => (b ? 'on' : 'off');
    // `ip link set … type bridge_slave`, not `bridge link set`: the same flags, and the line stays in the `ip -batch`
    // (a gateway host with 1,000 networks would otherwise run two processes more per network).
    out.push({ tool: 'ip', ns, line: `link set dev ${name} type bridge_slave learning ${onOff(c.brport.learning)} neigh_suppress ${onOff(c.brport.neighSuppress)}` });
    if (c.up !== undefined) out.push({ tool: 'ip', ns, line: `link set dev ${name} ${c.up ? 'up' : 'down'}` });
  }
  return out;
}

/**
 * Unicast entries always go in with `replace`: a MAC the bridge has already
 * learned dynamically (the gateway's, from the veth) makes `add` fail with
 * EEXIST, and `replace` turns it into our static entry.
 */
function renderFdbAdd(f: FdbEntry): string {
  const verb = 'replace';
  switch (f.kind) {
    case 'flood':
      return `fdb append ${ZERO_MAC} dev ${f.dev} dst ${f.dst} self static`;
    case 'tunnel':
      return `fdb ${verb} ${f.mac} dev ${f.dev} dst ${f.dst} self static`;
    case 'bridge':
      // sticky: learning never moves it (a frame with this source MAC arriving on another port).
      return `fdb ${verb} ${f.mac} dev ${f.dev} master static sticky`;
  }
}

function renderFdbDel(f: FdbEntry): string {
  switch (f.kind) {
    case 'flood':
      return `fdb del ${ZERO_MAC} dev ${f.dev} dst ${f.dst} self`;
    case 'tunnel':
      return `fdb del ${f.mac} dev ${f.dev} self`;
    case 'bridge':
      return `fdb del ${f.mac} dev ${f.dev} master`;
  }
}

/** The host namespace has no name when the agent runs in it; a veth peer is then created "here". */
const nsArg = (ns: string): string => {
  if (ns === HOST_NS) throw new Error('a veth peer in the host namespace is created from the other side');
  return ns;
};

const sameBrport = (x: BridgePortFlags, y: BridgePortFlags): boolean => x.learning === y.learning && x.neighSuppress === y.neighSuppress;
