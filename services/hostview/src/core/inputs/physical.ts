/**
 * The physical input node: what gateway devices learned on their physical
 * side (libs/contracts/src/physical.ts), from whichever context learned it:
 * the BGP gateway from an `evpn` switch (`bgp.PhysicalMacLearned` …), the
 * vtep controller from an `ovsdb` switch (the same event names in its own
 * context). Events are matched by the part of their type after the context
 * (`PhysicalMacLearned`, …), so another context's events feed the same fold
 * once hostview follows it (model.ts `hostviewFollows`); `applyPhysicalMac`
 * and `applyPhysicalVtep` are the fold itself for any other caller.
 *
 * A device's MAC on a VNI is one endpoint, `phys-<deviceId>-<vni>-<mac
 * without colons>` (the VNI too: one switch may see one MAC on two VLANs),
 * with every IP its records name (a switch sends a MAC-only route
 * and one MAC/IP route per address); its VTEP is the device's. The families
 * turn endpoints into RemoteEndpoints (`<H>.ep.phys-…`) and VTEPs into the
 * network's `floodVteps` on every host that needs the network with that VNI.
 */
import type { PhysicalVtep, ZoneMac } from '@strata/contracts';
import { addTo, removeFrom } from '../indexes.js';
import type { Change, Model } from '../model.js';

export interface PhysicalEndpoint {
  id: string;
  deviceId: string;
  vni: number;
  mac: string;
  vtep: string;
  /** record key (`ip` or '') → the record: the endpoint's IPs are the records' */
  records: Map<string, ZoneMac>;
}

export interface PhysicalModel {
  /** VNI (as text: the model's keys are strings, model-codec.ts) → endpoint id → endpoint. */
  endpoints: Map<string, Map<string, PhysicalEndpoint>>;
  /** VNI (as text) → `${deviceId} ${vtep}` → VTEP: the devices flooding the VNI. */
  vteps: Map<string, Map<string, string>>;
  /** Group tag (as text) → ids of the endpoints a record of which carries it (another zone's members, inputs/zone-members.ts). */
  tagged: Map<string, Set<string>>;
}

export const emptyPhysicalModel = (): PhysicalModel => ({ endpoints: new Map(), vteps: new Map(), tagged: new Map() });

export interface PhysicalChange {
  /** Endpoint ids whose value can have changed. */
  endpoints: Set<string>;
  /** VNIs whose endpoints or flood VTEPs changed. */
  vnis: Set<number>;
  /** Endpoint id → the group tags it had or has, of endpoints with tags whose records changed (their memberships can have). */
  tags: Map<string, Set<number>>;
}

export const emptyPhysicalChange = (): PhysicalChange => ({ endpoints: new Set(), vnis: new Set(), tags: new Map() });

/** The event names (after the context) this node folds. */
export const PHYSICAL_EVENT_NAMES = ['PhysicalMacLearned', 'PhysicalMacWithdrawn', 'PhysicalVtepLearned', 'PhysicalVtepWithdrawn'] as const;
export type PhysicalEventName = (typeof PHYSICAL_EVENT_NAMES)[number];

export type PhysicalInputEvent =
  | { type: `${string}.PhysicalMacLearned` | `${string}.PhysicalMacWithdrawn`; data: ZoneMac }
  | { type: `${string}.PhysicalVtepLearned` | `${string}.PhysicalVtepWithdrawn`; data: PhysicalVtep };

/** `bgp.PhysicalMacLearned` → `PhysicalMacLearned`; undefined for anything else. */
export function physicalEventName(type: string): PhysicalEventName | undefined {
  const name = type.slice(type.indexOf('.') + 1);
  return (PHYSICAL_EVENT_NAMES as readonly string[]).includes(name) ? (name as PhysicalEventName) : undefined;
}

/** The endpoint id of a device's MAC on a VNI: `phys-<deviceId>-<vni>-<mac without colons>`. */
export const physicalEndpointId = (deviceId: string, vni: number, mac: string): string => `phys-${deviceId}-${vni}-${mac.toLowerCase().replaceAll(':', '')}`;

/** The VNI of a physical endpoint id (its second-last part), or undefined for an id that is not one. */
export function vniOfEndpointId(id: string): number | undefined {
  const parts = id.split('-');
  const vni = Number(parts[parts.length - 2]);
  return id.startsWith('phys-') && parts.length >= 4 && Number.isInteger(vni) ? vni : undefined;
}

