/**
 * The status service's projection: what the log says about hypervisors
 * (registered with IPAM, and this service's own liveness decisions), ports
 * (the shared port-lifecycle fold) and the owners of the resources whose
 * realisation can be asked (networks, routers, security groups, chains), so
 * a query is scoped to its tenant. Plain JSON records: a snapshot is a JSON
 * document. What agents report is not here: it is observed, in memory
 * (app/observations.ts), and never replayed.
 */
import type { FollowedPorts } from '@strata/contracts';

export interface StatusState {
  /** Last stream sequence seen (the projection reads the whole domain stream). */
  seq: number;
  /** hostId → registration; deregistered hosts are removed. */
  hypervisors: Record<string, { hostId: string }>;
  /** This service's decisions about each host's agent (kept after a deregistration: history). */
  liveness: Record<string, LivenessRecord>;
  /** IPAM's ports (tenant, network, host binding; admin state once IPAM records it), folded by the shared port lifecycle. */
  ports: FollowedPorts;
  /** Owners of the other resources whose realisation a tenant may ask: id → tenant. */
  owners: Record<OwnedKind, Record<string, string>>;
}

export type OwnedKind = 'network' | 'router' | 'security-group' | 'chain';

/** The latest liveness decision about one host's agent. */
export interface LivenessRecord {
  alive: boolean;
  /** The decision's time (the status service's clock). */
  since: string;
  /** The agent process the decision is about ('' when it was never heard). */
  bootId: string;
  /** Last sequence of the host's `status.hypervisor.<host>` aggregate: the version the next decision is appended against. */
  version: number;
}

export function initialState(): StatusState {
  return {
    seq: 0,
    hypervisors: {},
    liveness: {},
    ports: {},
    owners: { network: {}, router: {}, 'security-group': {}, chain: {} },
  };
}
