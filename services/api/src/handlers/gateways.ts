import { ValidationError } from '@strata/errors';
import type { GatewayBindingView, GatewayDeviceKind, GatewayDeviceView } from '@strata/contracts';
import {
  gatewayDeviceKindFromProto,
  gatewayDeviceKindToProto,
  type GatewayBinding,
  type GatewayDevice,
  type GatewayDeviceKind__Output,
  type GatewayServiceHandlers,
} from '@strata/proto';
import { paging, unary, type RpcDeps } from '../rpc.js';

export function toGatewayDevice(v: GatewayDeviceView): GatewayDevice {
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    kind: gatewayDeviceKindToProto(v.kind),
    vtepIp: v.vtepIp,
    bgp: v.bgp,
    ovsdb: v.ovsdb,
    ...(v.hostId !== null ? { hostId: v.hostId } : {}),
    ports: v.ports.map((p) => ({ name: p.name, ...(p.tenant !== null ? { tenant: p.tenant } : {}) })),
    createdAt: v.createdAt,
  };
}

export const toGatewayBinding = (v: GatewayBindingView): GatewayBinding => ({ ...v });

/** The enum's zero value means the client did not choose: say so in the client's own terms. */
function kindOf(k: GatewayDeviceKind__Output): GatewayDeviceKind {
  const kind = gatewayDeviceKindFromProto(k);
  if (kind === '') throw new ValidationError('kind: required, one of GATEWAY_DEVICE_KIND_EVPN, GATEWAY_DEVICE_KIND_OVSDB, GATEWAY_DEVICE_KIND_HOST', { field: 'kind' });
  return kind;
}

/** Devices are admin-managed, bindings tenant-scoped: IPAM decides who may do what; the API only translates. */
export function gatewayHandlers(deps: RpcDeps): GatewayServiceHandlers {
  const { ipam } = deps;
  return {
    CreateGatewayDevice: unary(deps, 'CreateGatewayDevice', async (req, { meta }) => {
      const body = {
        name: req.name,
        description: req.description,
        kind: kindOf(req.kind),
        vtepIp: req.vtepIp,
        bgp: req.bgp ?? undefined,
        ovsdb: req.ovsdb ?? undefined,
        hostId: req.hostId,
        ports: req.ports.map((p) => ({ name: p.name, tenant: p.tenant ?? null })),
      };
      return toGatewayDevice(await ipam.command('gatewaydevice.create', body, meta));
    }),
    GetGatewayDevice: unary(deps, 'GetGatewayDevice', async (req, { meta }) => toGatewayDevice(await ipam.query('gatewaydevice.get', { id: req.id }, meta))),
    ListGatewayDevices: unary(deps, 'ListGatewayDevices', async (req, { meta }) => {
      const page = await ipam.query('gatewaydevice.list', paging(req), meta);
      return { items: page.items.map(toGatewayDevice), next: page.next };
    }),
    DeleteGatewayDevice: unary(deps, 'DeleteGatewayDevice', (req, { meta }) => ipam.command('gatewaydevice.delete', { id: req.id }, meta)),
    CreateGatewayBinding: unary(deps, 'CreateGatewayBinding', async (req, { meta }) => {
      const body = { deviceId: req.deviceId, port: req.port, vlan: req.vlan, networkId: req.networkId, description: req.description };
      return toGatewayBinding(await ipam.command('gatewaybinding.create', body, meta));
    }),
    MoveGatewayBinding: unary(deps, 'MoveGatewayBinding', async (req, { meta }) =>
      toGatewayBinding(await ipam.command('gatewaybinding.move', { id: req.id, deviceId: req.deviceId, port: req.port, vlan: req.vlan }, meta)),
    ),
    GetGatewayBinding: unary(deps, 'GetGatewayBinding', async (req, { meta }) => toGatewayBinding(await ipam.query('gatewaybinding.get', { id: req.id }, meta))),
    ListGatewayBindings: unary(deps, 'ListGatewayBindings', async (req, { meta }) => {
      const page = await ipam.query('gatewaybinding.list', { ...paging(req), deviceId: req.deviceId, networkId: req.networkId }, meta);
      return { items: page.items.map(toGatewayBinding), next: page.next };
    }),
    DeleteGatewayBinding: unary(deps, 'DeleteGatewayBinding', (req, { meta }) => ipam.command('gatewaybinding.delete', { id: req.id }, meta)),
  };
}
