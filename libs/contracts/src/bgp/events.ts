/**
 * The BGP gateway's events. Two aggregate kinds:
 *
 *   bgp.config.default   the gateway's configuration: local AS and router id,
 *                        fabric peers, appliance peer groups, which
 *                        appliance may announce which application prefix,
 *                        and the zone's federation (FederationSet/Cleared).
 *                        A singleton: rare admin changes, and uniqueness
 *                        (peer addresses, overlapping listen ranges, one
 *                        appliance per prefix) is checked against one version.
 *   bgp.route.<id>       what one appliance announced for one prefix that the
 *                        import policy accepts (id derived from peer address
 *                        and prefix, routeAggregateId): learned or withdrawn,
 *                        after flap damping. Written by every gateway instance
 *                        that observes it, with ids derived from the decision,
 *                        so a pair of gateways records it once. (RouteRejected
 *                        and border routes are no longer written; old events
 *                        stay readable.)
 *   bgp.physical.<id>    what an `evpn` gateway device (a switch) announces
 *                        for a VNI bound on it (physicalMacId, physicalVtepId):
 *                        a MAC (type 2) or a flood VTEP (type 3), learned or
 *                        withdrawn; recorded once by a pair of gateways, like
 *                        routes. A remote zone's routes on a stretched segment
 *                        are recorded the same way, with `deviceId`
 *                        `zone-<name>` (domain/decide/federation.ts).
 *   bgp.session.<id>     one gateway instance's session with one appliance
 *                        (sessionLimitId): ApplianceSessionLimited, written only
 *                        by that instance.
 *
 * MD5 secrets are never in events: peers carry a `passwordRef`, a name the
 * gateway resolves from its own configuration.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';
import { PhysicalVtep, ZoneMac } from '../physical.js';
import { RejectReason } from './views.js';

export const BGP_CONTEXT = 'bgp';

export const BgpSettingsSet = defineEvent({
  type: 'bgp.SettingsSet',
  version: 1,
  schema: z.object({ localAs: z.number().int(), routerId: z.string(), listenPort: z.number().int() }),
});

export const BgpPeerAdded = defineEvent({
  type: 'bgp.PeerAdded',
  version: 1,
  schema: z.object({ peerId: z.string(), name: z.string(), address: z.string(), remoteAs: z.number().int(), passwordRef: z.string().nullable() }),
});

/** An update of a fabric peer: only the fields that changed (`passwordRef: null`: no TCP-MD5 any more). */
export const BgpPeerUpdated = defineEvent({
  type: 'bgp.PeerUpdated',
  version: 1,
  schema: z.object({ peerId: z.string(), name: z.string().optional(), remoteAs: z.number().int().optional(), passwordRef: z.string().nullable().optional() }),
});

export const BgpPeerRemoved = defineEvent({
  type: 'bgp.PeerRemoved',
  version: 1,
  schema: z.object({ peerId: z.string(), address: z.string() }),
});

export const BgpPeerGroupAdded = defineEvent({
  type: 'bgp.PeerGroupAdded',
  version: 1,
  schema: z.object({
    groupId: z.string(),
    name: z.string(),
    listenRange: z.string(),
    remoteAs: z.number().int(),
    passwordRef: z.string().nullable(),
    maxPrefixes: z.number().int(),
    sendDefault: z.boolean(),
  }),
});

/** An update of a peer group: only the fields that changed. */
export const BgpPeerGroupUpdated = defineEvent({
  type: 'bgp.PeerGroupUpdated',
  version: 1,
  schema: z.object({
    groupId: z.string(),
    name: z.string().optional(),
    remoteAs: z.number().int().optional(),
    passwordRef: z.string().nullable().optional(),
    maxPrefixes: z.number().int().optional(),
    sendDefault: z.boolean().optional(),
  }),
});

export const BgpPeerGroupRemoved = defineEvent({
  type: 'bgp.PeerGroupRemoved',
  version: 1,
  schema: z.object({ groupId: z.string() }),
});

export const AppliancePrefixAssigned = defineEvent({
  type: 'bgp.AppliancePrefixAssigned',
  version: 1,
  schema: z.object({ prefixId: z.string(), prefix: z.string(), deviceId: z.string() }),
});

export const AppliancePrefixUnassigned = defineEvent({
  type: 'bgp.AppliancePrefixUnassigned',
  version: 1,
  schema: z.object({ prefixId: z.string(), prefix: z.string(), deviceId: z.string() }),
});

