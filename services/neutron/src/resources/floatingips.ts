/**
 * Neutron's `floatingips` (extension router): IPAM's allocation from a
 * floating-IP pool (the external network) plus NAT's association with a
 * port (static 1:1 NAT on the port's hypervisor).
 *
 * Strata translates a floating IP on the VM's own hypervisor whether or not
 * the port's network is joined to a router (an unrouted network is its own
 * routing domain there), so Neutron's "no router with a gateway on that
 * external network" refusal (ExternalGatewayForFloatingIPNotFound) never
 * applies: the association works without one. `router_id` shows the router
 * the port's network is joined to, if any.
 */
import { ErrorCode, RevisionConflictError, toStrataError } from '@strata/errors';
import type { FloatingIpAssociationView, FloatingIpView, PortStatusValue, RouterView } from '@strata/contracts';
import type { Json, NeutronContext, ResourceDefinition } from '../resource.js';
import { requireExternalNetwork } from './external-networks.js';
import { NeutronHttpError } from '../errors.js';
import { allPages, badRequest, isStaleRevision, neutronTime, optionalString, requestedProject, typed, withNeutronTypes } from './l3-common.js';
import { L3_EXTENSIONS } from './l3-extensions.js';

const ro = { post: false, put: false } as const;

/**
 * Neutron's floating IP status: ACTIVE when associated and the port's
 * hypervisor has applied its latest state (the translation is part of the
 * port's host state, so the port's realisation is the floating IP's), ERROR
 * when the port is in error, DOWN otherwise (not associated, not bound, not
 * applied yet).
 */
export function floatingIpStatus(associated: boolean, portStatus: PortStatusValue | undefined): 'ACTIVE' | 'DOWN' | 'ERROR' {
  if (!associated) return 'DOWN';
  if (portStatus === 'ACTIVE') return 'ACTIVE';
  return portStatus === 'ERROR' ? 'ERROR' : 'DOWN';
}

/** Neutron's representation: IPAM's address, NAT's association, the router of the port's network. */
export function toNeutronFloatingIp(f: FloatingIpView, a: FloatingIpAssociationView | undefined, routerId: string | null, portStatus: PortStatusValue | undefined): Json {
  const portId = a?.portId ?? null;
  return {
    id: f.id,
    tenant_id: f.tenant,
    project_id: f.tenant,
    floating_ip_address: f.address,
    floating_network_id: f.poolId,
    router_id: portId === null ? null : routerId,
    port_id: portId,
    fixed_ip_address: a?.fixedIp ?? null,
    status: floatingIpStatus(portId !== null, portStatus),
    description: f.description,
    // Before NAT has seen the allocation (it has, read-your-writes aside) the floating IP is at its first revision.
    revision_number: a?.revision ?? 1,
    created_at: neutronTime(f.createdAt),
    // Neither service keeps an update time; the creation time stands for it.
    updated_at: neutronTime(f.createdAt),
  };
}

/** The router each network is joined to (a network joins at most one). */
export function routerByNetwork(routers: readonly RouterView[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of routers) for (const i of r.interfaces) m.set(i.networkId, r.id);
  return m;
}

const listRouters = (ctx: NeutronContext): Promise<RouterView[]> =>
  allPages((after) => ctx.clients.ipam.query('router.list', { limit: 10_000, after }, ctx.meta));

/**
 * The status of each port (status service); a port it cannot tell about (or
 * the service not answering) counts as not realised: DOWN, never a failed read.
 */
async function portStatuses(ctx: NeutronContext, portIds: readonly string[]): Promise<Map<string, PortStatusValue>> {
  const out = new Map<string, PortStatusValue>();
  const ids = [...new Set(portIds)];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const reply = await ctx.clients.status.query('port.status', { ids: chunk }, ctx.meta).catch(() => ({ items: [] }));
    for (const s of reply.items) out.set(s.portId, s.status);
  }
  return out;
}

async function represent(ctx: NeutronContext, fips: readonly FloatingIpView[], assocs: readonly FloatingIpAssociationView[]): Promise<Json[]> {
  const byId = new Map(assocs.map((a) => [a.floatingIpId, a]));
  // Only a bound port can be realised (the status service is asked about those alone; an unbound one is DOWN).
  const ports = assocs.flatMap((a) => (a.portId === null || a.hostId === null ? [] : [a.portId]));
  const associated = assocs.some((a) => a.portId !== null);
  const [routers, statuses] = await Promise.all([
    associated ? listRouters(ctx).then(routerByNetwork) : new Map<string, string>(),
    ports.length > 0 ? portStatuses(ctx, ports) : new Map<string, PortStatusValue>(),
  ]);
  return fips.map((f) => {
    const a = byId.get(f.id);
    return toNeutronFloatingIp(f, a, a?.networkId ? (routers.get(a.networkId) ?? null) : null, a?.portId ? statuses.get(a.portId) : undefined);
  });
}

