/**
 * state + event → state, applied in stream order by every instance and by
 * replay; it mutates the state it is given (owned by one projection).
 *
 * Two inputs: nat's own events and IPAM's port lifecycle (folded by the
 * shared `applyPortEvent`), floating-IP and router events, read in one total
 * order (see `follow` in @strata/service-kit).
 */
import {
  applyPortEvent,
  ipamEvents,
  IPAM_CONTEXT,
  IPAM_PORT_EVENT_TYPES,
  NAT_CONTEXT,
  natEvents,
  type IpamEvent,
  type IpamPortEvent,
  type NatEvent,
} from '@strata/contracts';
import { eventTypes, follow, ownEvents } from '@strata/service-kit';
import type { FloatingIpEntry, NatState, RouterEntry } from './state.js';

/** What nat's state is folded from: its own events and IPAM's ports, floating IPs and routers. */
export const natFollows = follow(
  ownEvents(NAT_CONTEXT, natEvents),
  eventTypes(IPAM_CONTEXT, ipamEvents, [
    ...IPAM_PORT_EVENT_TYPES,
    'ipam.FloatingIpAllocated',
    'ipam.FloatingIpReleased',
    'ipam.RouterCreated',
    'ipam.RouterDeleted',
    'ipam.PoolCreated',
    'ipam.PoolDeleted',
  ]),
);

type IpamFollowed =
  | IpamPortEvent
  | Extract<IpamEvent, { type: 'ipam.FloatingIpAllocated' | 'ipam.FloatingIpReleased' | 'ipam.RouterCreated' | 'ipam.RouterDeleted' | 'ipam.PoolCreated' | 'ipam.PoolDeleted' }>;

/** Is this stored event one nat's state depends on? */
export const isRelevant = natFollows.isRelevant;

/** Fold one stored event of the domain stream: decode what nat reads, skip the rest (only its sequence counts). */
export const applyStored = natFollows.fold(evolve);

export function evolve(state: NatState, event: NatEvent | IpamFollowed): NatState {
  state.seq = event.seq;
  switch (event.type) {
    case 'nat.FloatingIpAssociated': {
      const f = floatingIpOf(state, event);
      unlink(state, f);
      const { portId, networkId, fixedIp } = event.data;
      f.association = { portId, networkId, fixedIp };
      f.revision += 1;
      f.version = event.seq;
      (state.portFloatingIps[portId] ??= {})[f.id] = fixedIp;
      break;
    }
    case 'nat.FloatingIpDisassociated': {
      const f = floatingIpOf(state, event);
      unlink(state, f);
      f.association = null;
      f.revision += 1;
      f.version = event.seq;
      break;
    }
    case 'nat.ExternalGatewayEnabled':
    case 'nat.ExternalGatewayDisabled': {
      const r = routerOf(state, event);
      r.externalGateway = event.type === 'nat.ExternalGatewayEnabled';
      if (event.type === 'nat.ExternalGatewayEnabled' && event.data.externalNetworkId !== undefined) r.externalNetworkId = event.data.externalNetworkId;
      else delete r.externalNetworkId;
      r.version = event.seq;
      break;
    }
    case 'ipam.PortCreated':
    case 'ipam.PortUpdated':
    case 'ipam.PortBound':
    case 'ipam.PortDeleted':
      // A deleted port's associations stay until the reactor ends them (portFloatingIps still names them).
      applyPortEvent(state.ports, event);
      break;
    case 'ipam.FloatingIpAllocated': {
      const d = event.data;
      const old = state.floatingIps[d.floatingIpId];
      // The envelope's tenant is the allocating tenant (IPAM's decider sets it so). An id allocated again
      // keeps the association nat's log still holds (see `keptByNat`).
      state.floatingIps[d.floatingIpId] = {
        id: d.floatingIpId,
        tenant: event.tenant,
        address: d.address,
        live: true,
        association: old?.association ?? null,
        revision: old?.revision ?? 1,
        version: old?.version ?? 0,
      };
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
      // A router created again keeps the gateway nat's log still holds (see `keptByNat`).
      state.routers[event.data.routerId] = {
        id: event.data.routerId,
        tenant: event.tenant,
        live: true,
        externalGateway: old?.externalGateway ?? false,
        ...(old?.externalNetworkId !== undefined ? { externalNetworkId: old.externalNetworkId } : {}),
        version: old?.version ?? 0,
      };
      break;
    }
    case 'ipam.RouterDeleted': {
      const r = state.routers[event.data.routerId];
      if (!r) break;
      r.live = false;
      forgetIfDone(state.routers, r, !r.externalGateway);
      break;
    }
    case 'ipam.PoolCreated':
      if (event.data.purpose === 'floating-ip') state.floatingIpPools[event.data.poolId] = event.data.name;
      break;
    case 'ipam.PoolDeleted':
      delete state.floatingIpPools[event.data.poolId];
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as { type: string }).type}`);
    }
  }
  return state;
}

/*
 * keptByNat: what nat's state says of an association or a gateway is what
 * nat's own log says — IPAM's events make, hide and drop the entry that
 * holds it, never change it. So a floating IP allocated again (or a router
 * created again) under an id whose association (gateway) nat has not ended
 * keeps it: the reactor ends one when IPAM removes its resource, so this
 * happens only when the id came back before that (the same tenant re-sending
 * its request id more than 24 h later) or when a decision landed after the
 * removal (below). Hosts keep realising it until nat's event ends it; a
 * reset here would hide it from nat's queries and leave `portFloatingIps`
 * naming a floating IP without association (blocking that fixed IP). It also
 * makes each association and gateway a function of its nat aggregate
 * alone, which `history` relies on (domain/history.ts).
 *
 * A nat event about a floating IP or router the state does not hold: IPAM's
 * event that would have made the entry is not in the fold — a `history`
 * answer folds the nat aggregate alone — or the entry was dropped (released
 * or deleted with no nat history) before a decision taken against an older
 * state landed. Either way the event happened: it makes a tombstone (not
 * live, so queries and commands still do not see it) that holds it, with the
 * event's tenant (deciders write as the resource's) and address. In the
 * live fold every other nat event finds the entry IPAM's event made, so
 * nothing else changes: before, such an event was ignored, leaving nat's
 * state short of what its log (and hostview, which applies it) says.
 */
function floatingIpOf(state: NatState, event: Extract<NatEvent, { type: 'nat.FloatingIpAssociated' | 'nat.FloatingIpDisassociated' }>): FloatingIpEntry {
  const id = event.data.floatingIpId;
  return (state.floatingIps[id] ??= { id, tenant: event.tenant, address: event.data.address, live: false, association: null, revision: 1, version: 0 });
}

function routerOf(state: NatState, event: Extract<NatEvent, { type: 'nat.ExternalGatewayEnabled' | 'nat.ExternalGatewayDisabled' }>): RouterEntry {
  const id = event.data.routerId;
  return (state.routers[id] ??= { id, tenant: event.tenant, live: false, externalGateway: false, version: 0 });
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
