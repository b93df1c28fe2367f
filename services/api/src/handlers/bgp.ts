/** BgpService: forwarded to the BGP gateway, which requires an admin caller for all of it. */
import type { AdvertisementView, ApplianceAssignmentView, BgpPeerGroupView, BgpPeerView, BgpRouteView, BgpSettingsView, FederationView } from '@strata/contracts';
import { ValidationError } from '@strata/errors';
import type { ApplianceAssignment, BgpAdvertisement, BgpPeer, BgpPeerGroup, BgpRoute, BgpServiceHandlers, BgpSettings, Federation, SetFederationRequest__Output } from '@strata/proto';
import type { BgpClient } from '@strata/runtime';
import { paging, unary, type RpcDeps } from '../rpc.js';

export const toBgpSettings = (v: BgpSettingsView): BgpSettings => ({ localAs: v.localAs ?? undefined, routerId: v.routerId ?? undefined, listenPort: v.listenPort });
export const toBgpPeer = (v: BgpPeerView): BgpPeer => ({ ...v, passwordRef: v.passwordRef ?? undefined });
export const toBgpPeerGroup = (v: BgpPeerGroupView): BgpPeerGroup => ({ ...v, passwordRef: v.passwordRef ?? undefined });
export const toApplianceAssignment = (v: ApplianceAssignmentView): ApplianceAssignment => ({ ...v });
export const toBgpRoute = (v: BgpRouteView): BgpRoute => ({ ...v, reason: v.reason ?? undefined, deviceId: v.deviceId ?? undefined });
export const toBgpAdvertisement = (v: AdvertisementView): BgpAdvertisement => ({ ...v });
export const toFederation = (v: FederationView): Federation => ({
  localZone: v.localZone ?? undefined,
  federationAs: v.federationAs ?? undefined,
  routeReflectors: v.routeReflectors.map((r) => ({ address: r.address, passwordRef: r.passwordRef ?? undefined })),
  zones: v.zones,
  revision: v.revision,
});

/** The request as the contract takes it (the gateway checks the rest). */
function federationInput(req: SetFederationRequest__Output) {
  if (!req.localZone) throw new ValidationError('local_zone: required: the name and number of this zone', { field: 'localZone' });
  return {
    localZone: req.localZone,
    federationAs: req.federationAs,
    routeReflectors: req.routeReflectors.map((r) => ({ address: r.address, passwordRef: r.passwordRef })),
    zones: req.zones,
  };
}

/** An update's secret reference: a new one, none (remove_password_ref), or unchanged (neither). */
function passwordRefOf(req: { passwordRef?: string; removePasswordRef: boolean }): string | null | undefined {
  if (req.removePasswordRef && req.passwordRef !== undefined) {
    throw new ValidationError('give password_ref or remove_password_ref, not both', { field: 'removePasswordRef' });
  }
  return req.removePasswordRef ? null : req.passwordRef;
}

const pageOf = <V, P>(p: { items: V[]; next: string }, f: (v: V) => P) => ({ items: p.items.map(f), next: p.next });

