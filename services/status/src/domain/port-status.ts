/**
 * A port's status (Neutron's DOWN / BUILD / ACTIVE / ERROR), derived on
 * demand from IPAM's port, hostview's positions and the agents' progress.
 * Pure. The order of the checks is the meaning:
 *
 *   DOWN    not bound; admin state down; bound to a host that is not
 *           registered or whose agent is down; its agent reports no device
 *           (not plugged)
 *   ERROR   its agent reports an error for it
 *   ACTIVE  its own host has applied it (the view holding it, at or after
 *           the latest change of its keys there) with the device up, and
 *           every live host holding it (peers with its endpoint or member
 *           entries) has applied it too: a VM elsewhere reaches it
 *   BUILD   otherwise, with what it waits for. A peer whose agent is down
 *           does not hold it in BUILD (it is listed behind in `realisation`).
 */
import type { FollowedPort, PortStatusView, PortStatusValue, RealisationView } from '@strata/contracts';
import type { AgentState } from './agents.js';
import { realisation, type Holder } from './realisation.js';

/**
 * The port's admin state. The seam for IPAM's admin state (issue 15's port
 * update): the shared port fold records `adminStateUp: false` on a port set
 * down; until IPAM writes it, every port is up.
 */
export const portAdminUp = (port: FollowedPort): boolean => (port as { readonly adminStateUp?: boolean }).adminStateUp !== false;

export interface PortFacts {
  port: FollowedPort;
  /** Hosts whose views hold the port (hostview's answer) and the position of its latest change there. */
  holders: readonly Holder[];
  /** hostview's position for the answer. */
  seq: number;
  agentOf: (hostId: string) => AgentState;
}

export function portStatus(f: PortFacts): PortStatusView {
  const view = realisation('port', f.port.id, f.holders, f.agentOf, f.seq);
  const [status, reason] = decide(f, view);
  return { portId: f.port.id, status, reason, hostId: f.port.hostId, realisation: view };
}

function decide(f: PortFacts, view: RealisationView): [PortStatusValue, string] {
  const { port } = f;
  const host = port.hostId;
  if (host === null) return ['DOWN', 'not bound to a hypervisor'];
  if (!portAdminUp(port)) return ['DOWN', 'admin state down'];
  const own = f.agentOf(host);
  if (!own.registered) return ['DOWN', `bound to ${host}, which is not a registered hypervisor`];
  if (!own.alive) return ['DOWN', `agent on ${host} down since ${own.since ?? 'start-up'}`];
  const reported = own.ports?.get(port.id);
  if (reported?.state === 'down') return ['DOWN', reported.reason === '' ? `not plugged on ${host}` : `not plugged on ${host}: ${reported.reason}`];
  if (reported?.state === 'error') return ['ERROR', reported.reason || own.error || `apply failed on ${host}`];

  const ownHolder = f.holders.find((h) => h.hostId === host);
  if (ownHolder === undefined) return ['BUILD', `the view of ${host} does not hold it yet`];
  const ownBehind = view.behind.find((b) => b.hostId === host);
  if (ownBehind !== undefined) return ['BUILD', ownBehind.reason];
  if (own.ports === undefined) return ['BUILD', `waiting for the report of the agent on ${host}`];
  if (reported === undefined) return ['BUILD', `the agent on ${host} has not reported it yet`];
  const peersBehind = view.behind.filter((b) => f.agentOf(b.hostId).alive && f.agentOf(b.hostId).registered);
  if (peersBehind.length > 0) return ['BUILD', `waiting for peers: ${peersBehind.map((b) => b.reason).join('; ')}`];
  return ['ACTIVE', ''];
}
