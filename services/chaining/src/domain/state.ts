/**
 * Chaining state: the functions, groups, classifiers and chains the
 * chaining log says exist, plus a read model of what other contexts own
 * (IPAM's ports with their allowed address pairs, routers with their
 * subnets; secgroup's groups) so every command is checked locally. Plain JSON
 * records (no Maps): a snapshot is a JSON document and "state equals a full
 * replay" is a digest comparison.
 */
import type { FlowClassifier, FollowedPorts, FunctionGroupView, ServiceFunctionView, ChainView } from '@strata/contracts';

export interface ChainingState {
  /** Last stream sequence seen (the projection reads the whole domain stream). */
  seq: number;
  /** IPAM's ports with their allowed address pairs, folded by the shared port lifecycle (@strata/contracts, ipam/port-lifecycle.ts). */
  ports: FollowedPorts;
  /** IPAM's live routers and the subnets joined to them. */
  routers: Record<string, RouterEntry>;
  /** secgroup's live security groups: what a classifier may name. */
  securityGroups: Record<string, { id: string; tenant: string }>;
  functions: Record<string, FunctionEntry>;
  groups: Record<string, GroupEntry>;
  classifiers: Record<string, ClassifierEntry>;
  chains: Record<string, ChainEntry>;
  /** `<kind>/<id>` → last sequence of a deleted resource's aggregate, so a re-creation under the same id is decided against it. */
  tombstones: Record<string, number>;
}

export interface RouterEntry {
  id: string;
  tenant: string;
  /** subnetId → networkId of each interface. */
  subnets: Record<string, string>;
}

/** Each entry is its view plus `version`, the last sequence of its `chaining.<kind>.<id>` aggregate. */
export type FunctionEntry = ServiceFunctionView & { version: number };
export type GroupEntry = FunctionGroupView & { version: number };
export type ClassifierEntry = FlowClassifier & { tenant: string; name: string; description: string; createdAt: string; revision: number; version: number };
export type ChainEntry = ChainView & { version: number };

export type ResourceKind = 'function' | 'group' | 'classifier' | 'chain';

export function initialState(): ChainingState {
  return {
    seq: 0,
    ports: {},
    routers: {},
    securityGroups: {},
    functions: {},
    groups: {},
    classifiers: {},
    chains: {},
    tombstones: {},
  };
}
