/**
 * The NAT service's events. Two aggregate kinds:
 *
 *   nat.floatingip.<floatingIpId>  a floating IP's association with a port
 *                                  (static 1:1 NAT on the port's hypervisor).
 *                                  The address itself belongs to IPAM.
 *   nat.router.<routerId>          a tenant router's external gateway:
 *                                  outbound access (PNAT to each hypervisor's
 *                                  H-IP) for the ports of its networks.
 *
 * The events carry what consumers need without a join (address, port,
 * network, fixed IP), so the host view and the BGP gateway can follow them
 * with IPAM's port events alone.
 *
 * Changing a schema: bump `version`, add an upcaster from the old one.
 */
import { z } from 'zod';
import { defineEvent, EventRegistry } from '@strata/eventlog';

export const NAT_CONTEXT = 'nat';

export const FloatingIpAssociated = defineEvent({
  type: 'nat.FloatingIpAssociated',
  version: 1,
  schema: z.object({
    floatingIpId: z.string(),
    /** The public IPv4 address (from IPAM's floating-ip pool). */
    address: z.string(),
    portId: z.string(),
    networkId: z.string(),
    /** The port's IPv4 fixed IP the address is translated to. */
    fixedIp: z.string(),
  }),
});

/** Why an association ended: asked for, or the port / the address went away. */
/** fixed-ip-released: IPAM took the associated address off the port (`ipam.PortUpdated`); it may go to another port. */
export const DisassociationReason = ['requested', 'port-deleted', 'floating-ip-released', 'fixed-ip-released'] as const;

export const FloatingIpDisassociated = defineEvent({
  type: 'nat.FloatingIpDisassociated',
  version: 1,
  schema: z.object({
    floatingIpId: z.string(),
    address: z.string(),
    portId: z.string(),
    reason: z.enum(DisassociationReason),
  }),
});

export const ExternalGatewayEnabled = defineEvent({
  type: 'nat.ExternalGatewayEnabled',
  version: 1,
  /** `externalNetworkId`: the floating-IP pool it is named after (Neutron's external network); left out when none was named (older events too). */
  schema: z.object({ routerId: z.string(), externalNetworkId: z.string().optional() }),
});

export const ExternalGatewayDisabled = defineEvent({
  type: 'nat.ExternalGatewayDisabled',
  version: 1,
  schema: z.object({ routerId: z.string() }),
});

export const natEvents = new EventRegistry([FloatingIpAssociated, FloatingIpDisassociated, ExternalGatewayEnabled, ExternalGatewayDisabled] as const);
export type NatEvent = ReturnType<typeof natEvents.decode>;

/** Aggregate of a floating IP's association. */
export const floatingIpAssociationAggregate = (floatingIpId: string) => ({ context: NAT_CONTEXT, type: 'floatingip', id: floatingIpId }) as const;
/** Aggregate of a router's external gateway. */
export const routerGatewayAggregate = (routerId: string) => ({ context: NAT_CONTEXT, type: 'router', id: routerId }) as const;
