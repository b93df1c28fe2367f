/**
 * A port's security groups and port security, which are secgroup's: read
 * for a page of ports in one query, and set after IPAM has the port (secgroup knows
 * a port from IPAM's PortCreated; the shared ReadYourWrites makes its
 * command wait until it has seen the port).
 */
import { MAX_SECURITY_PORTS, type PortSecurityView } from '@strata/contracts';
import { ErrorCode, StrataError } from '@strata/errors';
import type { NeutronContext } from '../resource.js';
import type { SecurityRequest } from './ports.js';

/** How long a create waits for secgroup's reactor to make the project's first default group. */
const DEFAULT_GROUP_WAIT_MS = 10_000;

const isNotFound = (err: unknown): boolean => err instanceof StrataError && err.code === ErrorCode.NotFound;

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
 * (Neutron's rule, secgroup's reactor applies it). When the group exists
 * the membership is set here, so the answer shows it; a project's first
 * port waits for the reactor, which creates the group, up to a bound
 * (the port is answered as secgroup then has it).
 */
export async function waitForDefaultGroup(ctx: NeutronContext, portId: string, defaultGroupId: string): Promise<void> {
  const exists = await ctx.clients.secgroup.query('group.get', { id: defaultGroupId }, ctx.meta).then(
    () => true,
    (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
  if (exists) {
    await ctx.clients.secgroup.command('port.setGroups', { portId, groupIds: [defaultGroupId] }, ctx.step('port-groups'));
    return;
  }
  const deadline = Date.now() + DEFAULT_GROUP_WAIT_MS;
  for (let pause = 10; Date.now() < deadline; pause = Math.min(pause * 2, 200)) {
    const view = await securityOf(ctx, portId).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (view !== undefined && view.revision > 0) return;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  ctx.logger.warn({ port: portId, group: defaultGroupId }, "secgroup did not put the new port in its project's default group in time; answering it as it is");
}
