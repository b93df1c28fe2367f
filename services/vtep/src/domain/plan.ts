/**
 * The reconciler's pure step: the one transaction that makes a device's
 * hardware_vtep database hold what `desiredDevice` says, given the rows it
 * holds now (`VtepView`). Empty when nothing differs, so reconciling twice
 * writes once. The controller touches only its own logical switches
 * (`strata-…`), their MACs and the VLAN bindings pointing at them; the
 * switch's own rows, ports and other controllers' switches stay. One
 * database may serve several devices (physical switches): each device's
 * pass binds only its switch's ports and leaves the logical switches only
 * the others want to their passes.
 *
 * Physical locators are shared rows, unique per (encapsulation, IP, key):
 * an existing one is referenced, a missing one inserted once. Locator sets
 * are immutable (OVSDB garbage-collects unreferenced ones): a changed flood
 * set is a new set.
 */
import { namedUuid, ovsMap, ovsSet, uuid, type Ref } from '../ovsdb/atoms.js';
import type { PhysicalSwitchRow, VtepView } from '../ovsdb/vtep-view.js';
import { isOurs, remoteKey, type DesiredDevice } from './desired.js';

export const VXLAN = 'vxlan_over_ipv4';
export const UNKNOWN_DST = 'unknown-dst';
/**
 * The switch replicates broadcast and unknown unicast to every VTEP of the
 * flood set itself. The schema's default, `service_node`, sends them to one
 * locator of the set and expects it to replicate: Strata's hypervisors do
 * not (each replicates only what its own ports send), so under that default
 * a server's ARP reached one hypervisor only.
 */
export const SOURCE_NODE = 'source_node';

export interface Plan {
  ops: unknown[];
  /** What the desired state names but the database lacks (a bound port the switch does not have): reported, not written. */
  problems: string[];
}

/** The device's physical switch: the one whose tunnel IPs include the device's VTEP, else the only one. */
export function deviceSwitch(view: VtepView, vtepIp: string): PhysicalSwitchRow | undefined {
  return view.switches.find((s) => s.tunnelIps.includes(vtepIp)) ?? (view.switches.length === 1 ? view.switches[0] : undefined);
}

const where = (id: string) => [['_uuid', '==', uuid(id)]];

/**
 * `shared`: logical switches other devices served by the same database want
 * (desiredElsewhere): left to their passes, never deleted by this one.
 */
