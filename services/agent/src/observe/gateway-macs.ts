/**
 * What a gateway host's bridges learned behind its VLAN bindings, as the
 * report IPAM records (libs/contracts/src/observations.ts
 * `GatewayMacsObservation`; docs/architecture.md, "Gateway devices,
 * bindings and the software gateway"). Pure: the kernel's JSON in, the
 * report out; gateway-macs-watcher.ts runs the commands.
 *
 *   `bridge -j fdb show`          the MACs each binding's VLAN device learned: entries with a master
 *                                 (the bridge's, not the device's own table), neither permanent nor
 *                                 static (the agent's and the bridge's own), unicast
 *   `ip -n <domain> -j neigh show` the IPs the network's routing domain on this host resolved to those
 *                                 MACs on the network's gateway interface (`qr<vni>`), when the host
 *                                 realises the domain: an answered or recently heard neighbour, not
 *                                 an unanswered one
 */
import type { GatewayMacsObservation } from '@strata/contracts';

/** One binding as the watcher observes it: the device its MACs are learned on, where its neighbours are. */
export interface ObservedBinding {
  bindingId: string;
  /** The VLAN device (core/l2gw.ts), a port of the network's bridge. */
  device: string;
  /** The network's gateway interface in its domain namespace, or null when the host does not realise the domain. */
  neighbours: { ns: string; dev: string } | null;
}

interface FdbEntry {
  mac?: unknown;
  ifname?: unknown;
  master?: unknown;
  state?: unknown;
  flags?: unknown;
}

interface NeighEntry {
  dst?: unknown;
  dev?: unknown;
  lladdr?: unknown;
  state?: unknown;
}

const UNICAST = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;
/** Neighbour states that name no address the MAC answered for. */
const UNRESOLVED = new Set(['INCOMPLETE', 'FAILED', 'NOARP', 'PERMANENT']);

/** device → the unicast MACs the bridge learned on it (sorted, lower case). */
export function learnedMacs(fdb: unknown, devices: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const e of Array.isArray(fdb) ? (fdb as FdbEntry[]) : []) {
    if (typeof e.ifname !== 'string' || !devices.has(e.ifname) || typeof e.master !== 'string' || typeof e.mac !== 'string') continue;
    if (e.state === 'permanent' || e.state === 'static' || (Array.isArray(e.flags) && e.flags.includes('self'))) continue;
    const mac = e.mac.toLowerCase();
    if (!UNICAST.test(mac)) continue;
    (out.get(e.ifname) ?? out.set(e.ifname, new Set()).get(e.ifname)!).add(mac);
  }
  return new Map([...out].map(([dev, macs]) => [dev, [...macs].sort()]));
}

/** MAC → the addresses a neighbour table resolved to it on `dev`. */
export function neighbourIps(neigh: unknown, dev: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of Array.isArray(neigh) ? (neigh as NeighEntry[]) : []) {
    if (e.dev !== dev || typeof e.dst !== 'string' || typeof e.lladdr !== 'string') continue;
    const states = Array.isArray(e.state) ? (e.state as unknown[]) : [];
    if (states.some((s) => typeof s === 'string' && UNRESOLVED.has(s))) continue;
    // A link-local IPv6 neighbour is the interface's, never an address of the segment.
    if (e.dst.toLowerCase().startsWith('fe80:')) continue;
    const mac = e.lladdr.toLowerCase();
    out.set(mac, [...(out.get(mac) ?? []), e.dst].sort());
  }
  return out;
}

/** The report: every binding (one without MACs listed empty), each MAC with the IPs its domain resolved to it. */
export function gatewayMacsReport(
  hostId: string,
  bindings: readonly ObservedBinding[],
  fdb: unknown,
  /** namespace → its `ip -j neigh` output (absent: not read, no IPs). */
  neighbours: ReadonlyMap<string, unknown>,
): GatewayMacsObservation {
  const macs = learnedMacs(fdb, new Set(bindings.map((b) => b.device)));
  const sorted = [...bindings].sort((a, b) => (a.bindingId < b.bindingId ? -1 : a.bindingId > b.bindingId ? 1 : 0));
  return {
    hostId,
    bindings: sorted.map((b) => {
      const ips = b.neighbours ? neighbourIps(neighbours.get(b.neighbours.ns), b.neighbours.dev) : new Map<string, string[]>();
      return { bindingId: b.bindingId, macs: (macs.get(b.device) ?? []).map((mac) => ({ mac, ips: ips.get(mac) ?? [] })) };
    }),
  };
}