async function show(ctx: NeutronContext, id: string): Promise<Json> {
  const f = await withNeutronTypes(ctx.clients.ipam.query('floatingip.get', { id }, ctx.meta));
  const a = await withNeutronTypes(ctx.clients.nat.query('floatingip.get', { id }, ctx.meta));
  return (await represent(ctx, [f], [a]))[0]!;
}

/**
 * Neutron's answers to NAT's refusals of an association: a fixed IP that
 * already has a floating IP (or a floating IP associated elsewhere) is 409
 * FloatingIPPortAlreadyAssociated; a port without an IPv4 address is 400
 * (Neutron's BadRequest, NAT's FAILED_PRECONDITION); a stale revision
 * passes on for the core's 412.
 */
export function associationError(err: unknown): unknown {
  if (err instanceof NeutronHttpError) return err;
  const e = toStrataError(err);
  if (isStaleRevision(e)) return err;
  if (e.code === ErrorCode.FailedPrecondition) {
    const taken = e.details['floatingIpId'] !== undefined || e.details['portId'] !== undefined;
    return taken ? typed(409, 'FloatingIPPortAlreadyAssociated', e) : typed(400, 'BadRequest', e);
  }
  if (e.code === ErrorCode.InvalidArgument) return typed(400, 'BadRequest', e);
  return err;
}

/** `step` names the command within its request (its request id derives from it: `ctx.step`). */
async function associate(ctx: NeutronContext, step: string, floatingIpId: string, portId: string, fixedIp: string | undefined, expectedRevision: number | undefined): Promise<void> {
  const cmd = { floatingIpId, portId, ...(fixedIp !== undefined ? { fixedIp } : {}), ...(expectedRevision !== undefined ? { expectedRevision } : {}) };
  await withNeutronTypes(ctx.clients.nat.command('floatingip.associate', cmd, ctx.step(step))).catch((err: unknown) => {
    throw associationError(err);
  });
}

async function disassociate(ctx: NeutronContext, floatingIpId: string, expectedRevision: number | undefined): Promise<void> {
  await withNeutronTypes(ctx.clients.nat.command('floatingip.disassociate', { floatingIpId, ...(expectedRevision !== undefined ? { expectedRevision } : {}) }, ctx.step('disassociate')));
}

/** `port_id` of a body: absent → undefined, null → null, else a string. */
function portIdOf(body: Json): string | null | undefined {
  return body['port_id'] === null ? null : optionalString(body, 'port_id');
}

/** IPAM's refusals of an allocation, as Neutron types them. */
function allocationError(err: unknown): unknown {
  if (err instanceof NeutronHttpError) return err;
  const e = toStrataError(err);
  if (e.code === ErrorCode.ResourceExhausted) return typed(400, 'ExternalIpAddressExhausted', e);
  if (e.code === ErrorCode.AlreadyExists) return typed(409, 'IpAddressAlreadyAllocated', e);
  return err;
}

