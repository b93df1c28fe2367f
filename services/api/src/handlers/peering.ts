import type { PeeringAttachmentView, PeeringSegmentView } from '@strata/contracts';
import type { PeeringAttachment, PeeringSegment, PeeringServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export const toPeeringAttachment = (v: PeeringAttachmentView): PeeringAttachment => ({ ...v });
export const toPeeringSegment = (v: PeeringSegmentView): PeeringSegment => ({ ...v, attachments: v.attachments.map(toPeeringAttachment), peers: v.peers.map((p) => ({ ...p })) });

/** Peering segments are tenant-scoped: IPAM decides who may do what (owner, granted tenant, router's tenant); the API only translates. */
export function peeringHandlers(deps: RpcDeps): PeeringServiceHandlers {
  const { ipam } = deps;
  return {
    CreatePeeringSegment: unary(deps, 'CreatePeeringSegment', async (req, { meta }) =>
      toPeeringSegment(await ipam.command('peeringsegment.create', { name: req.name, description: req.description, cidr: req.cidr, tenant: req.tenant }, meta)),
    ),
    GetPeeringSegment: unary(deps, 'GetPeeringSegment', async (req, { meta }) => toPeeringSegment(await ipam.query('peeringsegment.get', { id: req.id }, meta))),
    ListPeeringSegments: unary(deps, 'ListPeeringSegments', async (req, { meta }) => {
      const page = await ipam.query('peeringsegment.list', paging(req), meta);
      return { items: page.items.map(toPeeringSegment), next: page.next };
    }),
    DeletePeeringSegment: unary(deps, 'DeletePeeringSegment', (req, { meta }) => ipam.command('peeringsegment.delete', { id: req.id }, meta)),
    GrantPeeringSegment: unary(deps, 'GrantPeeringSegment', async (req, { meta }) =>
      toPeeringSegment(await ipam.command('peeringsegment.grant', { id: req.id, tenant: req.tenant }, meta)),
    ),
    RevokePeeringSegment: unary(deps, 'RevokePeeringSegment', async (req, { meta }) =>
      toPeeringSegment(await ipam.command('peeringsegment.revoke', { id: req.id, tenant: req.tenant }, meta)),
    ),
    AttachPeering: unary(deps, 'AttachPeering', async (req, { meta }) =>
      toPeeringAttachment(await ipam.command('peeringsegment.attach', { segmentId: req.segmentId, routerId: req.routerId, ip: req.ip }, meta)),
    ),
    DetachPeering: unary(deps, 'DetachPeering', (req, { meta }) => ipam.command('peeringsegment.detach', { id: req.id }, meta)),
    ListPeeringRoutes: unary(deps, 'ListPeeringRoutes', (req, { meta }) => ipam.query('peeringsegment.routes', { routerId: req.routerId }, meta)),
  };
}