export function applyPhysicalEvent(model: Model, event: PhysicalInputEvent, change: Change): void {
  const name = physicalEventName(event.type);
  if (name === 'PhysicalMacLearned' || name === 'PhysicalMacWithdrawn') applyPhysicalMac(model, name === 'PhysicalMacLearned', event.data as ZoneMac, change);
  else if (name) applyPhysicalVtep(model, name === 'PhysicalVtepLearned', event.data as PhysicalVtep, change);
}

/** A device learned (or lost) a MAC, with one IP or none, on a VNI. */
export function applyPhysicalMac(model: Model, learned: boolean, m: ZoneMac, change: Change): void {
  const id = physicalEndpointId(m.deviceId, m.vni, m.mac);
  const vni = String(m.vni);
  const byId = model.physical.endpoints.get(vni) ?? new Map<string, PhysicalEndpoint>();
  let ep = byId.get(id);
  const before = ep ? endpointTags(ep) : new Set<number>();
  if (learned) {
    if (!ep) byId.set(id, (ep = { id, deviceId: m.deviceId, vni: m.vni, mac: m.mac.toLowerCase(), vtep: m.vtep, records: new Map() }));
    ep.vtep = m.vtep;
    ep.records.set(m.ip ?? '', { ...m });
    model.physical.endpoints.set(vni, byId);
  } else if (ep) {
    ep.records.delete(m.ip ?? '');
    if (ep.records.size === 0) byId.delete(id);
    if (byId.size === 0) model.physical.endpoints.delete(vni);
  }
  change.physical.endpoints.add(id);
  change.physical.vnis.add(m.vni);
  const after = ep && byId.get(id) === ep ? endpointTags(ep) : new Set<number>();
  if (before.size > 0 || after.size > 0) {
    for (const t of before) if (!after.has(t)) removeFrom(model.physical.tagged, String(t), id);
    for (const t of after) addTo(model.physical.tagged, String(t), id);
    change.physical.tags.set(id, new Set([...(change.physical.tags.get(id) ?? []), ...before, ...after]));
  }
}

/** The group tags of an endpoint's records (another zone's port: its groups' tags there). */
export function endpointTags(ep: PhysicalEndpoint): Set<number> {
  const tags = new Set<number>();
  for (const r of ep.records.values()) for (const t of r.groupTags ?? []) tags.add(t);
  return tags;
}

/** A device floods (or no longer floods) a VNI to and from its VTEP. */
export function applyPhysicalVtep(model: Model, learned: boolean, v: PhysicalVtep, change: Change): void {
  const vni = String(v.vni);
  const byKey = model.physical.vteps.get(vni) ?? new Map<string, string>();
  const key = `${v.deviceId} ${v.vtep}`;
  if (learned) byKey.set(key, v.vtep);
  else byKey.delete(key);
  if (byKey.size > 0) model.physical.vteps.set(vni, byKey);
  else model.physical.vteps.delete(vni);
  change.physical.vnis.add(v.vni);
}

/** The endpoint's IPs: its records' addresses, sorted. */
export const endpointIps = (ep: PhysicalEndpoint): string[] => [...ep.records.keys()].filter((ip) => ip !== '').sort();

/** The endpoint with this id on the VNI, if any. */
export function physicalEndpoint(model: Model, vni: number, id: string): PhysicalEndpoint | undefined {
  return model.physical.endpoints.get(String(vni))?.get(id);
}

/** The networks carrying a VNI (one, unless a log holds a duplicate). */
export function networksOfVni(model: Model, vni: number): string[] {
  const out: string[] = [];
  for (const n of model.ipam.networks.values()) if (n.vni === vni) out.push(n.id);
  return out;
}

/** The VTEPs of the devices flooding the network's VNI. */
export function physicalFloodVteps(model: Model, vni: number): Iterable<string> {
  return model.physical.vteps.get(String(vni))?.values() ?? [];
}

/** The physical endpoints on the network's VNI. */
export function physicalEndpointsOf(model: Model, vni: number): Iterable<PhysicalEndpoint> {
  return model.physical.endpoints.get(String(vni))?.values() ?? [];
}
