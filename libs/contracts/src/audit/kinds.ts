/**
 * The resource kinds an audit can name, and where each one's history lives:
 * the context (service) that owns it, the aggregate type whose events hold
 * it, and — for a resource kept inside a larger aggregate (a port in its
 * network's stream, a floating IP in the cloud's) — the field of an event's
 * data that names it. One table, read by the audit service (to find a
 * resource's aggregate from the events it has seen) and by each owning
 * service (to know which of its kinds it answers history for).
 */
import { z } from 'zod';

export interface AuditKindSpec {
  /** The owning service's event context, e.g. `ipam`. */
  readonly context: string;
  /** The aggregate type whose events hold the resource, e.g. `network`. */
  readonly aggregate: string;
  /**
   * For a resource inside a larger aggregate: the top-level field of an
   * event's data that names it (an event of that aggregate with this field
   * set to a string is one of that resource's events). Absent: the
   * resource is the aggregate itself (its id is the aggregate id).
   */
  readonly idField?: string;
  /**
   * Events of another aggregate that belong to the history of every
   * resource of this kind too: the events of aggregate
   * `alsoIn.aggregate`/`alsoIn.aggregateId` whose data field `alsoIn.field`
   * equals the resource's aggregate id (the request's `aggregateId`). IPAM creates
   * and deletes a network on its cloud aggregate (which allocates VNIs), and
   * a network's deletion also ends its subnets: without those two events a
   * network's history would have no beginning and its subnets no end.
   */
  readonly alsoIn?: { readonly aggregate: string; readonly aggregateId: string; readonly field: string };
  /** Whether a tenant may audit it (false: operator resources, admin only). */
  readonly tenantScoped: boolean;
}

/** IPAM's network lifecycle events (NetworkCreated, NetworkDeleted) on the cloud aggregate, naming the network by `networkId`. */
const networkLifecycle = { aggregate: 'cloud', aggregateId: 'default', field: 'networkId' } as const;

/*
 * idField is read on events of the kind's `aggregate` only: a router's
 * RouterInterfaceAdded names a `subnetId` and a network's PortBound a
 * `hostId`, neither of them events of that subnet's or hypervisor's
 * aggregate. On a network aggregate, AddressPairOwnerChanged's `portId` is
 * the new owner (it changes that port's `ownedAddresses`, and so is its
 * event); its `previousPortId` is a port of the same network, found by its
 * own events. A pool's `poolId` is also on FloatingIpAllocated and
 * ApplicationPrefixAllocated, which change the pool's `allocated`. A
 * gateway binding's events name its device by `deviceId` too: they are in
 * the device's history (what was bound on it, when), its view unchanged.
 */
export const AUDIT_KINDS = {
  network: { context: 'ipam', aggregate: 'network', alsoIn: networkLifecycle, tenantScoped: true },
  subnet: { context: 'ipam', aggregate: 'network', idField: 'subnetId', alsoIn: networkLifecycle, tenantScoped: true },
  port: { context: 'ipam', aggregate: 'network', idField: 'portId', alsoIn: networkLifecycle, tenantScoped: true },
  router: { context: 'ipam', aggregate: 'router', tenantScoped: true },
  'floating-ip': { context: 'ipam', aggregate: 'cloud', idField: 'floatingIpId', tenantScoped: true },
  pool: { context: 'ipam', aggregate: 'cloud', idField: 'poolId', tenantScoped: false },
  hypervisor: { context: 'ipam', aggregate: 'cloud', idField: 'hostId', tenantScoped: false },
  'gateway-device': { context: 'ipam', aggregate: 'cloud', idField: 'deviceId', tenantScoped: false },
  'gateway-binding': { context: 'ipam', aggregate: 'cloud', idField: 'bindingId', tenantScoped: true },
  'security-group': { context: 'secgroup', aggregate: 'group', tenantScoped: true },
  'port-security': { context: 'secgroup', aggregate: 'port', tenantScoped: true },
  'floating-ip-association': { context: 'nat', aggregate: 'floatingip', tenantScoped: true },
  'router-gateway': { context: 'nat', aggregate: 'router', tenantScoped: true },
  'bgp-peer': { context: 'bgp', aggregate: 'config', idField: 'peerId', tenantScoped: false },
  'bgp-peer-group': { context: 'bgp', aggregate: 'config', idField: 'groupId', tenantScoped: false },
  'sfc-function': { context: 'chaining', aggregate: 'function', tenantScoped: true },
  'sfc-group': { context: 'chaining', aggregate: 'group', tenantScoped: true },
  'sfc-classifier': { context: 'chaining', aggregate: 'classifier', tenantScoped: true },
  'sfc-chain': { context: 'chaining', aggregate: 'chain', tenantScoped: true },
  'hypervisor-liveness': { context: 'status', aggregate: 'hypervisor', tenantScoped: false },
} as const satisfies Record<string, AuditKindSpec>;

export type AuditKind = keyof typeof AUDIT_KINDS;
export const AUDIT_KIND_NAMES = Object.keys(AUDIT_KINDS) as AuditKind[];
export const AuditKind = z.enum(AUDIT_KIND_NAMES as [AuditKind, ...AuditKind[]], { message: `must be one of ${AUDIT_KIND_NAMES.join(', ')}` });

/** The kinds one context answers history for. */
export const auditKindsOf = (context: string): AuditKind[] => AUDIT_KIND_NAMES.filter((k) => AUDIT_KINDS[k].context === context);

/**
 * A resource id as it appears in the log: a NATS subject token (UUIDs for
 * resources clients create; system ids like `default-security-group:<tenant>`
 * or hypervisor names for the rest).
 */
export const AuditResourceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,199}$/, { message: 'must be a resource id (1-200 of A-Z a-z 0-9 _ : -, no dots or spaces)' });
