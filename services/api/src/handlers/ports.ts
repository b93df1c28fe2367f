import type { PortView } from '@strata/contracts';
import { portStatuses, type PortStatusFields, type RequestMeta } from '@strata/runtime';
import { ValidationError } from '@strata/errors';
import type { CreatePortRequest__Output, Port, PortServiceHandlers } from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

/** status: the realisation status (port-status.ts); absent where a reply needs none. */
export function toPort(v: PortView, status?: PortStatusFields): Port {
  return {
    ...status,
    id: v.id,
    tenant: v.tenant,
    networkId: v.networkId,
    name: v.name,
    mac: v.mac,
    fixedIps: v.fixedIps,
    // Unbound (null) is expressed by leaving the optional field unset.
    hostId: v.hostId ?? undefined,
    deviceId: v.deviceId,
    deviceOwner: v.deviceOwner,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    allowedAddressPairs: v.allowedAddressPairs.map((a) => ({ ipAddress: a.ipAddress, macAddress: a.macAddress })),
    ownedAddresses: v.ownedAddresses,
    description: v.description,
    adminStateUp: v.adminStateUp,
    revision: v.revision,
  };
}

/** Request pairs → the contract's (an absent MAC stays absent: IPAM fills in the port's own). */
const pairsOf = (pairs: Array<{ ipAddress: string; macAddress?: string | undefined }>) =>
  pairs.map((a) => ({ ipAddress: a.ipAddress, ...(a.macAddress === undefined ? {} : { macAddress: a.macAddress }) }));

/** Empty list = "one address per subnet" (the contract's omitted); no_fixed_ips = the contract's empty list. */
function fixedIpsOf(req: CreatePortRequest__Output): Array<{ subnetId?: string; ip?: string }> | undefined {
  if (req.noFixedIps) {
    if (req.fixedIps.length > 0) throw new ValidationError('fixedIps: cannot be combined with noFixedIps', { field: 'fixedIps' });
    return [];
  }
  if (req.fixedIps.length === 0) return undefined;
  return req.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip }));
}

export function portHandlers(deps: RpcDeps): PortServiceHandlers {
  const { ipam } = deps;
  /** The ports with their status: one status request for all of them. */
  const withStatus = async (views: PortView[], meta: RequestMeta): Promise<Port[]> => {
    const statuses = await portStatuses(deps.status, views.map((v) => v.id), meta, deps.logger);
    return views.map((v) => toPort(v, statuses.get(v.id)));
  };
  const one = async (view: PortView, meta: RequestMeta): Promise<Port> => (await withStatus([view], meta))[0]!;
  return {
    CreatePort: unary(deps, 'CreatePort', async (req, { meta }) => {
      const body = {
        networkId: req.networkId,
        name: req.name,
        mac: req.mac,
        fixedIps: fixedIpsOf(req),
        hostId: req.hostId ?? null,
        deviceId: req.deviceId,
        deviceOwner: req.deviceOwner,
        allowedAddressPairs: req.allowedAddressPairs.length ? pairsOf(req.allowedAddressPairs) : undefined,
        description: req.description,
        adminStateUp: req.adminStateUp,
      };
      return one(await ipam.command('port.create', body, meta), meta);
    }),
    GetPort: unary(deps, 'GetPort', async (req, { meta }) => one(await ipam.query('port.get', { id: req.id }, meta), meta)),
    ListPorts: unary(deps, 'ListPorts', async (req, { meta }) => {
      const page = await ipam.query('port.list', { ...paging(req), networkId: req.networkId, hostId: req.hostId }, meta);
      return { items: await withStatus(page.items, meta), next: page.next };
    }),
    DeletePort: unary(deps, 'DeletePort', (req, { meta }) => ipam.command('port.delete', { id: req.id }, meta)),
    BindPort: unary(deps, 'BindPort', async (req, { meta }) =>
      one(await ipam.command('port.bind', { id: req.id, hostId: req.hostId ?? null }, meta), meta),
    ),
    SetAllowedAddressPairs: unary(deps, 'SetAllowedAddressPairs', async (req, { meta }) =>
      one(await ipam.command('port.setAllowedAddressPairs', { id: req.id, allowedAddressPairs: pairsOf(req.allowedAddressPairs) }, meta), meta),
    ),
    // A list is a message: absent, unchanged; present (even empty), the new list. Never-changing fields go on for IPAM to refuse by name.
    UpdatePort: unary(deps, 'UpdatePort', async (req, { meta }) => {
      const body = {
        id: req.id,
        expectedRevision: req.expectedRevision,
        name: req.name,
        description: req.description,
        adminStateUp: req.adminStateUp,
        fixedIps: req.fixedIps?.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip })),
        allowedAddressPairs: req.allowedAddressPairs ? pairsOf(req.allowedAddressPairs.allowedAddressPairs) : undefined,
        deviceId: req.deviceId,
        deviceOwner: req.deviceOwner,
        networkId: req.networkId,
        mac: req.mac,
        tenant: req.tenant,
        hostId: req.hostId,
      };
      return one(await ipam.command('port.update', body, meta), meta);
    }),
  };
}
