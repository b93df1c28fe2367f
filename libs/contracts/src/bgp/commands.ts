/**
 * The BGP gateway's request schemas, one per operation; contract.ts ties
 * each to its operation, subject (`strata.cmd|qry.bgp.<op>`) and reply.
 * Every operation is for admins: the gateway's configuration is the
 * fabric's, not a tenant's (assigning a tenant's application prefix is too).
 */
import { z } from 'zod';
import { MAX_DEVICE_ID_LENGTH, MAX_FEDERATION_ZONES, MAX_LABEL_LENGTH, MAX_ROUTE_REFLECTORS, MAX_ZONE_PREFIXES } from '../bounds.js';
import { Cidr, Id, IpAddress, ListOptions } from '../common.js';
import { ExpectedRevision, immutable } from '../updates.js';

/** Most prefixes a peer group may let one appliance announce. */
export const MAX_APPLIANCE_PREFIXES = 1000;

const Asn = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: 'must be an AS number from 1 to 4294967295' })
  .max(4294967295, { message: 'must be an AS number from 1 to 4294967295' });

const Ipv4 = IpAddress.refine((a) => !a.includes(':'), { message: 'must be an IPv4 address' });

/** A name of a TCP-MD5 secret in the gateway's configuration (BGP_PASSWORD_<REF> / BGP_SECRETS_DIR/<ref>): never the secret. */
export const PasswordRef = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/, { message: 'must be 1-63 of a-z 0-9 _ - naming a secret of the gateway, not the password itself' });

const ShortName = z.string().min(1, { message: 'must not be empty' }).max(MAX_LABEL_LENGTH, { message: `must be at most ${MAX_LABEL_LENGTH} characters` });

const MaxPrefixes = z
  .number()
  .int({ message: 'must be a whole number' })
  .min(1, { message: `must be 1-${MAX_APPLIANCE_PREFIXES}` })
  .max(MAX_APPLIANCE_PREFIXES, { message: `must be 1-${MAX_APPLIANCE_PREFIXES}` });

export const SetBgpSettings = z.object({
  localAs: Asn,
  /** IPv4 router id (BGP identifier). */
  routerId: Ipv4,
  listenPort: z.number().int().min(1, { message: 'must be a port from 1 to 65535' }).max(65535, { message: 'must be a port from 1 to 65535' }).default(179),
});

export const CreateBgpPeer = z.object({
  name: ShortName,
  address: IpAddress,
  remoteAs: Asn,
  passwordRef: PasswordRef.optional(),
});

export const CreateBgpPeerGroup = z.object({
  name: ShortName,
  /** Appliance addresses: ports of routed networks with an address inside are neighbours. */
  listenRange: Cidr,
  remoteAs: Asn,
  passwordRef: PasswordRef.optional(),
  maxPrefixes: MaxPrefixes.default(16),
  sendDefault: z.boolean().default(false),
});

/*
 * Updates: absent = unchanged; `passwordRef: null` drops the TCP-MD5 secret.
 * What a session is with (a peer's address, a group's listen range) is
 * fixed: refused by name (delete and create instead). A change reaches
 * gobgpd on the gateway's next pass: a new AS, secret or limit re-creates
 * the session, a new sendDefault changes the export policy.
 */
const Updating = { id: Id, expectedRevision: ExpectedRevision.optional(), name: ShortName.optional(), remoteAs: Asn.optional(), passwordRef: PasswordRef.nullable().optional() };

export const UpdateBgpPeer = z.object({
  ...Updating,
  address: immutable("a BGP peer's address is fixed at creation: create a peer for the new address and delete this one"),
});

export const UpdateBgpPeerGroup = z.object({
  ...Updating,
  maxPrefixes: MaxPrefixes.optional(),
  sendDefault: z.boolean().optional(),
  listenRange: immutable("a peer group's listen range is fixed at creation: create a group for the new range and delete this one"),
});

export const BgpRef = z.object({ id: Id });

export const AssignAppliancePrefix = z.object({
  /** An IPAM application prefix. */
  prefixId: Id,
  /** The appliance: the IPAM device id of its ports (kept when it moves to another port, host or subnet). */
  deviceId: z.string().min(1, { message: 'must not be empty' }).max(MAX_DEVICE_ID_LENGTH, { message: `must be at most ${MAX_DEVICE_ID_LENGTH} characters` }),
});

export const UnassignAppliancePrefix = z.object({ prefixId: Id });

/** Most EVPN routes one remote zone may have accepted (its `maxRoutes`). */
export const MAX_ZONE_ROUTES = 1_000_000;

/** A zone's name: what its origin community and its records (`zone-<name>`) are known by. */
const ZoneName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, { message: 'must be 1-32 of a-z 0-9 - (not at either end)' });
/** A zone's number: the value of its origin community `<federationAs>:<id>`. */
const ZoneNumber = z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be 1-65535' }).max(65535, { message: 'must be 1-65535' });
const Vni = z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be a VNI from 1 to 16777215' }).max(16777215, { message: 'must be a VNI from 1 to 16777215' });

export const VniRange = z.object({ min: Vni, max: Vni }).refine((r) => r.min <= r.max, { message: 'min must not be above max' });

export const RouteReflector = z.object({
  address: Ipv4,
  passwordRef: PasswordRef.optional(),
});

export const RemoteZone = z.object({
  name: ZoneName,
  id: ZoneNumber,
  /** The underlay prefixes that zone's VTEPs (hypervisors) live in: a route's next hop says which zone sent it. */
  vtepPrefixes: z.array(Cidr).min(1, { message: 'must name at least one prefix' }).max(MAX_ZONE_PREFIXES, { message: `must have at most ${MAX_ZONE_PREFIXES} prefixes` }),
  /** The VNIs that zone's IPAM allocates: the segments it may announce besides this zone's own. */
  vniRanges: z.array(VniRange).min(1, { message: 'must name at least one range' }).max(MAX_ZONE_PREFIXES, { message: `must have at most ${MAX_ZONE_PREFIXES} ranges` }),
  /** Most routes accepted from that zone; the rest are refused (`max-routes`). */
  maxRoutes: z.number().int({ message: 'must be a whole number' }).min(1, { message: `must be 1-${MAX_ZONE_ROUTES}` }).max(MAX_ZONE_ROUTES, { message: `must be 1-${MAX_ZONE_ROUTES}` }),
});

/**
 * The whole federation configuration at once (docs/architecture.md,
 * "Availability zones"): this zone's name and number, the federation's AS
 * (the IBGP AS of the route reflectors and of every zone's session to them;
 * route targets are `<federationAs>:<VNI>`, so it must fit two octets), the
 * route reflectors and the known remote zones. `federation.clear` leaves the
 * federation.
 */
export const SetFederation = z.object({
  localZone: z.object({ name: ZoneName, id: ZoneNumber }),
  federationAs: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be a two-octet AS number from 1 to 65535' }).max(65535, { message: 'must be a two-octet AS number from 1 to 65535' }),
  routeReflectors: z.array(RouteReflector).max(MAX_ROUTE_REFLECTORS, { message: `must have at most ${MAX_ROUTE_REFLECTORS} route reflectors` }),
  zones: z.array(RemoteZone).max(MAX_FEDERATION_ZONES, { message: `must have at most ${MAX_FEDERATION_ZONES} zones` }),
});

export const ListBgp = ListOptions.extend({});
export const BgpEmpty = z.object({});
