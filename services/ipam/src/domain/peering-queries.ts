/**
 * Read side of peering segments. The owner (and the admin) sees the whole
 * segment: its grants and every attachment. A granted tenant sees the
 * segment, itself among the grants, its own attachments and — once one of
 * its routers is on it — every router's transit address, MAC and prefixes
 * (exactly what its routes point at), never another tenant's router ids or
 * tenants. Anyone else is told the segment is not found.
 */
import { NotFoundError } from '@strata/errors';
import { derivePeeringRoutes, type IpamQuery, type Page, type PeeringAttachmentView, type PeeringRoute, type PeeringSegmentView } from '@strata/contracts';
import { canSee, page, visible } from '@strata/service-kit';
import type { Caller } from './decide/types.js';
import { attachmentsOf, attachmentsOfRouter } from './decide/peering.js';
import { routerPrefixes } from './peering-prefixes.js';
import { peeringOf, type IpamState, type PeeringSegmentEntry } from './state.js';

function segmentSeenBy(s: IpamState, c: Caller, seg: PeeringSegmentEntry): PeeringSegmentView | undefined {
  const owner = canSee(c, seg.tenant);
  if (!owner && !seg.grants.includes(c.tenant)) return undefined;
  const all = attachmentsOf(s, seg.id).sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
  const mine = owner ? all : all.filter((a) => a.tenant === c.tenant);
  const { id, tenant, name, description, cidr, vni, revision, createdAt, updatedAt } = seg;
  return {
    id,
    tenant,
    name,
    description,
    cidr,
    vni,
    grants: owner ? [...seg.grants] : [c.tenant],
    attachments: mine.map((a) => ({ ...a })),
    peers: owner || mine.length > 0 ? all.map((a) => ({ ip: a.ip, mac: a.mac, prefixes: routerPrefixes(s, a.routerId) })) : [],
    revision,
    createdAt,
    updatedAt,
  };
}

export function getPeeringSegment(s: IpamState, c: Caller, q: IpamQuery<'peeringsegment.get'>): PeeringSegmentView {
  const seg = peeringOf(s).segments[q.id];
  const view = seg && segmentSeenBy(s, c, seg);
  if (!view) throw new NotFoundError('peering segment', q.id);
  return view;
}

export function listPeeringSegments(s: IpamState, c: Caller, q: IpamQuery<'peeringsegment.list'>): Page<PeeringSegmentView> {
  return page(
    Object.values(peeringOf(s).segments)
      .map((seg) => segmentSeenBy(s, c, seg))
      .filter((v) => v !== undefined),
    q,
  );
}

/** What `peeringsegment.attach` answers with: the attachment, to its tenant, the owner or the admin. */
export function getPeeringAttachment(s: IpamState, c: Caller, id: string): PeeringAttachmentView {
  const a = peeringOf(s).attachments[id];
  const seg = a && peeringOf(s).segments[a.segmentId];
  if (!a || !(canSee(c, a.tenant) || (seg && canSee(c, seg.tenant)))) throw new NotFoundError('peering attachment', id);
  return { ...a };
}

/** The router's routes across every segment it is on (contracts ipam/peering.ts). */
export function peeringRoutes(s: IpamState, c: Caller, q: IpamQuery<'peeringsegment.routes'>): { routes: PeeringRoute[] } {
  const router = visible(c, 'router', q.routerId, s.routers[q.routerId]);
  const segments = attachmentsOfRouter(s, router.id).flatMap((a) => {
    const seg = peeringOf(s).segments[a.segmentId];
    if (!seg) return [];
    const members = attachmentsOf(s, seg.id).map((m) => ({ routerId: m.routerId, segmentId: seg.id, ip: m.ip, prefixes: routerPrefixes(s, m.routerId) }));
    return [{ id: seg.id, cidr: seg.cidr, members }];
  });
  return { routes: derivePeeringRoutes({ id: router.id, prefixes: routerPrefixes(s, router.id) }, segments) };
}
