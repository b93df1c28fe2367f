/**
 * StatusService: realisation of resources, the write barrier and the
 * hypervisors' agents, answered by the status service (statusContract).
 * WatchStatus is in ../status-watch.ts.
 */
import { RealisedKind, type BarrierView, type HostBehind as HostBehindView, type HypervisorStatusView, type PortStatusView, type RealisationView } from '@strata/contracts';
import { NotFoundError, PermissionDeniedError, ValidationError } from '@strata/errors';
import type { RequestMeta } from '@strata/runtime';
import type { HostBehind, HypervisorStatus, Realisation, StatusServiceHandlers } from '@strata/proto';
import { toSafeInteger } from '@strata/proto';
import type { Principal } from '../auth.js';
import type { StatusWatch } from '../status-watch.js';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toHostBehind(h: HostBehindView): HostBehind {
  return { hostId: h.hostId, position: h.position, appliedPosition: h.appliedPosition ?? undefined, reason: h.reason };
}

export function toRealisation(v: RealisationView, port?: PortStatusView): Realisation {
  return {
    kind: v.kind,
    id: v.id,
    hosts: v.hosts,
    applied: v.applied,
    behind: v.behind.map(toHostBehind),
    realised: v.realised,
    position: v.seq,
    portStatus: port?.status ?? '',
    portStatusReason: port?.reason ?? '',
    hostId: port?.hostId ?? undefined,
  };
}

export function toHypervisorStatus(v: HypervisorStatusView): HypervisorStatus {
  return {
    hostId: v.hostId,
    registered: v.registered,
    alive: v.alive,
    lastSeenAt: v.lastSeenAt ?? undefined,
    bootId: v.bootId ?? undefined,
    version: v.version ?? undefined,
    appliedPosition: v.appliedPosition ?? undefined,
    viewPosition: v.viewPosition ?? undefined,
    error: v.error ?? undefined,
    since: v.since ?? undefined,
  };
}

function toBarrier(v: BarrierView) {
  return { position: v.position, realised: v.realised, behind: v.behind.map(toHostBehind), hosts: v.hosts };
}

function adminOnly(principal: Principal, what: string): void {
  if (!principal.admin) throw new PermissionDeniedError(`${what} is admin-only: it covers every tenant's hosts`);
}

function kindOf(kind: string): RealisedKind {
  if (!(RealisedKind as readonly string[]).includes(kind)) {
    throw new ValidationError(`kind: must be one of ${RealisedKind.join(', ')}, got ${JSON.stringify(kind)}`, { field: 'kind' });
  }
  return kind as RealisedKind;
}

export function statusHandlers(deps: RpcDeps, watch: StatusWatch): StatusServiceHandlers {
  const { status, ipam, secgroup, chaining } = deps;
  /**
   * The resource's owner answers it for the caller first (NotFound for an
   * unknown id or another tenant's): what a tenant may see is the owner's
   * decision; the status service's own scoping is a second check, not the
   * only one.
   */
  const ownerCheck: Record<RealisedKind, (id: string, meta: RequestMeta) => Promise<unknown>> = {
    port: (id, meta) => ipam.query('port.get', { id }, meta),
    network: (id, meta) => ipam.query('network.get', { id }, meta),
    router: (id, meta) => ipam.query('router.get', { id }, meta),
    'security-group': (id, meta) => secgroup.query('group.get', { id }, meta),
    chain: (id, meta) => chaining.query('chain.get', { id }, meta),
  };
  return {
    GetRealisation: unary(deps, 'GetRealisation', async (req, { meta }) => {
      const kind = kindOf(req.kind);
      // A position the client wrote at (perhaps through another api instance): the answer is at least that recent.
      const at = req.minPosition === undefined ? meta : { ...meta, minSeq: toSafeInteger(req.minPosition, 'minPosition') };
      await ownerCheck[kind](req.id, at);
      if (kind === 'port') {
        const { items } = await status.query('port.status', { ids: [req.id] }, at);
        const port = items.find((p) => p.portId === req.id);
        if (port === undefined) throw new NotFoundError('port status', req.id);
        return toRealisation(port.realisation, port);
      }
      return toRealisation(await status.query('resource.realisation', { kind, id: req.id }, at));
    }),
    Barrier: unary(deps, 'Barrier', async (req, { principal, meta }) => {
      adminOnly(principal, 'Barrier');
      return toBarrier(await status.query('barrier', { position: toSafeInteger(req.position, 'position') }, meta));
    }),
    GetHypervisorStatus: unary(deps, 'GetHypervisorStatus', async (req, { principal, meta }) => {
      adminOnly(principal, 'GetHypervisorStatus');
      return toHypervisorStatus(await status.query('hypervisor.get', { id: req.id }, meta));
    }),
    ListHypervisorStatus: unary(deps, 'ListHypervisorStatus', async (req, { principal, meta }) => {
      adminOnly(principal, 'ListHypervisorStatus');
      const page = await status.query('hypervisor.list', paging(req), meta);
      return { items: page.items.map(toHypervisorStatus), next: page.next };
    }),
    WatchStatus: (call) => void watch.watch(call),
  };
}