/** The federation configuration, whole (commands.ts `SetFederation`); passwords by reference only. */
export const FederationSet = defineEvent({
  type: 'bgp.FederationSet',
  version: 1,
  schema: z.object({
    localZone: z.object({ name: z.string(), id: z.number().int() }),
    federationAs: z.number().int(),
    routeReflectors: z.array(z.object({ address: z.string(), passwordRef: z.string().nullable() })),
    zones: z.array(
      z.object({ name: z.string(), id: z.number().int(), vtepPrefixes: z.array(z.string()), vniRanges: z.array(z.object({ min: z.number().int(), max: z.number().int() })), maxRoutes: z.number().int() }),
    ),
  }),
});

/** The zone left its federation: no sessions to route reflectors, nothing advertised or learned. */
export const FederationCleared = defineEvent({ type: 'bgp.FederationCleared', version: 1, schema: z.object({}) });

const RouteFields = {
  peer: z.string(),
  prefix: z.string(),
  nextHop: z.string(),
  asPath: z.array(z.number().int()),
  /** Set for routes from appliances. */
  deviceId: z.string().nullable(),
};

/** A peer announces `prefix` and the gateway took it: a border route, or an appliance route that passed the import policy. */
export const RouteLearned = defineEvent({ type: 'bgp.RouteLearned', version: 1, schema: z.object(RouteFields) });

/** An appliance announced `prefix` and the import policy refused it. */
export const RouteRejected = defineEvent({
  type: 'bgp.RouteRejected',
  version: 1,
  schema: z.object({ ...RouteFields, reason: z.enum(RejectReason) }),
});

/** The peer no longer announces `prefix` (or is no longer a neighbour). */
export const RouteWithdrawn = defineEvent({
  type: 'bgp.RouteWithdrawn',
  version: 1,
  schema: z.object({ peer: z.string(), prefix: z.string() }),
});

/**
 * A gateway's BGP engine stopped an appliance's session because it sent more
 * prefixes than the engine's hard limit; the gateway re-enables it after
 * `retryInSeconds` (docs/architecture.md, "Session-down policy").
 */
export const ApplianceSessionLimited = defineEvent({
  type: 'bgp.ApplianceSessionLimited',
  version: 1,
  schema: z.object({
    /** The router id of the gateway instance whose engine stopped the session. */
    gateway: z.string(),
    peer: z.string(),
    deviceId: z.string(),
    limit: z.number().int(),
    retryInSeconds: z.number().int(),
  }),
});

/**
 * An `evpn` switch announces a MAC (and IP) behind its VTEP on a VNI bound on
 * it (an EVPN type-2 route), or another zone does (device `zone-<name>`, with
 * its port's group tags: a change of tags is a new PhysicalMacLearned).
 */
export const PhysicalMacLearned = defineEvent({ type: 'bgp.PhysicalMacLearned', version: 1, schema: ZoneMac });
/** The switch no longer announces it (or the VNI is no longer bound on it, or the device is gone). */
export const PhysicalMacWithdrawn = defineEvent({ type: 'bgp.PhysicalMacWithdrawn', version: 1, schema: ZoneMac });
/** An `evpn` switch wants a VNI bound on it flooded to its VTEP (an EVPN type-3 route). */
export const PhysicalVtepLearned = defineEvent({ type: 'bgp.PhysicalVtepLearned', version: 1, schema: PhysicalVtep });
export const PhysicalVtepWithdrawn = defineEvent({ type: 'bgp.PhysicalVtepWithdrawn', version: 1, schema: PhysicalVtep });

export const bgpEvents = new EventRegistry([
  BgpSettingsSet,
  BgpPeerAdded,
  BgpPeerUpdated,
  BgpPeerRemoved,
  BgpPeerGroupAdded,
  BgpPeerGroupUpdated,
  BgpPeerGroupRemoved,
  AppliancePrefixAssigned,
  AppliancePrefixUnassigned,
  RouteLearned,
  RouteRejected,
  RouteWithdrawn,
  ApplianceSessionLimited,
  PhysicalMacLearned,
  PhysicalMacWithdrawn,
  PhysicalVtepLearned,
  PhysicalVtepWithdrawn,
  FederationSet,
  FederationCleared,
] as const);

export type BgpEvent = ReturnType<typeof bgpEvents.decode>;
export const BGP_CONFIG_AGGREGATE = { context: BGP_CONTEXT, type: 'config', id: 'default' } as const;
export const bgpRouteAggregate = (id: string) => ({ context: BGP_CONTEXT, type: 'route', id }) as const;
export const bgpSessionAggregate = (id: string) => ({ context: BGP_CONTEXT, type: 'session', id }) as const;
export const bgpPhysicalAggregate = (id: string) => ({ context: BGP_CONTEXT, type: 'physical', id }) as const;
