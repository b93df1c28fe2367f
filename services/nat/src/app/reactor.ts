/**
 * nat's reactor on the generic Reactor of @strata/service-kit (one durable
 * consumer shared by all instances; effects appended with ids derived from
 * the decision, so N instances write each once):
 *
 *   ipam.PortDeleted        → FloatingIpDisassociated (port-deleted) for each of its floating IPs
 *   ipam.PortUpdated        → FloatingIpDisassociated (fixed-ip-released) for each whose fixed IP it released
 *   ipam.FloatingIpReleased → FloatingIpDisassociated (floating-ip-released)
 *   ipam.RouterDeleted      → ExternalGatewayDisabled, if it was enabled
 */
import { ipamEvents } from '@strata/contracts';
import { Reactor, type ReactorOptions } from '@strata/service-kit';
import { reactToFloatingIpReleased, reactToPortAddresses, reactToRouterDeleted, type NewNatEvent } from '../domain/decide/index.js';
import type { NatState } from '../domain/state.js';

export const NAT_REACTOR_DURABLE = 'nat-reactor';
/** The three events live on three IPAM aggregate kinds (network, cloud, router); one filter covers them. */
export const NAT_REACTOR_FILTER = 'strata.evt.ipam.>';

const REACTED = new Set(['ipam.PortDeleted', 'ipam.PortUpdated', 'ipam.FloatingIpReleased', 'ipam.RouterDeleted']);

type Options = Omit<ReactorOptions<NatState, NewNatEvent>, 'durable' | 'filter' | 'actor' | 'deciderFor'>;

export class NatReactor extends Reactor<NatState, NewNatEvent> {
  constructor(options: Options) {
    super({
      ...options,
      durable: NAT_REACTOR_DURABLE,
      filter: NAT_REACTOR_FILTER,
      actor: 'nat',
      deciderFor: (stored) => {
        // Skip undecoded: most of IPAM's events (and types newer than this build) are not ours.
        if (!REACTED.has(stored.type)) return null;
        const event = ipamEvents.decode(stored);
        if (event.type === 'ipam.PortDeleted') return (s) => reactToPortAddresses(s, event.data.portId);
        if (event.type === 'ipam.PortUpdated' && event.data.fixedIps?.released.length) return (s) => reactToPortAddresses(s, event.data.portId);
        if (event.type === 'ipam.FloatingIpReleased') return (s) => reactToFloatingIpReleased(s, event.data.floatingIpId);
        if (event.type === 'ipam.RouterDeleted') return (s) => reactToRouterDeleted(s, event.data.routerId);
        return null;
      },
    });
  }
}
