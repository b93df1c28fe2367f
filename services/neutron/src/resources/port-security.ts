/**
 * A port's security groups and port security, which are secgroup's: read
 * for a page of ports in one query, and set after IPAM has the port (secgroup knows
 * a port from IPAM's PortCreated; the shared ReadYourWrites makes its
 * command wait until it has seen the port).
 */
import { MAX_SECURITY_PORTS, type PortSecurityView } from '@strata/contracts';
import type { NeutronContext } from '../resource.js';
import type { SecurityRequest } from './ports.js';

export const securityOf = (ctx: NeutronContext, portId: string): Promise<PortSecurityView> => ctx.clients.secgroup.query('port.get', { portId }, ctx.meta);

/** Secgroup's view of each port it knows (a port it has not seen yet is left out): one query per 1,000 ports. */
export async function securityViews(ctx: NeutronContext, portIds: readonly string[]): Promise<Map<string, PortSecurityView>> {
  const out = new Map<string, PortSecurityView>();
  for (let i = 0; i < portIds.length; i += MAX_SECURITY_PORTS) {
    const { items } = await ctx.clients.secgroup.query('port.list', { portIds: portIds.slice(i, i + MAX_SECURITY_PORTS) }, ctx.meta);
    for (const v of items) out.set(v.portId, v);
  }
  return out;
}

/**
 * Set what was asked (each command under its own step of the request: a
 * service refuses a second command under one request id), in the order that never has groups on a port whose
 * security is off: groups before turning security off, security on before
 * groups.
 */
export async function setPortSecurity(ctx: NeutronContext, portId: string, wanted: SecurityRequest): Promise<void> {
  const { secgroup } = ctx.clients;
  const groups = async () => {
    if (wanted.groups !== undefined) await secgroup.command('port.setGroups', { portId, groupIds: wanted.groups }, ctx.step('port-groups'));
  };
  if (wanted.portSecurity === false) {
    await groups();
    await secgroup.command('port.setSecurity', { portId, enabled: false }, ctx.step('port-security'));
  } else {
    if (wanted.portSecurity === true) await secgroup.command('port.setSecurity', { portId, enabled: true }, ctx.step('port-security'));
    await groups();
  }
}

/**
 * A new port without groups named is in its project's default group
 * (Neutron's rule). Secgroup's port reactor puts it there too, in its own
 * time; doing it here (the group made on the project's first use, then the
 * membership) makes the answer show it. Either order with the reactor
 * ends the same: the reactor leaves a port whose groups were set alone.
 */
export async function joinDefaultGroup(ctx: NeutronContext, portId: string, tenant: string): Promise<void> {
  const group = await ctx.clients.secgroup.command('group.ensureDefault', { tenant }, ctx.step('default-group'));
  await ctx.clients.secgroup.command('port.setGroups', { portId, groupIds: [group.id] }, ctx.step('port-groups'));
}
