/**
 * Recording what `evpn` switches announce (the physical side of a bound
 * segment), as routes.ts records appliances: pure functions turn one
 * switch's EVPN table into the target record per MAC / flood VTEP, and
 * decide the event that brings the log there.
 *
 *   type 2 → PhysicalMacLearned {deviceId, vni, mac, ip?, vtep}
 *   type 3 → PhysicalVtepLearned {deviceId, vni, vtep}
 *
 * Only routes for a VNI bound on that device (a gateway binding of a network
 * with that VNI) whose VTEP is the device's own (its next hop for a type 2,
 * its originator for a type 3) are recorded; anything else is refused
 * (`unbound-vni`, `foreign-vtep`): counted and logged by each instance, never
 * written (a switch could otherwise fill the log, or point a segment's MACs
 * at any machine). The VTEP recorded is the device's, from IPAM: Strata's own
 * knowledge. Events carry the binding's tenant (the network's).
 *
 * Both gateway instances compute the same targets and the events carry ids
 * derived from the decision (routeEventId), so a pair records each change
 * once.
 */
import { bgpPhysicalAggregate, physicalMacId, physicalVtepId, type PhysicalVtep, type ZoneMac } from '@strata/contracts';
import { evpnKey, type EvpnRoute } from '../evpn.js';
import { isZoneDeviceId } from '../federation.js';
import type { EvpnNeighbour, Neighbour } from '../neighbours.js';
import type { BgpState, PhysicalEntry } from '../state.js';
import type { Decision, NewBgpEvent } from './types.js';

export type PhysicalRecord = { tenant: string } & ({ kind: 'mac'; data: ZoneMac } | { kind: 'vtep'; data: PhysicalVtep });

/** physical id → the record it should have (learned), or null (withdrawn). */
export type PhysicalTargets = Map<string, { record: PhysicalRecord; learned: boolean }>;

export type EvpnRejectReason = 'unbound-vni' | 'foreign-vtep';

export interface RejectedEvpnRoute {
  peer: string;
  deviceId: string;
  /** evpnKey of the route. */
  key: string;
  vni: number;
  reason: EvpnRejectReason;
}

export const recordId = (r: PhysicalRecord): string =>
  r.kind === 'mac' ? physicalMacId(r.data.deviceId, r.data.vni, r.data.mac, r.data.ip) : physicalVtepId(r.data.deviceId, r.data.vni, r.data.vtep);

/** The tenant of the binding of `vni` on `deviceId`, or undefined when none binds it. */
export function bindingTenant(state: BgpState, deviceId: string, vni: number): string | undefined {
  return Object.values(state.fabric.bindings).find((b) => b.deviceId === deviceId && b.vni === vni)?.tenant;
}

/**
 * Targets for one switch's routes. `complete`: the routes are the switch's
 * whole table of a settled session, so recorded entries missing from it are
 * withdrawn; otherwise only what is announced counts.
 */
export function observeSwitch(state: BgpState, n: EvpnNeighbour, routes: readonly EvpnRoute[], complete: boolean): { targets: PhysicalTargets; rejected: RejectedEvpnRoute[] } {
  const targets: PhysicalTargets = new Map();
  const rejected: RejectedEvpnRoute[] = [];
  const device = state.fabric.gatewayDevices[n.deviceId];
  const vtep = device?.vtepIp ?? '';
  for (const r of routes) {
    const tenant = bindingTenant(state, n.deviceId, r.vni);
    const reject = (reason: EvpnRejectReason): void => void rejected.push({ peer: n.address, deviceId: n.deviceId, key: evpnKey(r), vni: r.vni, reason });
    if (tenant === undefined) {
      reject('unbound-vni');
      continue;
    }
    if ((r.type === 'mac-ip' ? r.nextHop : r.vtep) !== vtep) {
      reject('foreign-vtep');
      continue;
    }
    const record: PhysicalRecord =
      r.type === 'mac-ip'
        ? { tenant, kind: 'mac', data: { deviceId: n.deviceId, vni: r.vni, mac: r.mac, ...(r.ip ? { ip: r.ip } : {}), vtep } }
        : { tenant, kind: 'vtep', data: { deviceId: n.deviceId, vni: r.vni, vtep } };
    targets.set(recordId(record), { record, learned: true });
  }
  if (complete) {
    for (const e of Object.values(state.physical)) if (e.learned && e.data.deviceId === n.deviceId && !targets.has(e.id)) targets.set(e.id, { record: e, learned: false });
  }
  return { targets, rejected };
}

/** Learned records of devices that are no longer `evpn` neighbours, or of VNIs no longer bound on them: withdrawn. */
export function orphanPhysical(state: BgpState, neighbours: ReadonlyMap<string, Neighbour>): PhysicalTargets {
  const switches = new Set([...neighbours.values()].filter((n) => n.kind === 'evpn').map((n) => n.deviceId));
  const out: PhysicalTargets = new Map();
  for (const e of Object.values(state.physical)) {
    if (!e.learned || isZoneDeviceId(e.data.deviceId)) continue; // a remote zone's: decide/federation.ts
    if (!switches.has(e.data.deviceId) || bindingTenant(state, e.data.deviceId, e.data.vni) === undefined) out.set(e.id, { record: e, learned: false });
  }
  return out;
}

const sameRecord = (e: PhysicalEntry, r: PhysicalRecord): boolean => e.kind === r.kind && e.tenant === r.tenant && JSON.stringify(e.data) === JSON.stringify(r.data);

/** The event that brings one record to its target, or done. */
export function recordPhysical(state: BgpState, id: string, target: { record: PhysicalRecord; learned: boolean }): Decision {
  const entry = state.physical[id];
  if (target.learned ? entry?.learned === true && sameRecord(entry, target.record) : entry?.learned !== true) return { kind: 'done', resourceId: id };
  const r = target.learned ? target.record : entry!;
  const event: NewBgpEvent =
    r.kind === 'mac'
      ? { type: target.learned ? 'bgp.PhysicalMacLearned' : 'bgp.PhysicalMacWithdrawn', data: r.data }
      : { type: target.learned ? 'bgp.PhysicalVtepLearned' : 'bgp.PhysicalVtepWithdrawn', data: r.data };
  return { kind: 'append', aggregate: bgpPhysicalAggregate(id), expectedVersion: entry?.version ?? 0, tenant: r.tenant, resourceId: id, event };
}