export function planDevice(view: VtepView, desired: DesiredDevice, vtepIp: string, shared: ReadonlySet<string> = new Set()): Plan {
  /** Rows on this logical switch are this pass's to write or delete. */
  const managed = (name: string): boolean => isOurs(name) && (desired.logicalSwitches.has(name) || !shared.has(name));
  const ops: unknown[] = [];
  const problems: string[] = [];
  const inserts: unknown[] = [];
  let names = 0;
  const fresh = (kind: string) => `${kind}${++names}`;

  // Locators: one per VTEP address, reused.
  const locatorByIp = new Map<string, Ref>();
  for (const l of view.locators.values()) if (l.encapsulation === VXLAN && l.tunnelKey === undefined) locatorByIp.set(l.dstIp, uuid(l.uuid));
  const locator = (ip: string): Ref => {
    let ref = locatorByIp.get(ip);
    if (!ref) {
      const name = fresh('loc');
      inserts.push({ op: 'insert', table: 'Physical_Locator', row: { encapsulation_type: VXLAN, dst_ip: ip }, 'uuid-name': name });
      locatorByIp.set(ip, (ref = namedUuid(name)));
    }
    return ref;
  };

  // Logical switches.
  const lsByName = new Map<string, Ref>();
  const lsName = new Map<string, string>();
  for (const ls of view.logicalSwitches.values()) {
    lsName.set(ls.uuid, ls.name);
    const vni = desired.logicalSwitches.get(ls.name);
    if (vni !== undefined) {
      lsByName.set(ls.name, uuid(ls.uuid));
      if (ls.tunnelKey !== vni || ls.replicationMode !== SOURCE_NODE) {
        ops.push({ op: 'update', table: 'Logical_Switch', where: where(ls.uuid), row: { tunnel_key: vni, replication_mode: SOURCE_NODE } });
      }
    } else if (managed(ls.name)) {
      ops.push({ op: 'delete', table: 'Logical_Switch', where: where(ls.uuid) });
    }
  }
  for (const [name, vni] of desired.logicalSwitches) {
    if (lsByName.has(name)) continue;
    const n = fresh('ls');
    inserts.push({ op: 'insert', table: 'Logical_Switch', row: { name, tunnel_key: vni, replication_mode: SOURCE_NODE, description: 'Strata network' }, 'uuid-name': n });
    lsByName.set(name, namedUuid(n));
  }
  /** Rows on a logical switch the controller is deleting go with it (they would keep it referenced). */
  const onDeletedSwitch = (lsUuid: string): boolean => {
    const name = lsName.get(lsUuid);
    return name !== undefined && managed(name) && !desired.logicalSwitches.has(name);
  };
  for (const r of view.ucastLocal) if (onDeletedSwitch(r.logicalSwitch)) ops.push({ op: 'delete', table: 'Ucast_Macs_Local', where: where(r.uuid) });
  for (const r of view.mcastLocal) if (onDeletedSwitch(r.logicalSwitch)) ops.push({ op: 'delete', table: 'Mcast_Macs_Local', where: where(r.uuid) });

  // VLAN bindings on the device's ports.
  const sw = deviceSwitch(view, vtepIp);
  if (!sw) problems.push(`no physical switch with tunnel IP ${vtepIp} (and not exactly one switch) in the database`);
  const portsByName = new Map([...(sw?.ports ?? [])].map((id) => view.ports.get(id)).filter((p) => p !== undefined).map((p) => [p.name, p]));
  if (sw) {
    for (const name of desired.bindings.keys()) if (!portsByName.has(name)) problems.push(`switch ${sw.name} has no port ${name}`);
  }
  for (const port of portsByName.values()) {
    const want = new Map<number, Ref>();
    // Bindings to switches that are not ours stay, unless ours claims the VLAN.
    for (const [vlan, ls] of port.vlanBindings) if (!managed(lsName.get(ls) ?? '')) want.set(vlan, uuid(ls));
    for (const [vlan, ls] of desired.bindings.get(port.name) ?? []) want.set(vlan, lsByName.get(ls) as Ref);
    const same = want.size === port.vlanBindings.size && [...want].every(([vlan, ref]) => ref[0] === 'uuid' && port.vlanBindings.get(vlan) === ref[1]);
    if (!same) ops.push({ op: 'update', table: 'Physical_Port', where: where(port.uuid), row: { vlan_bindings: ovsMap([...want].sort(([a], [b]) => a - b)) } });
  }
  // A port of another switch bound (by hand) to a logical switch being deleted would keep it referenced: unbind it there.
  const ours = new Set([...portsByName.values()].map((p) => p.uuid));
  for (const port of view.ports.values()) {
    if (ours.has(port.uuid) || ![...port.vlanBindings.values()].some(onDeletedSwitch)) continue;
    const keep = [...port.vlanBindings].filter(([, ls]) => !onDeletedSwitch(ls)).map(([vlan, ls]): [number, Ref] => [vlan, uuid(ls)]);
    ops.push({ op: 'update', table: 'Physical_Port', where: where(port.uuid), row: { vlan_bindings: ovsMap(keep.sort(([a], [b]) => a - b)) } });
  }

  // Remote unicast MACs.
  const seen = new Set<string>();
  for (const r of view.ucastRemote) {
    const name = lsName.get(r.logicalSwitch);
    if (name === undefined || !managed(name)) continue;
    const key = remoteKey(name, r.mac);
    const want = seen.has(key) ? undefined : desired.ucast.get(key);
    if (!want) {
      ops.push({ op: 'delete', table: 'Ucast_Macs_Remote', where: where(r.uuid) });
      continue;
    }
    seen.add(key);
    if (view.locators.get(r.locator)?.dstIp !== want.vtep || r.ip !== want.ip) {
      ops.push({ op: 'update', table: 'Ucast_Macs_Remote', where: where(r.uuid), row: { locator: locator(want.vtep), ipaddr: want.ip } });
    }
  }
  for (const [key, m] of desired.ucast) {
    if (seen.has(key)) continue;
    ops.push({ op: 'insert', table: 'Ucast_Macs_Remote', row: { MAC: m.mac, logical_switch: lsByName.get(m.logicalSwitch), locator: locator(m.vtep), ipaddr: m.ip } });
  }

  // Flood sets ("unknown-dst").
  const floodDone = new Set<string>();
  const newSet = (vteps: Set<string>): Ref => {
    const n = fresh('set');
    inserts.push({ op: 'insert', table: 'Physical_Locator_Set', row: { locators: ovsSet([...vteps].sort().map(locator)) }, 'uuid-name': n });
    return namedUuid(n);
  };
  for (const r of view.mcastRemote) {
    const name = lsName.get(r.logicalSwitch);
    if (name === undefined || !managed(name)) continue;
    const want = r.mac === UNKNOWN_DST && !floodDone.has(name) ? desired.flood.get(name) : undefined;
    if (!want || want.size === 0) {
      ops.push({ op: 'delete', table: 'Mcast_Macs_Remote', where: where(r.uuid) });
      continue;
    }
    floodDone.add(name);
    const have = new Set((view.locatorSets.get(r.locatorSet) ?? []).map((l) => view.locators.get(l)?.dstIp));
    if (have.size !== want.size || ![...want].every((v) => have.has(v))) {
      ops.push({ op: 'update', table: 'Mcast_Macs_Remote', where: where(r.uuid), row: { locator_set: newSet(want) } });
    }
  }
  for (const [name, vteps] of desired.flood) {
    if (floodDone.has(name) || vteps.size === 0) continue;
    ops.push({ op: 'insert', table: 'Mcast_Macs_Remote', row: { MAC: UNKNOWN_DST, logical_switch: lsByName.get(name), locator_set: newSet(vteps) } });
  }

  // Named rows first: later operations refer to them.
  return { ops: ops.length === 0 && inserts.length === 0 ? [] : [...inserts, ...ops], problems };
}
