/**
 * The port reactor: secgroup's process manager for IPAM's port lifecycle,
 * on the generic reactor of @strata/service-kit (one durable consumer shared
 * by all instances, effects appended with ids derived from the decision).
 *
 *   ipam.PortCreated → put the port in its tenant's default group (creating
 *                      the group first if needed), unless its groups are set
 *   ipam.PortDeleted → PortForgotten on the port's secgroup aggregate
 */
import { ipamEvents } from '@strata/contracts';
import { Reactor, type ReactorOptions } from '@strata/service-kit';
import { reactToPortCreated, reactToPortDeleted, type NewSecgroupEvent } from '../domain/decide/index.js';
import type { SecgroupState } from '../domain/state.js';

export const PORT_REACTOR_DURABLE = 'secgroup-port-reactor';
/** Where IPAM's port events live (nats-server 2.9 takes one filter per consumer). */
export const PORT_REACTOR_FILTER = 'strata.evt.ipam.network.>';

type Options = Omit<ReactorOptions<SecgroupState, NewSecgroupEvent>, 'durable' | 'filter' | 'actor' | 'deciderFor'> & { durable?: string };

export class PortReactor extends Reactor<SecgroupState, NewSecgroupEvent> {
  constructor(options: Options) {
    super({
      ...options,
      durable: options.durable ?? PORT_REACTOR_DURABLE,
      filter: PORT_REACTOR_FILTER,
      actor: 'secgroup',
      deciderFor: (stored) => {
        if (stored.type !== 'ipam.PortCreated' && stored.type !== 'ipam.PortDeleted') return null;
        const event = ipamEvents.decode(stored);
        if (event.type === 'ipam.PortCreated') return (s) => reactToPortCreated(s, event.data.portId);
        if (event.type === 'ipam.PortDeleted') return (s) => reactToPortDeleted(s, event.data.portId, event.tenant);
        return null;
      },
    });
  }
}
