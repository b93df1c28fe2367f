/**
 * The vtep controller's state: a read model of what IPAM owns that an
 * `ovsdb` gateway device needs (its devices, their bindings, hypervisors'
 * VTEPs, ports), and what the controller has recorded as learned from each
 * device (its own events). Plain JSON records, so a replay equals the
 * projection.
 */
import type { FollowedPorts, PhysicalMac, PhysicalVtep } from '@strata/contracts';

export interface OvsdbDevice {
  id: string;
  name: string;
  vtepIp: string;
  /** Its hardware_vtep database: `tcp:<ip>:<port>` (connection.ts). */
  target: string;
}

export interface BindingEntry {
  id: string;
  deviceId: string;
  port: string;
  vlan: number;
  networkId: string;
  vni: number;
}

export interface VtepState {
  seq: number;
  /** `ovsdb` gateway devices only. */
  devices: Record<string, OvsdbDevice>;
  /** Bindings on `ovsdb` devices. */
  bindings: Record<string, BindingEntry>;
  /** hostId → its VTEP address. */
  hypervisors: Record<string, string>;
  ports: FollowedPorts;
  /** deviceId → macKey → what the log says it learned (withdrawn ones leave). */
  macs: Record<string, Record<string, PhysicalMac>>;
  /** deviceId → vtepKey → flood entries it learned. */
  vteps: Record<string, Record<string, PhysicalVtep>>;
  /** The version of each device's `vtep.device.<id>` aggregate (the executor's expected version). */
  versions: Record<string, number>;
}

export const initialState = (): VtepState => ({ seq: 0, devices: {}, bindings: {}, hypervisors: {}, ports: {}, macs: {}, vteps: {}, versions: {} });

export const macKey = (m: Pick<PhysicalMac, 'vni' | 'mac'>): string => `${m.vni}|${m.mac}`;
export const vtepKey = (v: Pick<PhysicalVtep, 'vni' | 'vtep'>): string => `${v.vni}|${v.vtep}`;
