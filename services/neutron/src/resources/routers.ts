/**
 * Neutron's `routers` (extensions router, extraroute, external-net): IPAM's
 * router (name, description, interfaces, extra routes, revision) plus NAT's
 * external gateway (Neutron's `external_gateway_info`).
 *
 * Strata's routers are distributed (every host routes between a tenant's
 * subnets with an anycast gateway) and their interfaces are subnets, not
 * ports: the router's address on a subnet is that subnet's gateway IP on
 * every host. The gateway has no address of its own either: outbound
 * traffic leaves with each hypervisor's H-IP (PNAT). So
 * `external_fixed_ips` is always empty, `enable_snat` always true, and an
 * interface added by `port_id` is refused saying why.
 */
import { ErrorCode, toStrataError, type StrataError } from '@strata/errors';
import type { RouterGatewayView, RouterView } from '@strata/contracts';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';
import { requireExternalNetwork } from './external-networks.js';
import { L3_EXTENSIONS } from './l3-extensions.js';
import { NeutronHttpError, invalidInput } from '../errors.js';
import { allPages, badRequest, neutronTime, optionalBoolean, optionalString, requestedProject, isStaleRevision, typed, withNeutronTypes } from './l3-common.js';

const rw = { post: true, put: true } as const;
const ro = { post: false, put: false } as const;

/** What a client asked of the external gateway: null = none (remove it). */
export type GatewayRequest = { networkId: string } | null;

/** Neutron's representation of a router: IPAM's router with NAT's gateway. */
export function toNeutronRouter(r: RouterView, gw: RouterGatewayView): Json {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    tenant_id: r.tenant,
    project_id: r.tenant,
    // A distributed router is on every host with a port in its subnets: nothing to wait for.
    status: 'ACTIVE',
    admin_state_up: true,
    external_gateway_info: gw.externalGateway ? { network_id: gw.externalNetworkId, enable_snat: true, external_fixed_ips: [] } : null,
    routes: r.routes.map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
    revision_number: r.revision,
    created_at: neutronTime(r.createdAt),
    // IPAM keeps no update time; the creation time stands for it until it does.
    updated_at: neutronTime(r.createdAt),
  };
}

/**
 * `external_gateway_info` as a client sent it: null or `{}` removes the
 * gateway; otherwise `network_id` names the external network, `enable_snat`
 * may only be true and `external_fixed_ips` only empty (Strata's gateway
 * has no address of its own). Anything else: 400 naming it.
 */
export function parseGatewayInfo(value: unknown): GatewayRequest {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidInput(`'${JSON.stringify(value)}' is not a dictionary or None for external_gateway_info`);
  }
  const info = value as Record<string, unknown>;
  const unknown = Object.keys(info).filter((k) => !['network_id', 'enable_snat', 'external_fixed_ips'].includes(k));
  if (unknown.length) throw invalidInput(`Validation of dictionary's keys failed. Expected keys: {'enable_snat', 'external_fixed_ips', 'network_id'} Provided keys: ${Object.keys(info).join(', ')}`);
  if (Object.keys(info).length === 0) return null;
  const networkId = optionalString(info, 'network_id');
  if (networkId === undefined) throw invalidInput("Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: " + Object.keys(info).join(', '));
  if (optionalBoolean(info, 'enable_snat') === false) {
    throw badRequest(
      'router',
      "enable_snat false is not supported: a Strata router's external gateway is outbound access by source NAT to each hypervisor's public address (H-IP); for untranslated addresses use a routed network",
    );
  }
  const fixed = info['external_fixed_ips'];
  if (fixed !== undefined && !(Array.isArray(fixed) && fixed.length === 0)) {
    throw badRequest(
      'router',
      "external_fixed_ips cannot be chosen: a Strata router's gateway has no address of its own; outbound traffic leaves with the public address (H-IP) of the hypervisor it starts on",
    );
  }
  return { networkId };
}

