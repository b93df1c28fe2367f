/**
 * Read side of gateway devices and bindings. A tenant sees a device only
 * when a port of it is granted to the tenant, and only those ports (the
 * rest of the device's ports are other tenants' business); bindings are
 * scoped by their network's tenant like every IPAM resource.
 */
import { NotFoundError } from '@strata/errors';
import type { GatewayBindingView, GatewayDeviceView, IpamQuery, Page } from '@strata/contracts';
import { canSee, page, visible } from '@strata/service-kit';
import type { Caller } from './decide/types.js';
import type { GatewayBindingEntry, GatewayDeviceEntry, IpamState } from './state.js';

/** The device as `c` may see it, or undefined when it may not see it at all. */
function deviceSeenBy(c: Caller, d: GatewayDeviceEntry): GatewayDeviceView | undefined {
  const ports = c.admin ? d.ports : d.ports.filter((p) => p.tenant === c.tenant);
  if (ports.length === 0 && !c.admin) return undefined;
  return { ...d, bgp: d.bgp && { ...d.bgp }, ovsdb: d.ovsdb && { ...d.ovsdb }, ports: ports.map((p) => ({ ...p })) };
}

export function getGatewayDevice(s: IpamState, c: Caller, q: IpamQuery<'gatewaydevice.get'>): GatewayDeviceView {
  const d = s.cloud.gatewayDevices[q.id];
  const view = d && deviceSeenBy(c, d);
  if (!view) throw new NotFoundError('gateway device', q.id);
  return view;
}

export function listGatewayDevices(s: IpamState, c: Caller, q: IpamQuery<'gatewaydevice.list'>): Page<GatewayDeviceView> {
  return page(
    Object.values(s.cloud.gatewayDevices)
      .map((d) => deviceSeenBy(c, d))
      .filter((v) => v !== undefined),
    q,
  );
}

export const gatewayBindingView = (b: GatewayBindingEntry): GatewayBindingView => ({ ...b });

export function getGatewayBinding(s: IpamState, c: Caller, q: IpamQuery<'gatewaybinding.get'>): GatewayBindingView {
  return gatewayBindingView(visible(c, 'gateway binding', q.id, s.cloud.gatewayBindings[q.id]));
}

export function listGatewayBindings(s: IpamState, c: Caller, q: IpamQuery<'gatewaybinding.list'>): Page<GatewayBindingView> {
  const bindings = Object.values(s.cloud.gatewayBindings).filter(
    (b) => canSee(c, b.tenant) && (q.deviceId === undefined || b.deviceId === q.deviceId) && (q.networkId === undefined || b.networkId === q.networkId),
  );
  return page(bindings.map(gatewayBindingView), q);
}
