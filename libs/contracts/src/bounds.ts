/**
 * The size bounds of every text and list a client may send, defined once.
 * The gRPC API enforces them on every request field before anything else
 * runs (services/api: the strict request decoder), and the services' own
 * schemas use the same constants where they check the same fields. A
 * request over a bound is refused with INVALID_ARGUMENT naming the field
 * and the bound; it never reaches NATS.
 *
 * Lengths are in characters (UTF-16 code units, as `string.length` and
 * zod's `.max` count them).
 */

/** Resource ids: UUIDs (36) and operator-chosen names of hosts (63). */
export const MAX_ID_LENGTH = 64;
/** Tenant names, hypervisor ids, BGP peer names, secret references: DNS-label-like. */
export const MAX_LABEL_LENGTH = 63;
/** Free-text display names and descriptions. */
export const MAX_NAME_LENGTH = 255;
/** A compute service's device id (opaque to Strata). */
export const MAX_DEVICE_ID_LENGTH = 255;
/** What uses a port (Neutron's `device_owner`, its column is 255 characters). */
export const MAX_DEVICE_OWNER_LENGTH = 255;
/** IP addresses (the longest IPv6 text is 45), CIDR prefixes, MAC addresses. */
export const MAX_ADDRESS_LENGTH = 64;
/** An RFC 3339 timestamp. */
export const MAX_TIMESTAMP_LENGTH = 64;
/** A page token (`after`): the last item's key of the previous page. */
export const MAX_PAGE_TOKEN_LENGTH = 256;
/** An event type name, e.g. `ipam.PortCreated`. */
export const MAX_EVENT_TYPE_LENGTH = 128;

/** Most security groups one port may be in (each costs a set lookup per packet on the host). */
export const MAX_GROUPS_PER_PORT = 16;
/** Most allocation pools in one subnet request. */
export const MAX_ALLOCATION_POOLS = 64;
/** Most fixed IPs asked for one port. */
export const MAX_FIXED_IPS_PER_PORT = 16;
/** Most allowed address pairs on one port (Neutron's default `max_allowed_address_pair`). */
export const MAX_ALLOWED_ADDRESS_PAIRS = 10;
/** Most DNS servers of one subnet (Neutron's default `max_dns_nameservers`). */
export const MAX_DNS_NAMESERVERS = 5;
/** Most host routes of one subnet (Neutron's default `max_subnet_host_routes`). */
export const MAX_HOST_ROUTES = 20;
/** Most extra routes of one router (Neutron's default `max_routes`). */
export const MAX_ROUTER_ROUTES = 30;
/** Most event types in one ListEvents/Watch filter. */
export const MAX_EVENT_TYPE_FILTERS = 64;
/** Service chaining: most functions in one group, hops and classifiers in one chain (each is a rule or mark per host). */
export const MAX_GROUP_FUNCTIONS = 16;
export const MAX_CHAIN_HOPS = 8;
export const MAX_CHAIN_CLASSIFIERS = 16;
/** Ports per status request (a list view's page of statuses). */
export const MAX_STATUS_PORTS = 1000;
/** Ports one secgroup `port.list` query names (a page of a port list: the Neutron API's ports with their groups). */
export const MAX_SECURITY_PORTS = 1000;
/** Physical ports of one gateway device (a 64-port switch with breakouts fits). */
export const MAX_GATEWAY_PORTS = 256;

/**
 * The bound of every text field of every gRPC request message, by the
 * field's (camelCase) name. A request field that is not listed here is
 * refused by the API's decoder setup (fail closed), so a new field cannot
 * ship without a bound.
 */
