/** Command name → decider. Each is pure: (state, command, context) → one decision or a typed error. */
import type { NatCommand, NatCommandName } from '@strata/contracts';
import type { NatState } from '../state.js';
import { associateFloatingIp, disassociateFloatingIp } from './floating-ip.js';
import { setRouterGateway } from './router.js';
import type { CommandContext, Decision } from './types.js';

type Decider<K extends NatCommandName> = (state: NatState, cmd: NatCommand<K>, ctx: CommandContext) => Decision;

export const deciders: { [K in NatCommandName]: Decider<K> } = {
  'floatingip.associate': associateFloatingIp,
  'floatingip.disassociate': disassociateFloatingIp,
  'router.setGateway': setRouterGateway,
};

export { reactToFloatingIpReleased, reactToPortAddresses, reactToRouterDeleted } from './reactor.js';
export * from './types.js';
