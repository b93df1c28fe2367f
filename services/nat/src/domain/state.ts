/**
 * NAT state: the associations and gateways the nat log says exist, plus a
 * read model of what IPAM owns (ports, floating IPs, routers: who owns them,
 * addresses, hosts) so commands can be checked without asking IPAM. Plain
 * JSON records (no Maps): a snapshot is a JSON document and "state equals a
 * full replay" is a digest comparison.
 */
import type { FollowedPort, FollowedPorts } from '@strata/contracts';

export interface NatState {
  /** Last stream sequence seen (the projection reads the whole domain stream; see evolve.ts). */
  seq: number;
  /** IPAM's ports, folded by the shared port lifecycle (@strata/contracts, ipam/port-lifecycle.ts). */
  ports: FollowedPorts;
  /** IPAM's floating IPs with their association (the `nat.floatingip.<id>` aggregates). */
  floatingIps: Record<string, FloatingIpEntry>;
  /** IPAM's routers with their external gateway (the `nat.router.<id>` aggregates). */
  routers: Record<string, RouterEntry>;
  /** portId → floatingIpId → the port's fixed IP it is translated to (live associations only). */
  portFloatingIps: Record<string, Record<string, string>>;
  /** IPAM's floating-IP pools (the external networks a router's gateway may be named after): id → name. */
  floatingIpPools: Record<string, string>;
}

/** A port as nat knows it: IPAM's, as its events describe them. */
export type PortEntry = FollowedPort;

export interface Association {
  portId: string;
  networkId: string;
  fixedIp: string;
}

/**
 * Entries outlive IPAM's resource while nat still has something to undo (an
 * association, an enabled gateway) and, once their nat aggregate has events,
 * as a tombstone: `version` must keep counting if the id ever comes back.
 */
export interface FloatingIpEntry {
  id: string;
  tenant: string;
  address: string;
  /** False once IPAM released it: invisible to queries and commands; the reactor ends its association. */
  live: boolean;
  association: Association | null;
  /** 1 + the association events of `nat.floatingip.<id>` (a function of that aggregate alone, like the association). */
  revision: number;
  /** Last sequence of `nat.floatingip.<id>`; 0: no nat event yet. */
  version: number;
}

export interface RouterEntry {
  id: string;
  tenant: string;
  live: boolean;
  externalGateway: boolean;
  /** The floating-IP pool the enabled gateway is named after; absent: disabled or none named (and in states folded before it existed). */
  externalNetworkId?: string;
  /** Last sequence of `nat.router.<id>`. */
  version: number;
}

export function initialState(): NatState {
  return { seq: 0, ports: {}, floatingIps: {}, routers: {}, portFloatingIps: {}, floatingIpPools: {} };
}
