/** What the NAT service's queries return: plain values, the same shape the gRPC API exposes. */

/**
 * A floating IP's association: the public address (allocated by IPAM) and
 * the port and IPv4 fixed IP it is translated to (static 1:1 NAT on the
 * port's hypervisor). All association fields are null when not associated.
 */
export interface FloatingIpAssociationView {
  floatingIpId: string;
  tenant: string;
  address: string;
  portId: string | null;
  fixedIp: string | null;
  networkId: string | null;
  /** Where the translation is realised now: the associated port's hypervisor (null: unbound or not associated). */
  hostId: string | null;
  /** 1 at allocation, +1 for each association or disassociation (Neutron's revision_number; `expectedRevision` checks it). */
  revision: number;
}

/** A tenant router's external gateway: outbound access (PNAT to each hypervisor's H-IP) for the ports of its networks. */
export interface RouterGatewayView {
  routerId: string;
  tenant: string;
  externalGateway: boolean;
  /** The floating-IP pool (Neutron's external network) the enabled gateway is named after; null: disabled, or none named. */
  externalNetworkId: string | null;
}