export function bgpHandlers(deps: RpcDeps, bgp: BgpClient): BgpServiceHandlers {
  return {
    GetBgpSettings: unary(deps, 'GetBgpSettings', async (_req, { meta }) => toBgpSettings(await bgp.query('settings.get', {}, meta))),
    SetBgpSettings: unary(deps, 'SetBgpSettings', async (req, { meta }) =>
      toBgpSettings(await bgp.command('settings.set', { localAs: req.localAs, routerId: req.routerId, listenPort: req.listenPort }, meta)),
    ),
    CreateBgpPeer: unary(deps, 'CreateBgpPeer', async (req, { meta }) =>
      toBgpPeer(await bgp.command('peer.create', { name: req.name, address: req.address, remoteAs: req.remoteAs, passwordRef: req.passwordRef }, meta)),
    ),
    GetBgpPeer: unary(deps, 'GetBgpPeer', async (req, { meta }) => toBgpPeer(await bgp.query('peer.get', { id: req.id }, meta))),
    ListBgpPeers: unary(deps, 'ListBgpPeers', async (req, { meta }) => pageOf(await bgp.query('peer.list', paging(req), meta), toBgpPeer)),
    UpdateBgpPeer: unary(deps, 'UpdateBgpPeer', async (req, { meta }) => {
      const { id, expectedRevision, name, remoteAs, address } = req;
      return toBgpPeer(await bgp.command('peer.update', { id, expectedRevision, name, remoteAs, passwordRef: passwordRefOf(req), address }, meta));
    }),
    DeleteBgpPeer: unary(deps, 'DeleteBgpPeer', (req, { meta }) => bgp.command('peer.delete', { id: req.id }, meta)),
    CreateBgpPeerGroup: unary(deps, 'CreateBgpPeerGroup', async (req, { meta }) => {
      const body = { name: req.name, listenRange: req.listenRange, remoteAs: req.remoteAs, passwordRef: req.passwordRef, maxPrefixes: req.maxPrefixes, sendDefault: req.sendDefault };
      return toBgpPeerGroup(await bgp.command('peergroup.create', body, meta));
    }),
    GetBgpPeerGroup: unary(deps, 'GetBgpPeerGroup', async (req, { meta }) => toBgpPeerGroup(await bgp.query('peergroup.get', { id: req.id }, meta))),
    ListBgpPeerGroups: unary(deps, 'ListBgpPeerGroups', async (req, { meta }) => pageOf(await bgp.query('peergroup.list', paging(req), meta), toBgpPeerGroup)),
    UpdateBgpPeerGroup: unary(deps, 'UpdateBgpPeerGroup', async (req, { meta }) => {
      const { id, expectedRevision, name, remoteAs, maxPrefixes, sendDefault, listenRange } = req;
      const body = { id, expectedRevision, name, remoteAs, passwordRef: passwordRefOf(req), maxPrefixes, sendDefault, listenRange };
      return toBgpPeerGroup(await bgp.command('peergroup.update', body, meta));
    }),
    DeleteBgpPeerGroup: unary(deps, 'DeleteBgpPeerGroup', (req, { meta }) => bgp.command('peergroup.delete', { id: req.id }, meta)),
    AssignAppliancePrefix: unary(deps, 'AssignAppliancePrefix', async (req, { meta }) =>
      toApplianceAssignment(await bgp.command('appliance.assign', { prefixId: req.prefixId, deviceId: req.deviceId }, meta)),
    ),
    UnassignAppliancePrefix: unary(deps, 'UnassignAppliancePrefix', (req, { meta }) => bgp.command('appliance.unassign', { prefixId: req.prefixId }, meta)),
    ListApplianceAssignments: unary(deps, 'ListApplianceAssignments', async (req, { meta }) =>
      pageOf(await bgp.query('appliance.list', paging(req), meta), toApplianceAssignment),
    ),
    ListBgpRoutes: unary(deps, 'ListBgpRoutes', async (req, { meta }) => pageOf(await bgp.query('route.list', paging(req), meta), toBgpRoute)),
    GetFederation: unary(deps, 'GetFederation', async (_req, { meta }) => toFederation(await bgp.query('federation.get', {}, meta))),
    SetFederation: unary(deps, 'SetFederation', async (req, { meta }) => toFederation(await bgp.command('federation.set', federationInput(req), meta))),
    ClearFederation: unary(deps, 'ClearFederation', async (_req, { meta }) => toFederation(await bgp.command('federation.clear', {}, meta))),
    ListBgpAdvertisements: unary(deps, 'ListBgpAdvertisements', async (req, { meta }) =>
      pageOf(await bgp.query('advertisement.list', paging(req), meta), toBgpAdvertisement),
    ),
  };
}
