/**
 * Associating a floating IP with a port (static 1:1 NAT to one of the port's
 * IPv4 fixed IPs) and ending it. One association per floating IP and per
 * fixed IP; moving a floating IP to another port or fixed IP is
 * "disassociate first", so an address is never translated to two VMs.
 */
import { IllegalStateError, ValidationError } from '@strata/errors';
import { floatingIpAssociationAggregate, portAddresses, type DisassociationReason, type NatCommand } from '@strata/contracts';
import { checkRevision, visible } from '@strata/service-kit';
import type { FloatingIpEntry, NatState, PortEntry } from '../state.js';
import type { CommandContext, Decision, NewNatEvent } from './types.js';

/** Addresses in events and requests are canonical text: only IPv6 has a colon. */
const isIpv4 = (ip: string): boolean => !ip.includes(':');

/** A floating IP IPAM has allocated (not released) and the caller may see. */
export function findFloatingIp(state: NatState, ctx: CommandContext, id: string): FloatingIpEntry {
  const f = state.floatingIps[id];
  return visible(ctx.caller, 'floating IP', id, f?.live ? f : undefined);
}

export const findPort = (state: NatState, ctx: CommandContext, portId: string): PortEntry => visible(ctx.caller, 'port', portId, state.ports[portId]);

export function associateFloatingIp(state: NatState, cmd: NatCommand<'floatingip.associate'>, ctx: CommandContext): Decision {
  const fip = findFloatingIp(state, ctx, cmd.floatingIpId);
  checkRevision('floating IP', fip.id, cmd.expectedRevision, fip.revision);
  const port = findPort(state, ctx, cmd.portId);
  // Only an admin can see both of two tenants' resources; even then the address stays within its tenant.
  if (fip.tenant !== port.tenant) {
    throw new ValidationError(
      `floating IP ${fip.id} belongs to tenant ${fip.tenant} and port ${port.id} to tenant ${port.tenant}; a floating IP can only be associated with a port of its own tenant`,
      { field: 'portId' },
    );
  }
  const fixedIp = targetFixedIp(port, fip, cmd.fixedIp);
  const current = fip.association;
  if (current) {
    if (current.portId === port.id && current.fixedIp === fixedIp) return { kind: 'done', resourceId: fip.id };
    throw new IllegalStateError(
      `floating IP ${fip.id} (${fip.address}) is already associated with port ${current.portId} (fixed IP ${current.fixedIp}); disassociate it first`,
      { portId: current.portId },
    );
  }
  const holder = Object.entries(state.portFloatingIps[port.id] ?? {}).find(([, ip]) => ip === fixedIp)?.[0];
  if (holder !== undefined) {
    const other = state.floatingIps[holder];
    throw new IllegalStateError(`fixed IP ${fixedIp} of port ${port.id} already has floating IP ${holder} (${other?.address ?? '?'}); disassociate it first`, {
      floatingIpId: holder,
    });
  }
  return fipEvent(fip, { type: 'nat.FloatingIpAssociated', data: { floatingIpId: fip.id, address: fip.address, portId: port.id, networkId: port.networkId, fixedIp } });
}

/** The IPv4 fixed IP to translate to: the one asked for, which must be the port's, or the port's first. */
function targetFixedIp(port: PortEntry, fip: FloatingIpEntry, requested: string | undefined): string {
  const v4 = portAddresses(port).filter(isIpv4);
  if (v4.length === 0) throw new IllegalStateError(`port ${port.id} has no IPv4 address to translate floating IP ${fip.address} to`);
  if (requested === undefined) return v4[0]!;
  if (v4.includes(requested)) return requested;
  const family = isIpv4(requested) ? '' : ' (a floating IP is IPv4 and translates to an IPv4 address)';
  throw new ValidationError(`fixedIp ${requested} is not an IPv4 address of port ${port.id}${family}; its IPv4 addresses: ${v4.join(', ')}`, {
    field: 'fixedIp',
  });
}

export function disassociateFloatingIp(state: NatState, cmd: NatCommand<'floatingip.disassociate'>, ctx: CommandContext): Decision {
  const fip = findFloatingIp(state, ctx, cmd.floatingIpId);
  checkRevision('floating IP', fip.id, cmd.expectedRevision, fip.revision);
  return endAssociation(fip, 'requested');
}

/** Write the end of a floating IP's association, or "done" when it has none. */
export function endAssociation(fip: FloatingIpEntry, reason: (typeof DisassociationReason)[number]): Decision {
  const a = fip.association;
  if (!a) return { kind: 'done', resourceId: fip.id };
  return fipEvent(fip, { type: 'nat.FloatingIpDisassociated', data: { floatingIpId: fip.id, address: fip.address, portId: a.portId, reason } });
}

/** An event on the floating IP's nat aggregate, decided against its version, owned by the floating IP's tenant. */
function fipEvent(fip: FloatingIpEntry, event: NewNatEvent): Decision {
  return { kind: 'append', aggregate: floatingIpAssociationAggregate(fip.id), expectedVersion: fip.version, tenant: fip.tenant, resourceId: fip.id, event };
}
