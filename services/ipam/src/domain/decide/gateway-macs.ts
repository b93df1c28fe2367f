/**
 * What a `host` gateway device's agent learned behind its VLAN bindings
 * (observations.ts `GatewayMacsObservation`, a snapshot of every binding it
 * realises) → `ipam.PhysicalMacLearned`/`ipam.PhysicalMacWithdrawn`, one
 * per difference from what IPAM recorded (docs/architecture.md, "Gateway
 * devices, bindings and the software gateway").
 *
 * Accepted only from the hypervisor that is a `host` device, and only when
 * every binding it names is that device's: a report naming another
 * device's binding is refused whole (what a compromised or stale agent
 * would send; the next report after it caught up is accepted). A binding
 * of the device the report leaves out has learned nothing; MACs recorded
 * for a binding that is gone or now on another device are withdrawn with
 * any accepted report and by IPAM's sweep. On the cloud aggregate: decided
 * against the same version as the bindings. Pure.
 */
import { CLOUD_AGGREGATE, type GatewayMacsObservation } from '@strata/contracts';
import { uuidFromHash } from '@strata/eventlog';
import { canonicalAddress } from '@strata/netaddr';
import { gatewayMacKey, type GatewayMacEntry, type IpamState } from '../state.js';
import type { Append, Decision } from './types.js';

/** Why a report changes nothing (the label of the ignored-reports counter). */
export type GatewayMacsIgnored = 'reporter-mismatch' | 'not-a-gateway-host' | 'foreign-binding' | 'bad-address';

export type GatewayMacsVerdict =
  | { kind: 'ignore'; reason: GatewayMacsIgnored }
  /** What IPAM recorded is what the report says. */
  | { kind: 'unchanged' }
  /** The first difference (withdrawals before learnings, each in key order): record it, then judge again. */
  | { kind: 'change'; decision: Append };

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function judgeGatewayMacs(state: IpamState, reporter: string, report: GatewayMacsObservation): GatewayMacsVerdict {
  if (report.hostId !== reporter) return { kind: 'ignore', reason: 'reporter-mismatch' };
  const device = Object.values(state.cloud.gatewayDevices).find((d) => d.kind === 'host' && d.hostId === reporter);
  if (!device) return { kind: 'ignore', reason: 'not-a-gateway-host' };
  const wanted = new Map<string, Map<string, GatewayMacEntry>>();
  for (const { bindingId, macs } of report.bindings) {
    const b = state.cloud.gatewayBindings[bindingId];
    if (!b || b.deviceId !== device.id) return { kind: 'ignore', reason: 'foreign-binding' };
    const records = new Map<string, GatewayMacEntry>();
    for (const m of macs) {
      const mac = m.mac.toLowerCase();
      if (!MAC.test(mac)) return { kind: 'ignore', reason: 'bad-address' };
      const ips: (string | undefined)[] = [];
      for (const ip of m.ips) {
        const canonical = canonicalOrNull(ip);
        if (canonical === null) return { kind: 'ignore', reason: 'bad-address' };
        ips.push(canonical);
      }
      // One record per IP; a MAC with no known IP is one MAC-only record (as a switch's MAC-only route).
      for (const ip of ips.length > 0 ? ips : [undefined]) {
        records.set(gatewayMacKey(mac, ip), { bindingId, deviceId: device.id, vni: b.vni, mac, ...(ip !== undefined ? { ip } : {}), vtep: device.vtepIp });
      }
    }
    wanted.set(bindingId, records);
  }
  const stale = judgeStaleGatewayMacs(state);
  if (stale.kind === 'change') return stale;
  const recorded = state.cloud.gatewayMacs ?? {};
  for (const bindingId of Object.keys(recorded).sort()) {
    const stillHere = wanted.get(bindingId);
    for (const key of Object.keys(recorded[bindingId]!).sort()) {
      const have = recorded[bindingId]![key]!;
      if (have.deviceId === device.id && stillHere?.get(key)?.vtep !== have.vtep) return change(state, 'ipam.PhysicalMacWithdrawn', have, state.cloud.gatewayBindings[bindingId]?.tenant);
    }
  }
  for (const bindingId of [...wanted.keys()].sort()) {
    const records = wanted.get(bindingId)!;
    for (const key of [...records.keys()].sort()) {
      if (!recorded[bindingId]?.[key]) return change(state, 'ipam.PhysicalMacLearned', records.get(key)!, state.cloud.gatewayBindings[bindingId]!.tenant);
    }
  }
  return { kind: 'unchanged' };
}

/**
 * MACs recorded for a binding that is gone, or now on another device (or
 * VNI): withdrawn whoever reports, and by IPAM's own sweep
 * (app/gateway-macs-reports.ts), so a deleted or moved binding's MACs go
 * even when its gateway host never reports again.
 */
export function judgeStaleGatewayMacs(state: IpamState): { kind: 'unchanged' } | { kind: 'change'; decision: Append } {
  const recorded = state.cloud.gatewayMacs ?? {};
  for (const bindingId of Object.keys(recorded).sort()) {
    const b = state.cloud.gatewayBindings[bindingId];
    for (const key of Object.keys(recorded[bindingId]!).sort()) {
      const have = recorded[bindingId]![key]!;
      if (!b || b.deviceId !== have.deviceId || b.vni !== have.vni) return change(state, 'ipam.PhysicalMacWithdrawn', have, b?.tenant);
    }
  }
  return { kind: 'unchanged' };
}

/** The sweep's decider: the next stale MAC's withdrawal, or nothing. */
export const decideStaleGatewayMacs = (state: IpamState): Decision => {
  const v = judgeStaleGatewayMacs(state);
  return v.kind === 'change' ? v.decision : { kind: 'done', resourceId: 'gateway-macs' };
};

function change(state: IpamState, type: 'ipam.PhysicalMacLearned' | 'ipam.PhysicalMacWithdrawn', data: GatewayMacEntry, tenant: string | undefined): { kind: 'change'; decision: Append } {
  return {
    kind: 'change',
    decision: { kind: 'append', aggregate: CLOUD_AGGREGATE, expectedVersion: state.cloud.version, tenant: tenant ?? '_system', resourceId: data.bindingId, event: { type, data: { ...data } } },
  };
}

function canonicalOrNull(ip: string): string | null {
  try {
    return canonicalAddress(ip);
  } catch {
    return null;
  }
}

/** The decider the executor runs for a report (re-judged on every attempt): the next difference, or nothing. */
export const decideGatewayMacs =
  (reporter: string, report: GatewayMacsObservation) =>
  (state: IpamState): Decision => {
    const v = judgeGatewayMacs(state, reporter, report);
    return v.kind === 'change' ? v.decision : { kind: 'done', resourceId: reporter };
  };

/** Derived from the decision: two IPAM instances recording the same difference on the same version write one event. */
export function gatewayMacEventId(d: Append): string {
  const e = d.event;
  if (e.type !== 'ipam.PhysicalMacLearned' && e.type !== 'ipam.PhysicalMacWithdrawn') throw new Error(`not a gateway MAC event: ${e.type}`);
  return uuidFromHash(`${e.type} ${e.data.bindingId} ${e.data.mac} ${e.data.ip ?? ''} ${d.expectedVersion}`);
}
