/**
 * The overlay: per network a bridge and a VXLAN device with its tunnel,
 * flood and neighbour entries; per routing domain a namespace with the
 * anycast gateways; the VMs' devices plugged into their bridges
 * (core/desired.ts); on a gateway host, the VLAN devices of its gateway
 * bindings in their networks' bridges (core/l2gw.ts). All of it is netlink objects in the shared kernel
 * model, so the shared read-plan-apply does its kernel work. Nothing before
 * the host has a VTEP (DHCP and NAT, which need its domain namespaces, then
 * have nothing either).
 */
import { desiredOverlay } from '../../core/desired.js';
import type { Manager } from '../manager.js';

export const overlay: Manager = {
  name: 'overlay',
  desired: (view, ctx) => (ctx.localVtep === null ? {} : { kernel: desiredOverlay(view, ctx, ctx.localVtep) }),
};
