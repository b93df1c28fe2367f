/** What the BGP gateway's queries return: plain values, the same shape the gRPC API exposes. */

/** The gateway's own BGP identity. Until it is set, the gateway configures nothing in its BGP engine. */
export interface BgpSettingsView {
  /** null until set. */
  localAs: number | null;
  routerId: string | null;
  /** TCP port the BGP engine listens on for appliance sessions (179). */
  listenPort: number;
}

/**
 * A fabric peer (ToR, border router). `passwordRef` names a TCP-MD5 secret
 * the gateway reads from its own configuration; the secret itself is never
 * in an event (see docs/architecture.md, "BGP gateway").
 */
export interface BgpPeerView {
  id: string;
  name: string;
  address: string;
  remoteAs: number;
  passwordRef: string | null;
  createdAt: string;
  /** 1 at creation, +1 per update. */
  revision: number;
}

/** A group of virtual appliances: every port of a routed network with an address in `listenRange` is a neighbour. */
export interface BgpPeerGroupView {
  id: string;
  name: string;
  listenRange: string;
  remoteAs: number;
  passwordRef: string | null;
  /** Most prefixes accepted from one appliance; more are rejected (reason `max-prefix`). */
  maxPrefixes: number;
  /** Advertise the default route learned from the border to these appliances. */
  sendDefault: boolean;
  createdAt: string;
  /** 1 at creation, +1 per update. */
  revision: number;
}

/** Which appliance (the IPAM device id of its ports: it keeps it when it moves) may announce an application prefix. */
export interface ApplianceAssignmentView {
  prefixId: string;
  prefix: string;
  deviceId: string;
  tenant: string;
  assignedAt: string;
}

export const RouteStatus = ['learned', 'rejected'] as const;
export type RouteStatus = (typeof RouteStatus)[number];

export const RejectReason = ['not-assigned', 'outside-assigned-range', 'prefix-length', 'max-prefix', 'unknown-appliance'] as const;
export type RejectReason = (typeof RejectReason)[number];

/** A route a peer announced, as recorded in the log: learned (border, or accepted from an appliance) or rejected. */
export interface BgpRouteView {
  id: string;
  peer: string;
  prefix: string;
  nextHop: string;
  asPath: number[];
  status: RouteStatus;
  /** For rejected routes. */
  reason: RejectReason | null;
  /** The appliance's device id for routes from appliances. */
  deviceId: string | null;
  since: string;
}

export const AdvertisementKind = ['floating-ip', 'host-route', 'routed-subnet', 'application-prefix', 'host-ip'] as const;
export type AdvertisementKind = (typeof AdvertisementKind)[number];

/** One route the gateway wants the fabric to have: what its reconciler keeps in the BGP engine. */
export interface AdvertisementView {
  prefix: string;
  nextHop: string;
  kind: AdvertisementKind;
  /** What it is advertised for: floating IP id, port id, subnet id, or application prefix id. */
  sourceId: string;
}

/** A remote zone as the federation configuration knows it (commands.ts `RemoteZone`). */
export interface RemoteZoneView {
  name: string;
  id: number;
  vtepPrefixes: string[];
  vniRanges: { min: number; max: number }[];
  maxRoutes: number;
}

/** The federation configuration; `localZone` null: this zone is in no federation. */
export interface FederationView {
  localZone: { name: string; id: number } | null;
  federationAs: number | null;
  routeReflectors: { address: string; passwordRef: string | null }[];
  zones: RemoteZoneView[];
  /** 0 until first set, +1 per change. */
  revision: number;
}
