/**
 * state + event → state, applied in stream order by every instance and by
 * replay; it mutates the state it is given (owned by one projection).
 *
 * Two inputs: nat's own events and IPAM's port, floating-IP and router
 * events. nats-server 2.9 consumers take one filter subject, so (as in
 * secgroup) the projection reads the whole domain stream and `applyStored`
 * picks what it needs: one total order across both inputs and one sequence
 * for read-your-writes.
 */
import { ipamEvents, IPAM_CONTEXT, NAT_CONTEXT, natEvents, type IpamEvent, type NatEvent } from '@strata/contracts';
import type { StoredEvent } from '@strata/eventlog';
import type { FloatingIpEntry, NatState, RouterEntry } from './state.js';

/** The IPAM events nat follows. Others (and IPAM event types newer than this build) are skipped undecoded. */
const IPAM_FOLLOWED = new Set([
  'ipam.PortCreated',
  'ipam.PortBound',
  'ipam.PortDeleted',
  'ipam.FloatingIpAllocated',
  'ipam.FloatingIpReleased',
  'ipam.RouterCreated',
  'ipam.RouterDeleted',
]);

type IpamFollowed = Extract<
  IpamEvent,
  {
    type:
      | 'ipam.PortCreated'
      | 'ipam.PortBound'
      | 'ipam.PortDeleted'
      | 'ipam.FloatingIpAllocated'
      | 'ipam.FloatingIpReleased'
      | 'ipam.RouterCreated'
      | 'ipam.RouterDeleted';
  }
>;

/** Is this stored event one nat's state depends on? */
export function isRelevant(event: Pick<StoredEvent, 'type' | 'aggregate'>): boolean {
  if (event.aggregate.context === NAT_CONTEXT) return true;
  return event.aggregate.context === IPAM_CONTEXT && IPAM_FOLLOWED.has(event.type);
}

/** Fold one stored event of the domain stream: decode what nat reads, skip the rest (only its sequence counts). */
export function applyStored(state: NatState, stored: StoredEvent): NatState {
  if (!isRelevant(stored)) {
    state.seq = stored.seq;
    return state;
  }
  if (stored.aggregate.context === NAT_CONTEXT) return evolve(state, natEvents.decode(stored));
  return evolve(state, ipamEvents.decode(stored) as IpamFollowed);
}

export function evolve(state: NatState, event: NatEvent | IpamFollowed): NatState {
  state.seq = event.seq;
  switch (event.type) {
    case 'nat.FloatingIpAssociated': {
      const f = state.floatingIps[event.data.floatingIpId];
      if (!f) break;
      unlink(state, f);
      const { portId, networkId, fixedIp } = event.data;
      f.association = { portId, networkId, fixedIp };
      f.version = event.seq;
      (state.portFloatingIps[portId] ??= {})[f.id] = fixedIp;
      break;
    }
    case 'nat.FloatingIpDisassociated': {
      const f = state.floatingIps[event.data.floatingIpId];
      if (!f) break;
      unlink(state, f);
      f.association = null;
      f.version = event.seq;
      break;
    }
    case 'nat.ExternalGatewayEnabled':
    case 'nat.ExternalGatewayDisabled': {
      const r = state.routers[event.data.routerId];
      if (!r) break;
      r.externalGateway = event.type === 'nat.ExternalGatewayEnabled';
      r.version = event.seq;
      break;
    }
    case 'ipam.PortCreated': {
      const d = event.data;
      state.ports[d.portId] = {
        id: d.portId,
        tenant: event.tenant,
        // Ports live on their network's aggregate, `ipam.network.<networkId>`.
        networkId: event.aggregate.id,
        fixedIps: d.fixedIps.map((f) => f.ip),
        hostId: d.hostId,
      };
      break;
    }
    case 'ipam.PortBound': {
      const p = state.ports[event.data.portId];
      if (p) p.hostId = event.data.hostId;
      break;
    }
    case 'ipam.PortDeleted':
      // Its associations stay until the reactor ends them (portFloatingIps still names them).
      delete state.ports[event.data.portId];
      break;
    case 'ipam.FloatingIpAllocated': {
      const d = event.data;
      const old = state.floatingIps[d.floatingIpId];
      // The envelope's tenant is the allocating tenant (IPAM's decider sets it so).
      state.floatingIps[d.floatingIpId] = { id: d.floatingIpId, tenant: event.tenant, address: d.address, live: true, association: null, version: old?.version ?? 0 };
      break;
    }
    case 'ipam.FloatingIpReleased': {
      const f = state.floatingIps[event.data.floatingIpId];
      if (!f) break;
      f.live = false;
      forgetIfDone(state.floatingIps, f, f.association === null);
      break;
    }
    case 'ipam.RouterCreated': {
      const old = state.routers[event.data.routerId];
      state.routers[event.data.routerId] = { id: event.data.routerId, tenant: event.tenant, live: true, externalGateway: false, version: old?.version ?? 0 };
      break;
    }
    case 'ipam.RouterDeleted': {
      const r = state.routers[event.data.routerId];
      if (!r) break;
      r.live = false;
      forgetIfDone(state.routers, r, !r.externalGateway);
      break;
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

/** Remove the floating IP from its port's index. */
function unlink(state: NatState, f: FloatingIpEntry): void {
  const portId = f.association?.portId;
  if (portId === undefined) return;
  const m = state.portFloatingIps[portId];
  if (!m) return;
  delete m[f.id];
  for (const _ in m) return;
  delete state.portFloatingIps[portId];
}

/** A resource IPAM removed with nothing left to undo and no nat history is dropped; otherwise it stays as a tombstone. */
function forgetIfDone<T extends FloatingIpEntry | RouterEntry>(map: Record<string, T>, entry: T, nothingToUndo: boolean): void {
  if (nothingToUndo && entry.version === 0) delete map[entry.id];
}
