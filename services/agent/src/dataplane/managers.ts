/**
 * The agent's data-plane features, in the order their parts are composed
 * (a manager sees the kernel objects of those before it). A new feature is
 * one file in managers/ and one line here.
 */
import type { DesiredOptions, DesiredState } from '../core/desired.js';
import type { HostViewSnapshot } from '../core/snapshot.js';
import type { AgentLogger } from '../logger.js';
import { composeDesired } from './compose.js';
import { nftRunner } from '../kernel/nft-runner.js';
import { Dataplane } from './dataplane.js';
import type { HostIo, Manager } from './manager.js';
import { chaining } from './managers/chaining.js';
import { chainingWire } from './managers/chaining-wire.js';
import { dhcp } from './managers/dhcp.js';
import { nat } from './managers/nat.js';
import { overlay } from './managers/overlay.js';
import { routerRoutes } from './managers/router-routes.js';
import { securityGroups } from './managers/security-groups.js';

export const MANAGERS: readonly Manager[] = [
  overlay,
  dhcp,
  securityGroups,
  routerRoutes,
  nat,
  chaining,
  chainingWire,
];

/** Host view → the kernel state (and DHCP servers) this hypervisor must have, from every manager. Pure. */
export const desiredState = (view: HostViewSnapshot, opts: DesiredOptions): DesiredState => composeDesired(MANAGERS, view, opts).desired;

export interface HostDataplaneOptions extends HostIo {
  leaseSeconds?: number;
  /**
   * Read-plan-apply rounds before a failed apply is reported (default 3). The
   * kernel can change under a plan (a VM's tap vanishes while its namespace
   * is being destroyed): a fresh read and plan usually succeeds at once.
   */
  attempts?: number;
  logger?: AgentLogger;
  /** The agent passes every host link event to `linkChanged` (its link monitor runs): passes may be kept ones. */
  followsLinks?: boolean;
}

/** This host's dataplane with every manager. */
export function hostDataplane(o: HostDataplaneOptions): Dataplane {
  const { leaseSeconds, attempts, logger, followsLinks, ...host } = o;
  // One nft runner for the host: the full plan's transaction and the fast paths' go through the same worker.
  const io: HostIo = { ...host, nft: host.nft ?? nftRunner(host.exec, host.nftWorker !== false) };
  return new Dataplane({
    managers: MANAGERS,
    io,
    ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
    ...(logger ? { logger } : {}),
    ...(followsLinks ? { followsLinks } : {}),
  });
}
