/**
 * What one `ovsdb` device's hardware_vtep database should hold, from the
 * state alone (pure): a logical switch per network bound on the device
 * (tunnel_key = its VNI), the bindings' (port, VLAN) → logical switch, a
 * remote unicast MAC per port on those networks that is bound to a
 * hypervisor (its MAC, IPv4 address and the hypervisor's VTEP), and the
 * hypervisors with ports on each network as its "unknown-dst" flood set.
 */
import type { VtepState } from './state.js';

/** The prefix that marks a logical switch as the controller's: it deletes only those, never the switch's own. */
export const LS_PREFIX = 'strata-';
export const logicalSwitchName = (networkId: string): string => `${LS_PREFIX}${networkId}`;
export const isOurs = (lsName: string): boolean => lsName.startsWith(LS_PREFIX);

export interface RemoteMac {
  logicalSwitch: string;
  mac: string;
  /** '' when the port has no IPv4 address. */
  ip: string;
  vtep: string;
}

export interface DesiredDevice {
  /** Logical switch name → VNI. */
  logicalSwitches: Map<string, number>;
  /** Physical port name → VLAN → logical switch name. */
  bindings: Map<string, Map<number, string>>;
  /** `${logicalSwitch}|${mac}` → the remote MAC. */
  ucast: Map<string, RemoteMac>;
  /** Logical switch name → the hypervisors' VTEPs to flood unknown destinations to. */
  flood: Map<string, Set<string>>;
}

export const remoteKey = (logicalSwitch: string, mac: string): string => `${logicalSwitch}|${mac}`;

export function desiredDevice(state: VtepState, deviceId: string): DesiredDevice {
  const d: DesiredDevice = { logicalSwitches: new Map(), bindings: new Map(), ucast: new Map(), flood: new Map() };
  const networks = new Map<string, string>();
  for (const b of Object.values(state.bindings)) {
    if (b.deviceId !== deviceId) continue;
    const ls = logicalSwitchName(b.networkId);
    networks.set(b.networkId, ls);
    d.logicalSwitches.set(ls, b.vni);
    let vlans = d.bindings.get(b.port);
    if (!vlans) d.bindings.set(b.port, (vlans = new Map()));
    vlans.set(b.vlan, ls);
  }
  for (const ls of networks.values()) d.flood.set(ls, new Set());
  for (const port of Object.values(state.ports)) {
    const ls = networks.get(port.networkId);
    const vtep = port.hostId === null ? undefined : state.hypervisors[port.hostId];
    if (ls === undefined || vtep === undefined) continue;
    const mac = port.mac.toLowerCase();
    const ip = port.fixedIps.find((f) => !f.ip.includes(':'))?.ip ?? '';
    d.ucast.set(remoteKey(ls, mac), { logicalSwitch: ls, mac, ip, vtep });
    d.flood.get(ls)?.add(vtep);
  }
  return d;
}

/** The logical switches the other devices on `deviceId`'s database (same target) want: not this device's pass to delete. */
export function desiredElsewhere(state: VtepState, deviceId: string): Set<string> {
  const target = state.devices[deviceId]?.target;
  const out = new Set<string>();
  for (const b of Object.values(state.bindings)) {
    if (b.deviceId !== deviceId && state.devices[b.deviceId]?.target === target) out.add(logicalSwitchName(b.networkId));
  }
  return out;
}
