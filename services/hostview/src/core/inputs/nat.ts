/**
 * The NAT input node: floating-IP associations (realised on the host of
 * their port) and the routers with an external gateway (outbound PNAT for
 * their networks' ports), folded from NAT's events.
 */
import type { NatEvent } from '@strata/contracts';
import { addTo, removeFrom } from '../indexes.js';
import type { Change, Slice } from '../model.js';

export interface FloatingIpRec {
  id: string;
  address: string;
  portId: string;
  fixedIp: string;
}

export interface NatModel {
  /** floatingIpId → its association. */
  floatingIps: Map<string, FloatingIpRec>;
  /** portId → the floating IPs associated with it (whether or not the port exists). */
  portFloatingIps: Map<string, Set<string>>;
  /** Routers with an external gateway. */
  gateways: Set<string>;
}

export const emptyNatModel = (): NatModel => ({ floatingIps: new Map(), portFloatingIps: new Map(), gateways: new Set() });

export interface NatChange {
  /** Ports whose floating IPs changed. */
  ports: Set<string>;
  /** Routers whose external gateway was enabled or disabled. */
  routers: Set<string>;
}

export const emptyNatChange = (): NatChange => ({ ports: new Set(), routers: new Set() });

export type NatInputEvent = Slice<NatEvent>;

export function applyNatEvent(nat: NatModel, event: NatInputEvent, change: Change): void {
  const out = change.nat;
  switch (event.type) {
    case 'nat.FloatingIpAssociated': {
      const d = event.data;
      const old = nat.floatingIps.get(d.floatingIpId);
      if (old) {
        removeFrom(nat.portFloatingIps, old.portId, old.id);
        out.ports.add(old.portId);
      }
      nat.floatingIps.set(d.floatingIpId, { id: d.floatingIpId, address: d.address, portId: d.portId, fixedIp: d.fixedIp });
      addTo(nat.portFloatingIps, d.portId, d.floatingIpId);
      out.ports.add(d.portId);
      break;
    }
    case 'nat.FloatingIpDisassociated': {
      const old = nat.floatingIps.get(event.data.floatingIpId);
      if (!old) break;
      nat.floatingIps.delete(old.id);
      removeFrom(nat.portFloatingIps, old.portId, old.id);
      out.ports.add(old.portId);
      break;
    }
    case 'nat.ExternalGatewayEnabled':
    case 'nat.ExternalGatewayDisabled': {
      const routerId = event.data.routerId;
      const enabled = event.type === 'nat.ExternalGatewayEnabled';
      if (nat.gateways.has(routerId) === enabled) break;
      if (enabled) nat.gateways.add(routerId);
      else nat.gateways.delete(routerId);
      out.routers.add(routerId);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know event ${(unreachable as { type: string }).type}`);
    }
  }
}
