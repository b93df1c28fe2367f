/**
 * Tenant-scoped lookups shared by the deciders and queries. Another tenant's
 * resource is NOT_FOUND exactly like a missing one (`visible`); a resource a
 * new one refers to must also be of the new resource's tenant, else it is
 * NOT_FOUND too, also to an admin (as secgroup treats a port's groups), so
 * nothing of one tenant is ever wired into another's traffic.
 */
import { NotFoundError } from '@strata/errors';
import type { FollowedPort } from '@strata/contracts';
import { visible } from '@strata/service-kit';
import type { ChainEntry, ChainingState, ClassifierEntry, FunctionEntry, GroupEntry, ResourceKind, RouterEntry } from '../state.js';
import type { Caller } from './types.js';

export const findFunction = (s: ChainingState, c: Caller, id: string): FunctionEntry => visible(c, 'service function', id, s.functions[id]);
export const findGroup = (s: ChainingState, c: Caller, id: string): GroupEntry => visible(c, 'function group', id, s.groups[id]);
export const findClassifier = (s: ChainingState, c: Caller, id: string): ClassifierEntry => visible(c, 'flow classifier', id, s.classifiers[id]);
export const findChain = (s: ChainingState, c: Caller, id: string): ChainEntry => visible(c, 'chain', id, s.chains[id]);

/** `entry` as a reference of a resource of `tenant`: visible to the caller and of that tenant. */
export function ownedBy<T extends { tenant: string }>(c: Caller, tenant: string, kind: string, id: string, entry: T | undefined): T {
  const found = visible(c, kind, id, entry);
  if (found.tenant !== tenant) throw new NotFoundError(kind, id);
  return found;
}

export const portOf = (s: ChainingState, c: Caller, tenant: string, id: string): FollowedPort => ownedBy(c, tenant, 'port', id, s.ports[id]);
export const routerOf = (s: ChainingState, c: Caller, tenant: string, id: string): RouterEntry => ownedBy(c, tenant, 'router', id, s.routers[id]);

/** The expected version of a new resource's aggregate: 0, or the last sequence of a deleted one of the same id. */
export const newVersion = (s: ChainingState, kind: ResourceKind, id: string): number => s.tombstones[`${kind}/${id}`] ?? 0;

/** The first id that occurs twice, if any. */
export function firstRepeated(ids: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}