export const floatingips: ResourceDefinition = {
  path: 'floatingips',
  collection: 'floatingips',
  member: 'floatingip',
  notFound: 'FloatingIPNotFound',
  notFoundMessage: (id) => `Floating IP ${id} could not be found`,
  extensions: L3_EXTENSIONS,
  attributes: {
    id: ro,
    tenant_id: { post: true, put: false },
    project_id: { post: true, put: false },
    floating_ip_address: { post: true, put: false },
    floating_network_id: { post: true, put: false, required: true },
    router_id: ro,
    port_id: { post: true, put: true },
    fixed_ip_address: { post: true, put: true },
    status: ro,
    description: { post: true, put: true },
    revision_number: { ...ro, type: 'integer' },
    created_at: ro,
    updated_at: ro,
  },

  async list(ctx, filters) {
    const portFilter = filters.get('port_id');
    const portId = portFilter?.length === 1 && portFilter[0] ? portFilter[0] : undefined;
    const [fips, assocs] = await Promise.all([
      allPages((after) => ctx.clients.ipam.query('floatingip.list', { limit: 10_000, after }, ctx.meta)),
      allPages((after) => ctx.clients.nat.query('floatingip.list', { limit: 10_000, after }, ctx.meta)),
    ]);
    // `port_id=…` (the CLI's `floating ip list --port`): only those (the core filters again anyway).
    const wanted = portId === undefined ? fips : fips.filter((f) => assocs.some((a) => a.floatingIpId === f.id && a.portId === portId));
    return represent(ctx, wanted, assocs);
  },

  show,

  async create(ctx, body) {
    // Required by the attribute map (the core refuses a body without it).
    const networkId = optionalString(body, 'floating_network_id')!;
    const portId = portIdOf(body);
    const fixedIp = body['fixed_ip_address'] === null ? undefined : optionalString(body, 'fixed_ip_address');
    if (fixedIp !== undefined && !portId) throw badRequest('floatingip', 'fixed_ip_address needs a port_id: it names which address of that port the floating IP translates to');
    const address = body['floating_ip_address'] === null ? undefined : optionalString(body, 'floating_ip_address');
    const tenant = requestedProject(body);
    await requireExternalNetwork(ctx, networkId);
    // An unknown (or invisible) port is refused before anything is allocated (NAT checks it again when associating).
    if (portId) await withNeutronTypes(ctx.clients.ipam.query('port.get', { id: portId }, ctx.meta));
    const fip = await withNeutronTypes(
      ctx.clients.ipam.command(
        'floatingip.create',
        { ...(tenant !== undefined ? { tenant } : {}), poolId: networkId, ...(address !== undefined ? { address } : {}), description: optionalString(body, 'description') ?? '' },
        ctx.meta,
      ),
    ).catch((err: unknown) => {
      throw allocationError(err);
    });
    if (portId) {
      try {
        await associate(ctx, 'associate', fip.id, portId, fixedIp, undefined);
      } catch (err) {
        // All or nothing: the address goes back to the pool when it cannot be associated.
        await ctx.clients.ipam.command('floatingip.delete', { id: fip.id }, ctx.step('undo-create')).catch(() => undefined);
        throw err;
      }
    }
    return show(ctx, fip.id);
  },

  async update(ctx, id, body, expectedRevision) {
    const f = await withNeutronTypes(ctx.clients.ipam.query('floatingip.get', { id }, ctx.meta));
    const current = await withNeutronTypes(ctx.clients.nat.query('floatingip.get', { id }, ctx.meta));
    const description = optionalString(body, 'description');
    if (description !== undefined && description !== f.description) {
      throw badRequest('floatingip', "a Strata floating IP's description is given when it is created and does not change; create another floating IP");
    }
    const requestedPort = portIdOf(body);
    const fixedIp = body['fixed_ip_address'] === null ? undefined : optionalString(body, 'fixed_ip_address');
    const target = requestedPort !== undefined ? requestedPort : current.portId;
    if (fixedIp !== undefined && target === null) throw badRequest('floatingip', 'fixed_ip_address needs a port_id: the floating IP is not associated with a port');

    if (requestedPort === undefined && fixedIp === undefined) {
      // Nothing to change: If-Match is still answered (nothing is written either way).
      if (expectedRevision !== undefined && expectedRevision !== current.revision) throw new RevisionConflictError('floating IP', id, expectedRevision, current.revision);
    } else if (target === null) {
      await disassociate(ctx, id, expectedRevision);
    } else if (current.portId === null || (current.portId === target && (fixedIp === undefined || fixedIp === current.fixedIp))) {
      await associate(ctx, 'associate', id, target, fixedIp ?? current.fixedIp ?? undefined, expectedRevision);
    } else {
      // Neutron moves an associated floating IP in one update; NAT says "disassociate first": both, in order,
      // the second expecting the revision the first made; if the new association is refused, the old one is put back.
      const previous = { portId: current.portId, fixedIp: current.fixedIp ?? undefined };
      const revision = expectedRevision ?? current.revision;
      await disassociate(ctx, id, revision);
      try {
        await associate(ctx, 'associate', id, target, fixedIp, revision + 1);
      } catch (err) {
        await associate(ctx, 'undo-move', id, previous.portId, previous.fixedIp, revision + 1).catch(() => undefined);
        throw err;
      }
    }
    return show(ctx, id);
  },

  async delete(ctx, id) {
    // NAT's reactor ends the association when IPAM releases the address.
    await withNeutronTypes(ctx.clients.ipam.command('floatingip.delete', { id }, ctx.meta));
  },
};
