/**
 * chaining's reactor on the generic Reactor of @strata/service-kit (one
 * durable consumer shared by all instances; effects appended with ids
 * derived from the decision, so N instances write each once):
 *
 *   ipam.AddressPairOwnerChanged → ActiveFunctionChanged (garp) when the
 *     address is an active-standby member's virtual IP and the new owner
 *     one of its legs
 *   ipam.PortDeleted, ipam.PortBound to no host → FunctionHealthChanged
 *     (port-unbound) for each function with the port as a leg, then
 *     ActiveFunctionChanged (health) where it was an active-standby group's
 *     active member
 */
import { ipamEvents } from '@strata/contracts';
import { Reactor, type ReactorOptions } from '@strata/service-kit';
import { decideAddressOwner, decideLegLost, type NewChainingEvent } from '../domain/decide/index.js';
import type { ChainingState } from '../domain/state.js';

export const CHAINING_REACTOR_DURABLE = 'chaining-reactor';
export const CHAINING_REACTOR_FILTER = 'strata.evt.ipam.>';

const REACTED = new Set(['ipam.AddressPairOwnerChanged', 'ipam.PortDeleted', 'ipam.PortBound']);

type Options = Omit<ReactorOptions<ChainingState, NewChainingEvent>, 'durable' | 'filter' | 'actor' | 'deciderFor'>;

export class ChainingReactor extends Reactor<ChainingState, NewChainingEvent> {
  constructor(options: Options) {
    super({
      ...options,
      durable: CHAINING_REACTOR_DURABLE,
      filter: CHAINING_REACTOR_FILTER,
      actor: 'chaining',
      deciderFor: (stored) => {
        // Skip undecoded: most of IPAM's events (and types newer than this build) are not ours.
        if (!REACTED.has(stored.type)) return null;
        const event = ipamEvents.decode(stored);
        if (event.type === 'ipam.AddressPairOwnerChanged') return (s) => decideAddressOwner(s, event.data);
        if (event.type === 'ipam.PortDeleted') return (s) => decideLegLost(s, event.data.portId);
        // A move to another host is no loss: the new host's agent checks the appliance from then on.
        if (event.type === 'ipam.PortBound' && event.data.hostId === null) return (s) => decideLegLost(s, event.data.portId);
        return null;
      },
    });
  }
}
