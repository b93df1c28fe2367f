/**
 * The NAT service's contract over NATS (contract.ts): commands at
 * `strata.cmd.nat.<op>`, queries at `strata.qry.nat.<op>`, each with its
 * request schema (commands.ts) and reply schema (below, checked against
 * views.ts). Commands answer with the resulting view.
 */
import { z } from 'zod';
import { defineContract, type CommandInput, type CommandName, type CommandRequest, type Exactly, type QueryName, type QueryRequest } from '../contract.js';
import { historyQuery } from '../audit/history.js';
import { pageOf, StateDigest } from '../replies.js';
import {
  AssociateFloatingIp,
  DisassociateFloatingIp,
  FloatingIpRef,
  ListFloatingIpAssociations,
  NatDigestRequest,
  RouterGatewayRef,
  SetRouterGateway,
} from './commands.js';
import type * as v from './views.js';

const FloatingIpAssociationView = z.object({
  floatingIpId: z.string(),
  tenant: z.string(),
  address: z.string(),
  portId: z.string().nullable(),
  fixedIp: z.string().nullable(),
  networkId: z.string().nullable(),
  hostId: z.string().nullable(),
  revision: z.number(),
});
const RouterGatewayView = z.object({ routerId: z.string(), tenant: z.string(), externalGateway: z.boolean(), externalNetworkId: z.string().nullable() });

// The reply schemas parse to exactly the view types of views.ts: neither can change without the other.
true satisfies Exactly<z.output<typeof FloatingIpAssociationView>, v.FloatingIpAssociationView>;
true satisfies Exactly<z.output<typeof RouterGatewayView>, v.RouterGatewayView>;

export const natContract = defineContract('nat', {
  commands: {
    'floatingip.associate': { request: AssociateFloatingIp, reply: FloatingIpAssociationView },
    'floatingip.disassociate': { request: DisassociateFloatingIp, reply: FloatingIpAssociationView },
    'router.setGateway': { request: SetRouterGateway, reply: RouterGatewayView },
  },
  queries: {
    'floatingip.get': { request: FloatingIpRef, reply: FloatingIpAssociationView },
    'floatingip.list': { request: ListFloatingIpAssociations, reply: pageOf(FloatingIpAssociationView) },
    'router.get': { request: RouterGatewayRef, reply: RouterGatewayView },
    'state.digest': { request: NatDigestRequest, reply: StateDigest },
    history: historyQuery,
  },
});

export type NatContract = typeof natContract;
export type NatCommandName = CommandName<NatContract>;
export type NatCommandInput<K extends NatCommandName> = CommandInput<NatContract, K>;
export type NatCommand<K extends NatCommandName> = CommandRequest<NatContract, K>;
export type NatQuery<K extends QueryName<NatContract>> = QueryRequest<NatContract, K>;
