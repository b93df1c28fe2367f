/**
 * Peering segments in the IPAM node (docs/architecture.md, "VPC peering
 * (issue 20)"): which routers share a segment, with their transit addresses
 * and MACs. A host that realises a router realises every router that shares
 * a segment with it (the peer's namespace on the source host takes the
 * packet into the peer's network, like every routed path), so a change to
 * one router's domain is a change to its peers' too: `touchPeers` widens
 * the change after every IPAM event.
 */
import { derivePeeringRoutes, peeringPrefixes, type DomainPeering } from '@strata/contracts';
import { domainOf, type IpamChange, type IpamInputEvent, type IpamModel } from './ipam.js';

export interface PeeringSegmentRec {
  id: string;
  vni: number;
  cidr: string;
}

export interface PeeringAttachmentRec {
  id: string;
  segmentId: string;
  routerId: string;
  ip: string;
  mac: string;
}

type PeeringEvent = Extract<
  IpamInputEvent,
  { type: 'ipam.PeeringSegmentCreated' | 'ipam.PeeringSegmentGranted' | 'ipam.PeeringSegmentRevoked' | 'ipam.PeeringSegmentDeleted' | 'ipam.PeeringAttached' | 'ipam.PeeringDetached' }
>;

export function applyPeeringEvent(ipam: IpamModel, event: PeeringEvent, out: IpamChange): void {
  switch (event.type) {
    case 'ipam.PeeringSegmentCreated': {
      const d = event.data;
      ipam.peeringSegments.set(d.segmentId, { id: d.segmentId, vni: d.vni, cidr: d.cidr });
      for (const a of attachmentsOnSegment(ipam, d.segmentId)) out.domains.add(a.routerId);
      break;
    }
    case 'ipam.PeeringSegmentDeleted':
      // IPAM deletes only a segment without routers; a log saying otherwise takes its routers' links away too.
      for (const a of attachmentsOnSegment(ipam, event.data.segmentId)) out.domains.add(a.routerId);
      ipam.peeringSegments.delete(event.data.segmentId);
      break;
    case 'ipam.PeeringAttached':
    case 'ipam.PeeringDetached': {
      const d = event.data;
      // Every router on the segment before and after: their peers, routes and neighbours change.
      for (const a of attachmentsOnSegment(ipam, d.segmentId)) out.domains.add(a.routerId);
      out.domains.add(d.routerId);
      if (event.type === 'ipam.PeeringAttached') {
        ipam.peeringAttachments.set(d.attachmentId, { id: d.attachmentId, segmentId: d.segmentId, routerId: d.routerId, ip: d.ip, mac: d.mac });
      } else {
        ipam.peeringAttachments.delete(d.attachmentId);
      }
      break;
    }
    case 'ipam.PeeringSegmentGranted':
    case 'ipam.PeeringSegmentRevoked':
      // Consent is IPAM's business: nothing on a hypervisor depends on it.
      break;
  }
}

export const attachmentsOnSegment = (ipam: IpamModel, segmentId: string): PeeringAttachmentRec[] =>
  [...ipam.peeringAttachments.values()].filter((a) => a.segmentId === segmentId);

export const attachmentsOfRouter = (ipam: IpamModel, routerId: string): PeeringAttachmentRec[] =>
  [...ipam.peeringAttachments.values()].filter((a) => a.routerId === routerId);

/** The existing routers that share an existing segment with `routerId` (not itself). */
export function peersOf(ipam: IpamModel, routerId: string): Set<string> {
  const out = new Set<string>();
  for (const mine of attachmentsOfRouter(ipam, routerId)) {
    if (!ipam.peeringSegments.has(mine.segmentId)) continue;
    for (const a of attachmentsOnSegment(ipam, mine.segmentId)) if (a.routerId !== routerId && ipam.routers.has(a.routerId)) out.add(a.routerId);
  }
  return out;
}

/**
 * A router's domain value includes its peers' prefixes (its routes), and a
 * host realising it realises its peers: a change to a router's domain or to
 * a network of it (a subnet added, a network joined) is a change to every
 * peer's domain too.
 */
export function touchPeers(ipam: IpamModel, out: IpamChange): void {
  if (ipam.peeringAttachments.size === 0) return;
  const routers = new Set<string>(out.domains);
  for (const n of out.networks) routers.add(domainOf(ipam, n));
  for (const r of routers) {
    const peers = peersOf(ipam, r);
    if (peers.size === 0) continue;
    out.domains.add(r);
    for (const p of peers) out.domains.add(p);
  }
}

const routerPrefixes = (ipam: IpamModel, routerId: string): string[] =>
  peeringPrefixes([...(ipam.routers.get(routerId)?.interfaces.keys() ?? [])].flatMap((subnetId) => ipam.subnets.get(subnetId)?.cidr ?? []));

/** A router's peerings as its domain key carries them, sorted by segment; undefined when it is on none. */
export function domainPeerings(ipam: IpamModel, routerId: string): DomainPeering[] | undefined {
  const mine = attachmentsOfRouter(ipam, routerId)
    .filter((a) => ipam.peeringSegments.has(a.segmentId))
    .sort((a, b) => (a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : 0));
  if (mine.length === 0) return undefined;
  const segments = mine.map((a) => {
    const seg = ipam.peeringSegments.get(a.segmentId)!;
    const members = attachmentsOnSegment(ipam, seg.id)
      .filter((m) => ipam.routers.has(m.routerId))
      .map((m) => ({ routerId: m.routerId, segmentId: seg.id, ip: m.ip, prefixes: routerPrefixes(ipam, m.routerId) }));
    return { id: seg.id, cidr: seg.cidr, members };
  });
  const routes = derivePeeringRoutes({ id: routerId, prefixes: routerPrefixes(ipam, routerId) }, segments);
  return mine.map((a) => {
    const seg = ipam.peeringSegments.get(a.segmentId)!;
    const neighbours = attachmentsOnSegment(ipam, seg.id)
      .filter((m) => m.routerId !== routerId && ipam.routers.has(m.routerId))
      .map((m) => ({ ip: m.ip, mac: m.mac }))
      .sort((x, y) => (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0));
    return {
      segmentId: seg.id,
      vni: seg.vni,
      cidr: seg.cidr,
      attachmentId: a.id,
      ip: a.ip,
      mac: a.mac,
      neighbours,
      routes: routes.filter((r) => r.segmentId === seg.id).map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    };
  });
}