/** `admin_state_up`: Strata's routers cannot be taken down administratively (no such state in IPAM); false is refused. */
function checkAdminState(body: Json): void {
  if (optionalBoolean(body, 'admin_state_up') === false) {
    throw badRequest('router', "admin_state_up false is not supported: a Strata router is distributed to every host and has no administrative down state; remove its interfaces to stop it routing");
  }
}

const getRouter = (ctx: NeutronContext, id: string): Promise<RouterView> =>
  withNeutronTypes(ctx.clients.ipam.query('router.get', { id }, ctx.meta));

const getGateway = (ctx: NeutronContext, id: string): Promise<RouterGatewayView> =>
  withNeutronTypes(ctx.clients.nat.query('router.get', { id }, ctx.meta));

async function show(ctx: NeutronContext, id: string): Promise<Json> {
  const [router, gateway] = await Promise.all([getRouter(ctx, id), getGateway(ctx, id)]);
  return toNeutronRouter(router, gateway);
}

async function setGateway(ctx: NeutronContext, routerId: string, gw: GatewayRequest): Promise<void> {
  const cmd = gw === null ? { routerId, enabled: false } : { routerId, enabled: true, externalNetworkId: gw.networkId };
  await withNeutronTypes(ctx.clients.nat.command('router.setGateway', cmd, ctx.step('gateway')));
}

/** Neutron's types for IPAM's refusals of a router update: a bad route is `InvalidRoutes`. */
const updateTypes = (e: StrataError): NeutronHttpError | undefined => {
  const field = e.details['field'];
  if (e.code === ErrorCode.InvalidArgument && typeof field === 'string' && field.startsWith('routes')) return invalidRoutes(e.message);
  return undefined;
};

/** neutron's InvalidRoutes (400). */
const invalidRoutes = (reason: string): NeutronHttpError => new NeutronHttpError(400, 'InvalidRoutes', `Invalid format for routes: ${reason}`);

