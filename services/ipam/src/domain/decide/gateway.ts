/**
 * Gateway devices (admin only) and their bindings (the network's tenant, on
 * ports granted to it, or the admin): docs/architecture.md, "Reaching the
 * physical world". Every event is on the cloud aggregate, so a binding is
 * decided against one version of its network's existence, its device's
 * ports and every other binding of the device.
 */
import { AlreadyExistsError, IllegalStateError, NotFoundError, PermissionDeniedError, ValidationError } from '@strata/errors';
import type { IpamCommand } from '@strata/contracts';
import { canSee, createdId, requireAdmin, visible } from '@strata/service-kit';
import { gatewaySlot, type GatewayBindingEntry, type GatewayDeviceEntry, type IpamState } from '../state.js';
import { cloudAppend } from './shared.js';
import { SYSTEM_TENANT, type Caller, type CommandContext, type Decision } from './types.js';

/** A Linux interface name: at most 15 bytes (IFNAMSIZ 16 with the NUL), no '/', ':' or whitespace. */
const LINUX_NIC = /^[A-Za-z0-9_.-]{1,15}$/;


export function createGatewayDevice(state: IpamState, cmd: IpamCommand<'gatewaydevice.create'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'creating a gateway device');
  const id = createdId(ctx.caller, 'ipam', 'gateway-device');
  if (state.cloud.gatewayDevices[id]) return { kind: 'done', resourceId: id };
  const vtepIp = cmd.kind === 'host' ? hostVtep(state, cmd.hostId ?? '', cmd.ports.map((p) => p.name)) : deviceVtep(state, cmd.vtepIp ?? '');
  return cloudAppend(state, SYSTEM_TENANT, id, {
    type: 'ipam.GatewayDeviceCreated',
    data: {
      deviceId: id,
      name: cmd.name,
      ...(cmd.description ? { description: cmd.description } : {}),
      kind: cmd.kind,
      vtepIp,
      ...(cmd.bgp ? { bgp: cmd.bgp } : {}),
      ...(cmd.ovsdb ? { ovsdb: cmd.ovsdb } : {}),
      ...(cmd.hostId !== undefined ? { hostId: cmd.hostId } : {}),
      ports: cmd.ports.map((p) => ({ name: p.name, tenant: p.tenant })),
    },
  });
}

/** A `host` device is a registered hypervisor (one device per hypervisor) whose ports are its NICs; its VTEP is the hypervisor's. */
function hostVtep(state: IpamState, hostId: string, ports: string[]): string {
  const h = state.cloud.hypervisors[hostId];
  if (!h) throw new NotFoundError('hypervisor', hostId);
  const other = Object.values(state.cloud.gatewayDevices).find((d) => d.hostId === hostId);
  if (other) throw new AlreadyExistsError(`hypervisor ${hostId} is already gateway device ${other.id}; add ports there`, { field: 'hostId' });
  const bad = ports.find((p) => !LINUX_NIC.test(p));
  if (bad !== undefined) throw new ValidationError(`port ${bad} is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -): a host device's ports are its NICs`, { field: 'ports' });
  return h.vtepIp;
}

/** A switch's VTEP is its own: not a hypervisor's, not another switch's (hypervisors tunnel to it by address). */
function deviceVtep(state: IpamState, vtepIp: string): string {
  const host = state.cloud.vteps[vtepIp];
  if (host !== undefined) throw new AlreadyExistsError(`VTEP address ${vtepIp} is hypervisor ${host}'s`, { field: 'vtepIp' });
  const other = Object.values(state.cloud.gatewayDevices).find((d) => d.kind !== 'host' && d.vtepIp === vtepIp);
  if (other) throw new AlreadyExistsError(`VTEP address ${vtepIp} is gateway device ${other.id}'s`, { field: 'vtepIp' });
  return vtepIp;
}

export function deleteGatewayDevice(state: IpamState, cmd: IpamCommand<'gatewaydevice.delete'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'deleting a gateway device');
  const d = state.cloud.gatewayDevices[cmd.id];
  if (!d) throw new NotFoundError('gateway device', cmd.id);
  const bound = bindingsOfDevice(state, d.id).length;
  if (bound > 0) throw new IllegalStateError(`gateway device ${d.id} still has ${bound} binding(s); delete or move them first`, { bindings: bound });
  return cloudAppend(state, SYSTEM_TENANT, d.id, {
    type: 'ipam.GatewayDeviceDeleted',
    data: { deviceId: d.id, kind: d.kind, vtepIp: d.vtepIp, ...(d.hostId !== null ? { hostId: d.hostId } : {}) },
  });
}

