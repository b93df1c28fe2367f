/**
 * The monitored hardware_vtep tables as typed rows (pure: from a Replica's
 * tables). Only the columns the controller uses; MACs lower-cased.
 */
import { mapOf, optional, setOf, uuidOf } from './atoms.js';
import type { Replica, Row } from './replica.js';

export interface PhysicalSwitchRow { uuid: string; name: string; ports: string[]; tunnelIps: string[] }
export interface PhysicalPortRow { uuid: string; name: string; vlanBindings: Map<number, string> }
export interface LogicalSwitchRow {
  uuid: string;
  name: string;
  tunnelKey: number | undefined;
  /** `source_node`, `service_node`, or undefined: unset (the switch's default, service_node in the VTEP schema). */
  replicationMode: string | undefined;
}
export interface LocatorRow { uuid: string; encapsulation: string; dstIp: string; tunnelKey: number | undefined }
export interface UcastRow { uuid: string; mac: string; logicalSwitch: string; locator: string; ip: string }
export interface McastRow { uuid: string; mac: string; logicalSwitch: string; locatorSet: string }

export interface VtepView {
  switches: PhysicalSwitchRow[];
  ports: Map<string, PhysicalPortRow>;
  logicalSwitches: Map<string, LogicalSwitchRow>;
  locators: Map<string, LocatorRow>;
  /** Locator set uuid → its locators' uuids. */
  locatorSets: Map<string, string[]>;
  ucastRemote: UcastRow[];
  mcastRemote: McastRow[];
  ucastLocal: UcastRow[];
  mcastLocal: McastRow[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const uuids = (v: unknown): string[] => setOf(v).map(uuidOf).filter((u): u is string => u !== undefined);
const rows = <T>(r: Replica, table: string, f: (uuid: string, row: Row) => T): T[] => [...r.table(table)].map(([u, row]) => f(u, row));

const ucast = (uuid: string, row: Row): UcastRow => ({
  uuid,
  mac: str(row.MAC).toLowerCase(),
  logicalSwitch: uuidOf(row.logical_switch) ?? '',
  locator: uuidOf(row.locator) ?? '',
  ip: str(row.ipaddr),
});
const mcast = (uuid: string, row: Row): McastRow => ({
  uuid,
  mac: str(row.MAC).toLowerCase(),
  logicalSwitch: uuidOf(row.logical_switch) ?? '',
  locatorSet: uuidOf(row.locator_set) ?? '',
});

export function vtepView(r: Replica): VtepView {
  return {
    switches: rows(r, 'Physical_Switch', (uuid, row) => ({ uuid, name: str(row.name), ports: uuids(row.ports), tunnelIps: setOf(row.tunnel_ips).map(str) })),
    ports: new Map(
      rows(r, 'Physical_Port', (uuid, row): [string, PhysicalPortRow] => [
        uuid,
        { uuid, name: str(row.name), vlanBindings: new Map(mapOf(row.vlan_bindings).map(([k, v]) => [Number(k), uuidOf(v) ?? ''])) },
      ]),
    ),
    logicalSwitches: new Map(rows(r, 'Logical_Switch', (uuid, row): [string, LogicalSwitchRow] => [
        uuid,
        { uuid, name: str(row.name), tunnelKey: int(optional(row.tunnel_key)), replicationMode: optional(row.replication_mode) as string | undefined },
      ])),
    locators: new Map(
      rows(r, 'Physical_Locator', (uuid, row): [string, LocatorRow] => [
        uuid,
        { uuid, encapsulation: str(row.encapsulation_type), dstIp: str(row.dst_ip), tunnelKey: int(optional(row.tunnel_key)) },
      ]),
    ),
    locatorSets: new Map(rows(r, 'Physical_Locator_Set', (uuid, row): [string, string[]] => [uuid, uuids(row.locators)])),
    ucastRemote: rows(r, 'Ucast_Macs_Remote', ucast),
    mcastRemote: rows(r, 'Mcast_Macs_Remote', mcast),
    ucastLocal: rows(r, 'Ucast_Macs_Local', ucast),
    mcastLocal: rows(r, 'Mcast_Macs_Local', mcast),
  };
}