/** The body of add/remove_router_interface: one subnet_id (a port_id has its own answers below). */
function interfaceTarget(body: Json): { subnetId?: string; portId?: string } {
  const unknown = Object.keys(body).filter((k) => k !== 'subnet_id' && k !== 'port_id');
  if (unknown.length) throw badRequest('router', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const subnetId = optionalString(body, 'subnet_id');
  const portId = optionalString(body, 'port_id');
  if (subnetId === undefined && portId === undefined) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  if (subnetId !== undefined && portId !== undefined) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
  return { ...(subnetId !== undefined ? { subnetId } : {}), ...(portId !== undefined ? { portId } : {}) };
}

/**
 * What Neutron answers to add/remove_router_interface. `port_id` is null:
 * a Strata router interface is the subnet's gateway address on every host,
 * not a port (docs/architecture.md, "The Neutron API").
 */
export function interfaceInfo(router: Pick<RouterView, 'id' | 'tenant'>, subnetId: string, networkId: string): Json {
  return { id: router.id, tenant_id: router.tenant, project_id: router.tenant, port_id: null, subnet_id: subnetId, subnet_ids: [subnetId], network_id: networkId };
}

const interfaceNotFound = (routerId: string, subnetId: string): NeutronHttpError =>
  new NeutronHttpError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${routerId} has no interface on subnet ${subnetId}`);

const PORT_INTERFACE_REFUSED =
  "Strata's router interfaces are subnets, not ports: the router's address on a subnet is the subnet's gateway IP, on every host. Add the port's subnet instead (subnet_id)";

async function addInterface(ctx: NeutronContext, id: string, body: Json): Promise<Json> {
  const { subnetId } = interfaceTarget(body);
  if (subnetId === undefined) throw badRequest('router', PORT_INTERFACE_REFUSED);
  const before = await getRouter(ctx, id);
  // Neutron is not idempotent here (IPAM is): a subnet already on this router is its 400.
  if (before.interfaces.some((i) => i.subnetId === subnetId)) throw badRequest('router', `Router already has a port on subnet ${subnetId}`);
  const after = await withNeutronTypes(ctx.clients.ipam.command('router.addInterface', { id, subnetId }, ctx.meta), (e) => {
    // Joined to another router: Neutron's answer is the gateway address being taken (by that router's port).
    if (e.code === ErrorCode.AlreadyExists) return typed(409, 'IpAddressAlreadyAllocated', e);
    // A network already on another router, a subnet without gateway: Strata's conditions, a conflict with the current state.
    if (e.code === ErrorCode.FailedPrecondition) return typed(409, 'Conflict', e);
    if (e.code === ErrorCode.InvalidArgument) return typed(400, 'BadRequest', e);
    return undefined;
  });
  const joined = after.interfaces.find((i) => i.subnetId === subnetId);
  return interfaceInfo(after, subnetId, joined?.networkId ?? '');
}

async function removeInterface(ctx: NeutronContext, id: string, body: Json): Promise<Json> {
  const { subnetId, portId } = interfaceTarget(body);
  const before = await getRouter(ctx, id);
  if (subnetId === undefined) {
    // No port is ever a Strata router interface.
    throw new NeutronHttpError(404, 'RouterInterfaceNotFound', `Router ${id} does not have an interface with id ${portId}`);
  }
  const joined = before.interfaces.find((i) => i.subnetId === subnetId);
  if (!joined) throw interfaceNotFound(id, subnetId);
  await withNeutronTypes(ctx.clients.ipam.command('router.removeInterface', { id, subnetId }, ctx.meta), (e) => {
    if (e.code === ErrorCode.FailedPrecondition) return typed(409, 'RouterInterfaceInUseByRoute', e);
    if (e.code === ErrorCode.NotFound && e.details['kind'] !== 'router') return interfaceNotFound(id, subnetId);
    return undefined;
  });
  return interfaceInfo(before, subnetId, joined.networkId);
}

type Route = { destination: string; nexthop: string };
const routeKey = (r: Route): string => `${r.destination} ${r.nexthop}`;

/** The `routes` of an add/remove_extraroutes body (`{"router": {"routes": [...]}}`). */
export function extraroutesBody(body: Json): Route[] {
  const router = body['router'];
  if (typeof router !== 'object' || router === null || Array.isArray(router)) throw badRequest('router', "Failed to parse request. Required attribute 'router' not specified");
  const r = router as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => k !== 'routes');
  if (unknown.length) throw badRequest('router', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const routes = r['routes'];
  if (!Array.isArray(routes)) throw invalidRoutes(`${JSON.stringify(routes)}, must be a list`);
  return routes.map((x, i) => {
    const ok = typeof x === 'object' && x !== null && typeof (x as Route).destination === 'string' && typeof (x as Route).nexthop === 'string';
    if (!ok) throw invalidRoutes(`route ${i} needs a destination and a nexthop`);
    return { destination: (x as Route).destination, nexthop: (x as Route).nexthop };
  });
}

/** The router's routes with `routes` added (already there: kept once) or removed (absent: nothing), in order. */
export function changedRoutes(current: readonly Route[], routes: readonly Route[], op: 'add' | 'remove'): Route[] {
  const given = new Set(routes.map(routeKey));
  if (op === 'remove') return current.filter((r) => !given.has(routeKey(r)));
  const have = new Set(current.map(routeKey));
  return [...current, ...routes.filter((r) => !have.has(routeKey(r)) && (have.add(routeKey(r)), true))];
}

/**
 * extraroute-atomic: add or remove some routes without naming the others.
 * Read, change, write expecting the revision read: IPAM refuses the write
 * if another update came between, and it is done again on the new routes,
 * so no concurrent change is lost.
 */
async function editRoutes(ctx: NeutronContext, id: string, body: Json, op: 'add' | 'remove'): Promise<Json> {
  const routes = extraroutesBody(body);
  for (let attempt = 1; ; attempt++) {
    const router = await getRouter(ctx, id);
    const next = changedRoutes(router.routes, routes, op);
    try {
      // Each attempt is another command (other routes, other revision): its own request id.
      await withNeutronTypes(ctx.clients.ipam.command('router.update', { id, expectedRevision: router.revision, routes: next }, ctx.step(`routes-${attempt}`)), updateTypes);
      return { router: await show(ctx, id) };
    } catch (err) {
      const stale = !(err instanceof NeutronHttpError) && isStaleRevision(toStrataError(err));
      if (!stale || attempt >= 5) throw err;
    }
  }
}

export const routers: ResourceDefinition = {
  path: 'routers',
  collection: 'routers',
  member: 'router',
  notFound: 'RouterNotFound',
  notFoundMessage: (id) => `Router ${id} could not be found`,
  extensions: L3_EXTENSIONS,
  attributes: {
    id: ro,
    name: rw,
    description: rw,
    tenant_id: { post: true, put: false },
    project_id: { post: true, put: false },
    status: ro,
    admin_state_up: { ...rw, type: 'boolean' },
    external_gateway_info: { ...rw, type: 'object' },
    // extraroute: routes are set by an update, as in Neutron (a new router joins no subnet a nexthop could be in).
    routes: { post: false, put: true, type: 'kvp-list' },
    revision_number: { ...ro, type: 'integer' },
    created_at: ro,
    updated_at: ro,
  },

  async list(ctx) {
    const all = await allPages((after) => ctx.clients.ipam.query('router.list', { limit: 10_000, after }, ctx.meta));
    const gateways = await Promise.all(all.map((r) => getGateway(ctx, r.id)));
    return all.map((r, i) => toNeutronRouter(r, gateways[i]!));
  },

  show,

  async create(ctx, body) {
    checkAdminState(body);
    const gw = body['external_gateway_info'] === undefined ? null : parseGatewayInfo(body['external_gateway_info']);
    if (gw) await requireExternalNetwork(ctx, gw.networkId);
    const tenant = requestedProject(body);
    const router = await withNeutronTypes(
      ctx.clients.ipam.command(
        'router.create',
        { ...(tenant !== undefined ? { tenant } : {}), name: optionalString(body, 'name') ?? '', description: optionalString(body, 'description') ?? '' },
        ctx.meta,
      ),
    );
    if (gw) {
      try {
        await setGateway(ctx, router.id, gw);
      } catch (err) {
        // All or nothing: the router goes again when its gateway cannot be set.
        await ctx.clients.ipam.command('router.delete', { id: router.id }, ctx.step('undo-create')).catch(() => undefined);
        throw err;
      }
    }
    return show(ctx, router.id);
  },

  async update(ctx, id, body, expectedRevision) {
    checkAdminState(body);
    const gwGiven = body['external_gateway_info'] !== undefined;
    const gw = gwGiven ? parseGatewayInfo(body['external_gateway_info']) : null;
    const routes = body['routes'];
    if (routes !== undefined && routes !== null && !Array.isArray(routes)) throw invalidRoutes(`${JSON.stringify(routes)}, must be a list`);
    if (gw) await requireExternalNetwork(ctx, gw.networkId);
    // Always asked, even with only a gateway change: IPAM checks If-Match's revision and that the router is the caller's.
    await withNeutronTypes(
      ctx.clients.ipam.command(
        'router.update',
        {
          id,
          ...(expectedRevision !== undefined ? { expectedRevision } : {}),
          ...(body['name'] !== undefined ? { name: optionalString(body, 'name') } : {}),
          ...(body['description'] !== undefined ? { description: optionalString(body, 'description') } : {}),
          ...(routes !== undefined ? { routes: (routes ?? []) as { destination: string; nexthop: string }[] } : {}),
        },
        ctx.meta,
      ),
      updateTypes,
    );
    if (gwGiven) await setGateway(ctx, id, gw);
    return show(ctx, id);
  },

  async delete(ctx, id) {
    await withNeutronTypes(ctx.clients.ipam.command('router.delete', { id }, ctx.meta), (e) => (e.code === ErrorCode.FailedPrecondition ? typed(409, 'RouterInUse', e) : undefined));
  },

  actions: {
    add_router_interface: addInterface,
    remove_router_interface: removeInterface,
    add_extraroutes: (ctx, id, body) => editRoutes(ctx, id, body, 'add'),
    remove_extraroutes: (ctx, id, body) => editRoutes(ctx, id, body, 'remove'),
  },
};
