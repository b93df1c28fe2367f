/**
 * The NAT service's request contract over NATS: commands go to
 * `strata.cmd.nat.<op>`, queries to `strata.qry.nat.<op>` (see subjects.ts).
 * Floating IPs themselves are allocated and released by IPAM
 * (`floatingip.create` / `floatingip.delete`); this service only associates
 * them with ports.
 */
import { z } from 'zod';
import { Id, IpAddress, ListOptions } from '../common.js';
import type { Page, StateDigest } from '../ipam/views.js';
import type { FloatingIpAssociationView, RouterGatewayView } from './views.js';

export const AssociateFloatingIp = z.object({
  floatingIpId: Id,
  portId: Id,
  /** Which IPv4 fixed IP of the port to translate to; omitted: the port's first IPv4 address. */
  fixedIp: IpAddress.optional(),
});

export const DisassociateFloatingIp = z.object({ floatingIpId: Id });

export const SetRouterGateway = z.object({ routerId: Id, enabled: z.boolean() });

export const FloatingIpRef = z.object({ id: Id });
export const RouterGatewayRef = z.object({ id: Id });
/** Paged like every list; `portId` narrows it to the floating IPs of one port. */
export const ListFloatingIpAssociations = ListOptions.extend({ portId: Id.optional() });
export const NatDigestRequest = z.object({});

/** Operation name → request schema. The op name is the NATS subject suffix. */
export const natCommands = {
  'floatingip.associate': AssociateFloatingIp,
  'floatingip.disassociate': DisassociateFloatingIp,
  'router.setGateway': SetRouterGateway,
} as const;

export const natQueries = {
  'floatingip.get': FloatingIpRef,
  'floatingip.list': ListFloatingIpAssociations,
  'router.get': RouterGatewayRef,
  'state.digest': NatDigestRequest,
} as const;

export type NatCommandName = keyof typeof natCommands;
export type NatQueryName = keyof typeof natQueries;
export type NatCommandInput<K extends NatCommandName> = z.input<(typeof natCommands)[K]>;
export type NatCommand<K extends NatCommandName> = z.output<(typeof natCommands)[K]>;
export type NatQueryInput<K extends NatQueryName> = z.input<(typeof natQueries)[K]>;
export type NatQuery<K extends NatQueryName> = z.output<(typeof natQueries)[K]>;

/** What each operation answers with: commands answer with the resulting view. */
export interface NatResults {
  'floatingip.associate': FloatingIpAssociationView;
  'floatingip.disassociate': FloatingIpAssociationView;
  'router.setGateway': RouterGatewayView;
  'floatingip.get': FloatingIpAssociationView;
  'floatingip.list': Page<FloatingIpAssociationView>;
  'router.get': RouterGatewayView;
  'state.digest': StateDigest;
}
