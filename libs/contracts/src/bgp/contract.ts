/**
 * The BGP gateway's contract over NATS (contract.ts): commands at
 * `strata.cmd.bgp.<op>`, queries at `strata.qry.bgp.<op>`, each with its
 * request schema (commands.ts) and reply schema (below, checked against
 * views.ts). Lists page by `id`; assignments by prefix id, advertisements
 * by prefix.
 */
import { z } from 'zod';
import { defineContract, type CommandInput, type CommandName, type CommandRequest, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { historyQuery } from '../audit/history.js';
import { Deleted, pageOf, StateDigest } from '../replies.js';
import {
  AssignAppliancePrefix,
  BgpEmpty,
  BgpRef,
  CreateBgpPeer,
  CreateBgpPeerGroup,
  ListBgp,
  SetBgpSettings,
  SetFederation,
  UnassignAppliancePrefix,
  UpdateBgpPeer,
  UpdateBgpPeerGroup,
} from './commands.js';
import * as v from './views.js';

const BgpSettingsView = z.object({ localAs: z.number().nullable(), routerId: z.string().nullable(), listenPort: z.number() });
const BgpPeerView = z.object({ id: z.string(), name: z.string(), address: z.string(), remoteAs: z.number(), passwordRef: z.string().nullable(), createdAt: z.string(), revision: z.number() });
const BgpPeerGroupView = z.object({
  id: z.string(),
  name: z.string(),
  listenRange: z.string(),
  remoteAs: z.number(),
  passwordRef: z.string().nullable(),
  maxPrefixes: z.number(),
  sendDefault: z.boolean(),
  createdAt: z.string(),
  revision: z.number(),
});
const ApplianceAssignmentView = z.object({ prefixId: z.string(), prefix: z.string(), deviceId: z.string(), tenant: z.string(), assignedAt: z.string() });
const BgpRouteView = z.object({
  id: z.string(),
  peer: z.string(),
  prefix: z.string(),
  nextHop: z.string(),
  asPath: z.array(z.number()),
  status: z.enum(v.RouteStatus),
  reason: z.enum(v.RejectReason).nullable(),
  deviceId: z.string().nullable(),
  since: z.string(),
});
const FederationView = z.object({
  localZone: z.object({ name: z.string(), id: z.number() }).nullable(),
  federationAs: z.number().nullable(),
  routeReflectors: z.array(z.object({ address: z.string(), passwordRef: z.string().nullable() })),
  zones: z.array(z.object({ name: z.string(), id: z.number(), vtepPrefixes: z.array(z.string()), vniRanges: z.array(z.object({ min: z.number(), max: z.number() })), maxRoutes: z.number() })),
  revision: z.number(),
});
const AdvertisementView = z.object({ prefix: z.string(), nextHop: z.string(), kind: z.enum(v.AdvertisementKind), sourceId: z.string() });

// The reply schemas parse to exactly the view types of views.ts: neither can change without the other.
true satisfies Exactly<z.output<typeof BgpSettingsView>, v.BgpSettingsView>;
true satisfies Exactly<z.output<typeof BgpPeerView>, v.BgpPeerView>;
true satisfies Exactly<z.output<typeof BgpPeerGroupView>, v.BgpPeerGroupView>;
true satisfies Exactly<z.output<typeof ApplianceAssignmentView>, v.ApplianceAssignmentView>;
true satisfies Exactly<z.output<typeof BgpRouteView>, v.BgpRouteView>;
true satisfies Exactly<z.output<typeof AdvertisementView>, v.AdvertisementView>;
true satisfies Exactly<z.output<typeof FederationView>, v.FederationView>;

/** Every operation is for admins: the gateway's configuration is the fabric's, not a tenant's. */
export const bgpContract = defineContract('bgp', {
  commands: {
    'settings.set': { request: SetBgpSettings, reply: BgpSettingsView },
    'peer.create': { request: CreateBgpPeer, reply: BgpPeerView },
    'peer.update': { request: UpdateBgpPeer, reply: BgpPeerView },
    'peer.delete': { request: BgpRef, reply: Deleted },
    'peergroup.create': { request: CreateBgpPeerGroup, reply: BgpPeerGroupView },
    'peergroup.update': { request: UpdateBgpPeerGroup, reply: BgpPeerGroupView },
    'peergroup.delete': { request: BgpRef, reply: Deleted },
    'appliance.assign': { request: AssignAppliancePrefix, reply: ApplianceAssignmentView },
    'appliance.unassign': { request: UnassignAppliancePrefix, reply: Deleted },
    'federation.set': { request: SetFederation, reply: FederationView },
    'federation.clear': { request: BgpEmpty, reply: FederationView },
  },
  queries: {
    'settings.get': { request: BgpEmpty, reply: BgpSettingsView },
    'peer.get': { request: BgpRef, reply: BgpPeerView },
    'peer.list': { request: ListBgp, reply: pageOf(BgpPeerView) },
    'peergroup.get': { request: BgpRef, reply: BgpPeerGroupView },
    'peergroup.list': { request: ListBgp, reply: pageOf(BgpPeerGroupView) },
    'appliance.list': { request: ListBgp, reply: pageOf(ApplianceAssignmentView) },
    'route.list': { request: ListBgp, reply: pageOf(BgpRouteView) },
    'advertisement.list': { request: ListBgp, reply: pageOf(AdvertisementView) },
    'federation.get': { request: BgpEmpty, reply: FederationView },
    'state.digest': { request: BgpEmpty, reply: StateDigest },
    history: historyQuery,
  },
});

export type BgpContract = typeof bgpContract;
export type BgpCommandName = CommandName<BgpContract>;
export type BgpCommandInput<K extends BgpCommandName> = CommandInput<BgpContract, K>;
export type BgpCommand<K extends BgpCommandName> = CommandRequest<BgpContract, K>;
export type BgpQuery<K extends QueryName<BgpContract>> = QueryRequest<BgpContract, K>;
