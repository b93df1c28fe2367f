/**
 * Who the gateway's BGP engine should have a session with: the configured
 * fabric peers, and one explicit neighbour per appliance. An appliance is a
 * bound port of a routed network (only those addresses are unique in, and
 * reachable from, the fabric) with an IPv4 address inside a peer group's
 * listen range. gobgpd does no TCP-MD5 on dynamic neighbours (listen
 * ranges), so Strata expands the range itself from what IPAM knows.
 */
import { contains, parseAddress, parsePrefix } from '@strata/netaddr';
import type { BgpState, PeerGroupEntry } from './state.js';

export interface FabricNeighbour {
  kind: 'fabric';
  address: string;
  remoteAs: number;
  passwordRef: string | null;
  peerId: string;
}

export interface ApplianceNeighbour {
  kind: 'appliance';
  address: string;
  remoteAs: number;
  passwordRef: string | null;
  groupId: string;
  portId: string;
  deviceId: string;
  maxPrefixes: number;
  sendDefault: boolean;
}

export type Neighbour = FabricNeighbour | ApplianceNeighbour;

/** Address → neighbour. Deterministic: a fabric peer wins over an appliance, a lower port id over a higher one. */
export function desiredNeighbours(state: BgpState): Map<string, Neighbour> {
  const out = new Map<string, Neighbour>();
  for (const p of Object.values(state.config.peers)) {
    out.set(p.address, { kind: 'fabric', address: p.address, remoteAs: p.remoteAs, passwordRef: p.passwordRef, peerId: p.id });
  }
  const groups = Object.values(state.config.groups)
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((g) => ({ g, range: parsePrefix(g.listenRange) }));
  if (groups.length === 0) return out;
  const { networks, ports } = state.fabric;
  const sortedPorts = Object.values(ports).sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const port of sortedPorts) {
    if (port.hostId === null || !networks[port.networkId]?.routed) continue;
    for (const ip of port.ips) {
      if (out.has(ip) || ip.includes(':')) continue;
      const group = groupFor(groups, ip);
      if (group) out.set(ip, applianceOf(group, ip, port.id, port.deviceId));
    }
  }
  return out;
}

function groupFor(groups: { g: PeerGroupEntry; range: ReturnType<typeof parsePrefix> }[], ip: string): PeerGroupEntry | undefined {
  const a = parseAddress(ip);
  return groups.find(({ range }) => range.version === a.version && contains(range, a))?.g;
}

function applianceOf(g: PeerGroupEntry, address: string, portId: string, deviceId: string): ApplianceNeighbour {
  return {
    kind: 'appliance',
    address,
    remoteAs: g.remoteAs,
    passwordRef: g.passwordRef,
    groupId: g.id,
    portId,
    deviceId,
    maxPrefixes: g.maxPrefixes,
    sendDefault: g.sendDefault,
  };
}
