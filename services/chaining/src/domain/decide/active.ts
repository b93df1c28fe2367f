/** The one way an active-standby group's active member changes: an `ActiveFunctionChanged` with its reason and observer. */
import { functionGroupAggregate, type ActiveReason } from '@strata/contracts';
import type { GroupEntry } from '../state.js';
import { appendTo, type Append } from './types.js';

/** The event that makes `functionId` the group's active member, or undefined when it already is. */
export function activation(g: GroupEntry, functionId: string | null, reason: ActiveReason, observedBy: string, detail: string): Append | undefined {
  if (g.activeFunctionId === functionId) return undefined;
  return appendTo(functionGroupAggregate(g.id), g, {
    type: 'chaining.ActiveFunctionChanged',
    data: { groupId: g.id, functionId, previousFunctionId: g.activeFunctionId, reason, observedBy, detail },
  });
}
