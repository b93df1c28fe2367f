/** Command name → decider. Each is pure: (state, command, context) → one decision or a typed error. */
import type { ChainingCommand, ChainingCommandName } from '@strata/contracts';
import type { ChainingState } from '../state.js';
import { createChain, deleteChain, updateChain } from './chain.js';
import { createClassifier, deleteClassifier, updateClassifier } from './classifier.js';
import { createFunction, deleteFunction, updateFunction } from './function.js';
import { createGroup, deleteGroup, updateGroup } from './group.js';
import type { CommandContext, Decision } from './types.js';

type Decider<K extends ChainingCommandName> = (state: ChainingState, cmd: ChainingCommand<K>, ctx: CommandContext) => Decision;

export const deciders: { [K in ChainingCommandName]: Decider<K> } = {
  'function.create': createFunction,
  'function.update': updateFunction,
  'function.delete': deleteFunction,
  'group.create': createGroup,
  'group.update': updateGroup,
  'group.delete': deleteGroup,
  'classifier.create': createClassifier,
  'classifier.update': updateClassifier,
  'classifier.delete': deleteClassifier,
  'chain.create': createChain,
  'chain.update': updateChain,
  'chain.delete': deleteChain,
};

export { activateNewGroup, settleActiveMember } from './group.js';
export { decideAddressOwner, decideHealth, decideLegLost, reportStanding, type AddressOwner, type HealthReport, type ReportStanding } from './observations.js';
export * from './types.js';
