/**
 * Chaining's resources as an audit shows them (the `history` query,
 * @strata/service-kit's `resourceHistory`): each is exactly what its
 * `get` query answers (queries.ts), taken from a state folded from its own
 * aggregate's events alone.
 *
 * That is sound because every field of the four views comes from the
 * resource's own `chaining.<kind>.<id>` aggregate: health changes are
 * written to the function's aggregate and active-member changes to the
 * group's (decide/observations.ts, decide/active.ts). What chaining follows
 * of other contexts (IPAM's ports and routers, secgroup's groups) is only
 * referred to by id (legs, router, classifier endpoints), never copied into
 * a view, so nothing is left out.
 */
import type { AuditKind } from '@strata/contracts';
import type { OwnedView } from '@strata/service-kit';
import { chainView, classifierView, functionView, groupView } from './queries.js';
import type { ChainingState } from './state.js';

// A copy: a version must not change when the fold later changes the state it was taken from.
const owned = <V extends { tenant: string }>(entry: V | undefined, view: (e: V) => object): OwnedView | null =>
  entry ? { tenant: entry.tenant, view: structuredClone(view(entry)) as Record<string, unknown> } : null;

/** The resource of `kind` in a chaining state, as its `get` query shows it to an admin; null when it does not exist there. */
export function chainingResourceView(s: ChainingState, kind: AuditKind, id: string): OwnedView | null {
  switch (kind) {
    case 'sfc-function':
      return owned(s.functions[id], functionView);
    case 'sfc-group':
      return owned(s.groups[id], groupView);
    case 'sfc-classifier':
      return owned(s.classifiers[id], classifierView);
    case 'sfc-chain':
      return owned(s.chains[id], chainView);
    default:
      return null;
  }
}
