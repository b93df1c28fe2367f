/** Command name → decider. Each is pure: (state, command, context) → one decision or a typed error. */
import type { SecgroupCommand, SecgroupCommandName } from '@strata/contracts';
import type { SecgroupState } from '../state.js';
import { createGroup, deleteGroup, ensureDefault, updateGroup } from './group.js';
import { setPortGroups, setPortSecurity } from './port.js';
import { createRule, deleteRule } from './rule.js';
import type { CommandContext, Decision } from './types.js';

type Decider<K extends SecgroupCommandName> = (state: SecgroupState, cmd: SecgroupCommand<K>, ctx: CommandContext) => Decision;

export const deciders: { [K in SecgroupCommandName]: Decider<K> } = {
  'group.create': createGroup,
  'group.update': updateGroup,
  'group.delete': deleteGroup,
  'group.ensureDefault': ensureDefault,
  'rule.create': createRule,
  'rule.delete': deleteRule,
  'port.setGroups': setPortGroups,
  'port.setSecurity': setPortSecurity,
};

export { ensureDefaultGroup } from './group.js';
export { reactToPortCreated, reactToPortDeleted } from './reactor.js';
export * from './types.js';
