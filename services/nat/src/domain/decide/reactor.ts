/**
 * Deciders of nat's reactor (the process manager that follows IPAM): what is
 * left to undo after IPAM removed a port, a floating IP or a router. Each
 * answers the next step or "done"; the reactor runs them until done. They
 * depend only on the state, so every instance and every redelivery decides
 * the same (and writes the same event ids; see app/reactor.ts).
 */
import { portAddresses } from '@strata/contracts';
import type { NatState } from '../state.js';
import { endAssociation } from './floating-ip.js';
import { gatewayDecision } from './router.js';
import type { Decision } from './types.js';

/**
 * IPAM deleted a port, or took addresses off it (`ipam.PortUpdated`): end
 * the associations of its floating IPs whose fixed IP the port no longer
 * has (all of them for a deleted port), one per step, so no floating IP
 * goes on translating to an address another port may get. Done when every
 * association left is to an address the port has.
 */
export function reactToPortAddresses(state: NatState, portId: string): Decision {
  const port = state.ports[portId];
  const held = new Set(port ? portAddresses(port) : []);
  // Sorted, so every instance ends them in the same order (same versions, same event ids).
  const next = Object.entries(state.portFloatingIps[portId] ?? {})
    .filter(([, fixedIp]) => !held.has(fixedIp))
    .map(([id]) => id)
    .sort()[0];
  const fip = next === undefined ? undefined : state.floatingIps[next];
  return fip ? endAssociation(fip, port ? 'fixed-ip-released' : 'port-deleted') : { kind: 'done', resourceId: portId };
}

/** IPAM released a floating IP: end its association. Done if it was allocated again meanwhile. */
export function reactToFloatingIpReleased(state: NatState, floatingIpId: string): Decision {
  const fip = state.floatingIps[floatingIpId];
  if (!fip || fip.live) return { kind: 'done', resourceId: floatingIpId };
  return endAssociation(fip, 'floating-ip-released');
}

/** IPAM deleted a router: its gateway goes down with it (hosts stop the router's PNAT). */
export function reactToRouterDeleted(state: NatState, routerId: string): Decision {
  const router = state.routers[routerId];
  if (!router || router.live) return { kind: 'done', resourceId: routerId };
  return gatewayDecision(router, false);
}