export function createGatewayBinding(state: IpamState, cmd: IpamCommand<'gatewaybinding.create'>, ctx: CommandContext): Decision {
  const { caller } = ctx;
  const id = createdId(caller, 'ipam', 'gateway-binding');
  const existing = state.cloud.gatewayBindings[id];
  if (existing) {
    if (canSee(caller, existing.tenant)) return { kind: 'done', resourceId: id };
    throw new AlreadyExistsError(`gateway binding ${id} already exists`);
  }
  const network = visible(caller, 'network', cmd.networkId, state.cloud.networks[cmd.networkId]);
  if (state.networks[network.id]?.closed) throw new IllegalStateError(`network ${network.id} is being deleted`);
  const device = deviceFor(state, caller, cmd.deviceId);
  requirePort(caller, device, cmd.port, network.tenant);
  requireFreeSlot(state, caller, device.id, cmd.port, cmd.vlan);
  return cloudAppend(state, network.tenant, id, {
    type: 'ipam.GatewayBindingCreated',
    data: {
      bindingId: id,
      tenant: network.tenant,
      networkId: network.id,
      vni: network.vni,
      deviceId: device.id,
      port: cmd.port,
      vlan: cmd.vlan,
      ...(cmd.description ? { description: cmd.description } : {}),
    },
  });
}

export function moveGatewayBinding(state: IpamState, cmd: IpamCommand<'gatewaybinding.move'>, ctx: CommandContext): Decision {
  requireAdmin(ctx.caller, 'moving a gateway binding');
  const b = state.cloud.gatewayBindings[cmd.id];
  if (!b) throw new NotFoundError('gateway binding', cmd.id);
  const vlan = cmd.vlan ?? b.vlan;
  if (b.deviceId === cmd.deviceId && b.port === cmd.port && b.vlan === vlan) return { kind: 'done', resourceId: b.id };
  const device = deviceFor(state, ctx.caller, cmd.deviceId);
  requirePort(ctx.caller, device, cmd.port, b.tenant);
  requireFreeSlot(state, ctx.caller, device.id, cmd.port, vlan);
  return cloudAppend(state, b.tenant, b.id, {
    type: 'ipam.GatewayBindingMoved',
    data: {
      ...bindingData(b),
      deviceId: device.id,
      port: cmd.port,
      vlan,
      previous: { deviceId: b.deviceId, port: b.port, vlan: b.vlan },
    },
  });
}

export function deleteGatewayBinding(state: IpamState, cmd: IpamCommand<'gatewaybinding.delete'>, ctx: CommandContext): Decision {
  const b = visible(ctx.caller, 'gateway binding', cmd.id, state.cloud.gatewayBindings[cmd.id]);
  return cloudAppend(state, b.tenant, b.id, { type: 'ipam.GatewayBindingDeleted', data: bindingData(b) });
}

const bindingData = (b: GatewayBindingEntry) => ({
  bindingId: b.id,
  tenant: b.tenant,
  networkId: b.networkId,
  vni: b.vni,
  deviceId: b.deviceId,
  port: b.port,
  vlan: b.vlan,
});

export const bindingsOfDevice = (state: IpamState, deviceId: string): GatewayBindingEntry[] =>
  Object.values(state.cloud.gatewayBindings).filter((b) => b.deviceId === deviceId);

export const bindingsOfNetwork = (state: IpamState, networkId: string): GatewayBindingEntry[] =>
  Object.values(state.cloud.gatewayBindings).filter((b) => b.networkId === networkId);

/** A tenant sees a device only through a port granted to it: any other device is "not found", like another tenant's resource. */
function deviceFor(state: IpamState, caller: Caller, deviceId: string): GatewayDeviceEntry {
  const d = state.cloud.gatewayDevices[deviceId];
  if (!d || !(caller.admin || d.ports.some((p) => p.tenant === caller.tenant))) throw new NotFoundError('gateway device', deviceId);
  return d;
}

/**
 * The port exists on the device and may carry a network of `tenant`: a port
 * granted to a tenant carries only that tenant's networks (the admin too
 * cannot put another tenant's network on it); a tenant caller binds only on
 * ports granted to it, and is told the same whether the port is missing or
 * another tenant's.
 */
function requirePort(caller: Caller, d: GatewayDeviceEntry, port: string, tenant: string): void {
  const p = d.ports.find((x) => x.name === port);
  if (!caller.admin && p?.tenant !== caller.tenant) {
    throw new PermissionDeniedError(`tenant ${caller.tenant} may not bind on port ${port} of gateway device ${d.id}: no such port is granted to it`, { field: 'port' });
  }
  if (!p) throw new ValidationError(`gateway device ${d.id} has no port ${port} (it has ${d.ports.map((x) => x.name).join(', ')})`, { field: 'port' });
  if (p.tenant !== null && p.tenant !== tenant) {
    throw new ValidationError(`port ${port} of gateway device ${d.id} is granted to tenant ${p.tenant}; it cannot carry a network of tenant ${tenant}`, { field: 'port' });
  }
}

/** A (device, port, VLAN) carries one network; another tenant's binding there is not named to a tenant caller. */
function requireFreeSlot(state: IpamState, caller: Caller, deviceId: string, port: string, vlan: number): void {
  const taken = state.cloud.gatewaySlots[gatewaySlot(deviceId, port, vlan)];
  if (taken === undefined) return;
  const holder = state.cloud.gatewayBindings[taken];
  const which = holder && canSee(caller, holder.tenant) ? ` by binding ${holder.id} (network ${holder.networkId})` : '';
  throw new AlreadyExistsError(`VLAN ${vlan} of port ${port} of gateway device ${deviceId} is already bound${which}`, { field: 'vlan' });
}
