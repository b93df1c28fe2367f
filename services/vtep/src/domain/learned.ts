/**
 * What a device's database says sits behind it, and the next event that
 * brings the log in line with it (pure). Local unicast MACs become
 * PhysicalMacs, the locators of a local "unknown-dst" PhysicalVtep flood
 * entries — only on the logical switches of networks bound on this device
 * (the VNI is the binding's); rows on any other logical switch are ignored
 * and counted, never written.
 */
import { vtepDeviceAggregate, type PhysicalMac, type PhysicalVtep } from '@strata/contracts';
import type { Decision } from '@strata/service-kit';
import type { VtepView } from '../ovsdb/vtep-view.js';
import type { DesiredDevice } from './desired.js';
import { UNKNOWN_DST } from './plan.js';
import { macKey, vtepKey, type VtepState } from './state.js';

export type NewVtepEvent =
  | { type: 'vtep.PhysicalMacLearned' | 'vtep.PhysicalMacWithdrawn'; data: PhysicalMac }
  | { type: 'vtep.PhysicalVtepLearned' | 'vtep.PhysicalVtepWithdrawn'; data: PhysicalVtep };

export interface Observed {
  macs: Map<string, PhysicalMac>;
  vteps: Map<string, PhysicalVtep>;
  /** Local rows on logical switches of no network bound on this device. */
  ignored: number;
}

/**
 * `tunnelIps`: the device's own (its physical switch's `tunnel_ips`, else its
 * VTEP): a local row behind another switch served by the same database is
 * that device's to report, not this one's (not counted as ignored either).
 */
export function observeDevice(view: VtepView, desired: DesiredDevice, deviceId: string, tunnelIps: ReadonlySet<string>): Observed {
  const o: Observed = { macs: new Map(), vteps: new Map(), ignored: 0 };
  const vniOf = (lsUuid: string): number | undefined => {
    const name = view.logicalSwitches.get(lsUuid)?.name;
    return name === undefined ? undefined : desired.logicalSwitches.get(name);
  };
  for (const r of view.ucastLocal) {
    const vni = vniOf(r.logicalSwitch);
    const vtep = view.locators.get(r.locator)?.dstIp;
    if (vtep !== undefined && !tunnelIps.has(vtep)) continue;
    if (vni === undefined || !vtep) {
      o.ignored++;
      continue;
    }
    const m: PhysicalMac = { deviceId, vni, mac: r.mac, vtep, ...(r.ip ? { ip: r.ip } : {}) };
    o.macs.set(macKey(m), m);
  }
  for (const r of view.mcastLocal) {
    const vni = vniOf(r.logicalSwitch);
    if (vni === undefined || r.mac !== UNKNOWN_DST) {
      o.ignored++;
      continue;
    }
    for (const l of view.locatorSets.get(r.locatorSet) ?? []) {
      const vtep = view.locators.get(l)?.dstIp;
      if (vtep && tunnelIps.has(vtep)) o.vteps.set(vtepKey({ vni, vtep }), { deviceId, vni, vtep });
    }
  }
  return o;
}

const sameMac = (a: PhysicalMac, b: PhysicalMac): boolean => a.vtep === b.vtep && a.ip === b.ip;

/**
 * The next event for `deviceId`: withdrawals first (a MAC that moved to
 * another IP or VTEP is withdrawn, then learned anew), in key order, so
 * every instance decides the same. `observed` null: the device is gone or
 * no longer ours; everything recorded for it is withdrawn.
 */
export function recordObserved(state: VtepState, deviceId: string, observed: Observed | null): Decision<NewVtepEvent> {
  const macs = state.macs[deviceId] ?? {};
  const vteps = state.vteps[deviceId] ?? {};
  const append = (event: NewVtepEvent): Decision<NewVtepEvent> => ({
    kind: 'append',
    aggregate: vtepDeviceAggregate(deviceId),
    expectedVersion: state.versions[deviceId] ?? 0,
    tenant: '_system',
    event,
    resourceId: deviceId,
  });
  const sorted = <T>(r: Record<string, T> | Map<string, T>) => (r instanceof Map ? [...r] : Object.entries(r)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  for (const [k, m] of sorted(macs)) {
    const now = observed?.macs.get(k);
    if (!now || !sameMac(now, m)) return append({ type: 'vtep.PhysicalMacWithdrawn', data: m });
  }
  for (const [k, v] of sorted(vteps)) if (!observed?.vteps.has(k)) return append({ type: 'vtep.PhysicalVtepWithdrawn', data: v });
  if (observed) {
    for (const [k, m] of sorted(observed.macs)) if (!macs[k]) return append({ type: 'vtep.PhysicalMacLearned', data: m });
    for (const [k, v] of sorted(observed.vteps)) if (!vteps[k]) return append({ type: 'vtep.PhysicalVtepLearned', data: v });
  }
  return { kind: 'done', resourceId: deviceId };
}