export const requestTextBounds: Readonly<Record<string, number>> = {
  // resource ids
  id: MAX_ID_LENGTH,
  networkId: MAX_ID_LENGTH,
  subnetId: MAX_ID_LENGTH,
  portId: MAX_ID_LENGTH,
  poolId: MAX_ID_LENGTH,
  hostPoolId: MAX_ID_LENGTH,
  groupId: MAX_ID_LENGTH,
  ruleId: MAX_ID_LENGTH,
  remoteGroupId: MAX_ID_LENGTH,
  groupIds: MAX_ID_LENGTH,
  floatingIpId: MAX_ID_LENGTH,
  prefixId: MAX_ID_LENGTH,
  aggregateId: MAX_ID_LENGTH,
  // a peering segment (its attachments are named by `id`)
  segmentId: MAX_ID_LENGTH,
  // service chaining (groupIds above: a chain's hops)
  ingressPortId: MAX_ID_LENGTH,
  egressPortId: MAX_ID_LENGTH,
  functionIds: MAX_ID_LENGTH,
  classifierIds: MAX_ID_LENGTH,
  // routerId is a router's id (NatService) or a BGP identifier (an IPv4 address): both fit
  routerId: MAX_ID_LENGTH,
  hostId: MAX_LABEL_LENGTH,
  tenant: MAX_LABEL_LENGTH,
  passwordRef: MAX_LABEL_LENGTH,
  deviceId: MAX_DEVICE_ID_LENGTH,
  deviceOwner: MAX_DEVICE_OWNER_LENGTH,
  // a subnet's IPv6 modes (one of Neutron's names; the API refuses others)
  ipv6RaMode: MAX_LABEL_LENGTH,
  ipv6AddressMode: MAX_LABEL_LENGTH,
  // free text
  name: MAX_NAME_LENGTH,
  description: MAX_NAME_LENGTH,
  // addresses and prefixes
  cidr: MAX_ADDRESS_LENGTH,
  remoteCidr: MAX_ADDRESS_LENGTH,
  listenRange: MAX_ADDRESS_LENGTH,
  prefix: MAX_ADDRESS_LENGTH,
  gatewayIp: MAX_ADDRESS_LENGTH,
  start: MAX_ADDRESS_LENGTH,
  end: MAX_ADDRESS_LENGTH,
  ip: MAX_ADDRESS_LENGTH,
  fixedIp: MAX_ADDRESS_LENGTH,
  virtualIp: MAX_ADDRESS_LENGTH,
  vtepIp: MAX_ADDRESS_LENGTH,
  publicIp: MAX_ADDRESS_LENGTH,
  address: MAX_ADDRESS_LENGTH,
  mac: MAX_ADDRESS_LENGTH,
  ipAddress: MAX_ADDRESS_LENGTH,
  macAddress: MAX_ADDRESS_LENGTH,
  dnsNameservers: MAX_ADDRESS_LENGTH,
  destination: MAX_ADDRESS_LENGTH,
  nexthop: MAX_ADDRESS_LENGTH,
  vtepPrefixes: MAX_ADDRESS_LENGTH,
  // gateway devices and bindings: a physical port's name, an OVSDB target
  port: MAX_LABEL_LENGTH,
  target: MAX_LABEL_LENGTH,
  // paging and event filters
  after: MAX_PAGE_TOKEN_LENGTH,
  since: MAX_TIMESTAMP_LENGTH,
  until: MAX_TIMESTAMP_LENGTH,
  types: MAX_EVENT_TYPE_LENGTH,
  // realisation status: a resource kind (port, network, router, security-group, chain)
  kind: MAX_LABEL_LENGTH,
  // audit: a point in the log given as a time (RFC 3339); `kind` above is also the audited resource's kind
  time: MAX_TIMESTAMP_LENGTH,
};

/** Most remote zones, route reflectors, and VTEP prefixes or VNI ranges per zone, of a federation configuration. */
export const MAX_FEDERATION_ZONES = 32;
export const MAX_ROUTE_REFLECTORS = 4;
export const MAX_ZONE_PREFIXES = 16;

/** The most entries of every repeated field of every gRPC request message, by name (fail closed like the texts). */
export const requestListBounds: Readonly<Record<string, number>> = {
  groupIds: MAX_GROUPS_PER_PORT,
  functionIds: MAX_GROUP_FUNCTIONS,
  classifierIds: MAX_CHAIN_CLASSIFIERS,
  allocationPools: MAX_ALLOCATION_POOLS,
  fixedIps: MAX_FIXED_IPS_PER_PORT,
  allowedAddressPairs: MAX_ALLOWED_ADDRESS_PAIRS,
  dnsNameservers: MAX_DNS_NAMESERVERS,
  hostRoutes: MAX_HOST_ROUTES,
  routes: MAX_ROUTER_ROUTES,
  types: MAX_EVENT_TYPE_FILTERS,
  ports: MAX_GATEWAY_PORTS,
  // a federation of zones
  routeReflectors: MAX_ROUTE_REFLECTORS,
  zones: MAX_FEDERATION_ZONES,
  vtepPrefixes: MAX_ZONE_PREFIXES,
  vniRanges: MAX_ZONE_PREFIXES,
};
