/**
 * The NAT service's request schemas, one per operation; contract.ts ties
 * each to its operation, subject (`strata.cmd|qry.nat.<op>`) and reply.
 * Floating IPs themselves are allocated and released by IPAM
 * (`floatingip.create` / `floatingip.delete`); this service only associates
 * them with ports.
 */
import { z } from 'zod';
import { Id, IpAddress, ListOptions } from '../common.js';
import { ExpectedRevision } from '../updates.js';

export const AssociateFloatingIp = z.object({
  floatingIpId: Id,
  portId: Id,
  /** Which IPv4 fixed IP of the port to translate to; omitted: the port's first IPv4 address. */
  fixedIp: IpAddress.optional(),
  /** The floating IP's `revision` as last read (Neutron's If-Match): a stale one is refused and nothing is written. */
  expectedRevision: ExpectedRevision.optional(),
});

export const DisassociateFloatingIp = z.object({ floatingIpId: Id, expectedRevision: ExpectedRevision.optional() });

/**
 * `externalNetworkId`: the floating-IP pool the gateway is named after (Neutron's
 * `external_gateway_info.network_id`), recorded and shown, only with `enabled`.
 * Outbound traffic leaves with each hypervisor's H-IP whichever it names.
 */
export const SetRouterGateway = z
  .object({ routerId: Id, enabled: z.boolean(), externalNetworkId: Id.optional() })
  .refine((c) => c.enabled || c.externalNetworkId === undefined, {
    message: 'names an external network for a gateway being disabled; give it only with enabled: true',
    path: ['externalNetworkId'],
  });

export const FloatingIpRef = z.object({ id: Id });
export const RouterGatewayRef = z.object({ id: Id });
/** Paged like every list; `portId` narrows it to the floating IPs of one port. */
export const ListFloatingIpAssociations = ListOptions.extend({ portId: Id.optional() });
export const NatDigestRequest = z.object({});
