/** Read side: state → the views queries answer with, scoped to what the caller may see. */
import type { FloatingIpAssociationView, NatQuery, Page, RouterGatewayView } from '@strata/contracts';
import { canSee, page } from '@strata/service-kit';
import { findFloatingIp } from './decide/floating-ip.js';
import { findRouter } from './decide/router.js';
import type { Caller } from './decide/types.js';
import type { FloatingIpEntry, NatState, RouterEntry } from './state.js';

export function floatingIpView(s: NatState, f: FloatingIpEntry): FloatingIpAssociationView {
  const a = f.association;
  return {
    floatingIpId: f.id,
    tenant: f.tenant,
    address: f.address,
    portId: a?.portId ?? null,
    fixedIp: a?.fixedIp ?? null,
    networkId: a?.networkId ?? null,
    // Where the translation happens: the port's current hypervisor (a deleted port's, until the reactor ends it: none).
    hostId: a ? (s.ports[a.portId]?.hostId ?? null) : null,
    revision: f.revision,
  };
}

export const routerView = (r: RouterEntry): RouterGatewayView => ({
  routerId: r.id,
  tenant: r.tenant,
  externalGateway: r.externalGateway,
  externalNetworkId: r.externalNetworkId ?? null,
});

export const getFloatingIp = (s: NatState, c: Caller, q: NatQuery<'floatingip.get'>): FloatingIpAssociationView =>
  floatingIpView(s, findFloatingIp(s, { caller: c }, q.id));

export function listFloatingIps(s: NatState, c: Caller, q: NatQuery<'floatingip.list'>): Page<FloatingIpAssociationView> {
  const ids = q.portId === undefined ? undefined : new Set(Object.keys(s.portFloatingIps[q.portId] ?? {}));
  const entries = Object.values(s.floatingIps).filter((f) => f.live && canSee(c, f.tenant) && (ids === undefined || ids.has(f.id)));
  const p = page(entries, q);
  return { items: p.items.map((f) => floatingIpView(s, f)), next: p.next };
}

export const getRouterGateway = (s: NatState, c: Caller, q: NatQuery<'router.get'>): RouterGatewayView => routerView(findRouter(s, { caller: c }, q.id));
