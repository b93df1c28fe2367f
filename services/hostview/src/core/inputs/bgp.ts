/**
 * The BGP input node: the application routes appliances announced and the
 * gateway accepted, folded from the gateway's route observations (its
 * configuration is not the hypervisors' business). A route is realised on
 * the device's ports (IPAM's device index) it was announced from.
 */
import type { BgpEvent } from '@strata/contracts';
import { addTo, removeFrom } from '../indexes.js';
import type { Change, Model, Slice } from '../model.js';

export interface AppRouteRec {
  id: string;
  prefix: string;
  /** The appliance's address it was announced from (a fixed IP of one of the device's ports). */
  nextHop: string;
  deviceId: string;
  /**
   * The tenant owning the appliance port the gateway learned it from (the event's tenant): only that
   * tenant's ports with the device id get the route. `_system`: recorded before the gateway said (any tenant).
   */
  tenant: string;
}

export interface BgpModel {
  /** Accepted appliance routes, by route id (`bgp.route.<id>`). */
  appRoutes: Map<string, AppRouteRec>;
  /** device id → ids of its accepted routes. */
  deviceRoutes: Map<string, Set<string>>;
}

export const emptyBgpModel = (): BgpModel => ({ appRoutes: new Map(), deviceRoutes: new Map() });

export interface BgpChange {
  /** Ports whose announced routes can have changed (every port of the route's device). */
  ports: Set<string>;
}

export const emptyBgpChange = (): BgpChange => ({ ports: new Set() });

/** The gateway's events hostview reads: its route observations (model.ts follows exactly these). */
export const BGP_INPUT_TYPES = ['bgp.RouteLearned', 'bgp.RouteWithdrawn'] as const;

export type BgpInputEvent = Slice<Extract<BgpEvent, { type: (typeof BGP_INPUT_TYPES)[number] }>>;

export const isBgpInput = (type: string): type is BgpInputEvent['type'] => (BGP_INPUT_TYPES as readonly string[]).includes(type);

export function applyBgpEvent(model: Model, event: BgpInputEvent, change: Change): void {
  const bgp = model.bgp;
  const id = event.aggregate.id;
  dropRoute(model, id, change);
  if (event.type === 'bgp.RouteWithdrawn') return;
  const d = event.data;
  if (d.deviceId === null) return; // a border route: nothing for hypervisors
  bgp.appRoutes.set(id, { id, prefix: d.prefix, nextHop: d.nextHop, deviceId: d.deviceId, tenant: event.tenant });
  addTo(bgp.deviceRoutes, d.deviceId, id);
  markDevice(model, d.deviceId, change);
}

/** Forget an accepted route; the ports of its device are recomputed. */
function dropRoute(model: Model, id: string, change: Change): void {
  const old = model.bgp.appRoutes.get(id);
  if (!old) return;
  model.bgp.appRoutes.delete(id);
  removeFrom(model.bgp.deviceRoutes, old.deviceId, id);
  markDevice(model, old.deviceId, change);
}

function markDevice(model: Model, deviceId: string, change: Change): void {
  for (const p of model.ipam.devicePorts.get(deviceId) ?? []) change.bgp.ports.add(p);
}
