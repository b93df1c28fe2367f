/**
 * The IPAM port lifecycle as a fold of its own: a port is created (or
 * re-created under its id), bound to a host or unbound, and deleted. Each
 * step returns the port before and after, which is all the rest of the model
 * needs to keep its indexes (ports per host, per network, per device; group
 * members per host). Kept apart from the other IPAM records so that a shared
 * fold of the port lifecycle (the one secgroup, nat and bgp-gateway follow)
 * can take its place: whatever replaces it must give the same PortStep.
 *
 * Records are replaced, never changed in place, so a step's `before` stays
 * what it was.
 */

export interface FixedIpRec {
  subnetId: string;
  ip: string;
}

export interface PortRec {
  id: string;
  networkId: string;
  tenant: string;
  mac: string;
  fixedIps: FixedIpRec[];
  /** Host the port is bound to, or null (unbound). */
  hostId: string | null;
  /** The VM (device) the port belongs to: what BGP appliance routes name. */
  deviceId: string;
}

/**
 * What one step did to one port. `created`: a new port, or one that replaced
 * a port of the same id (`before` set: its addresses may differ); `bound`:
 * the same port moved to another host or none; `deleted`.
 */
export type PortLifecycle = 'created' | 'bound' | 'deleted';

export interface PortStep {
  lifecycle: PortLifecycle;
  before: PortRec | null;
  after: PortRec | null;
}

export type Ports = Map<string, PortRec>;

/** A port created: it replaces any port with its id. */
export function createPort(ports: Ports, port: PortRec): PortStep {
  const before = ports.get(port.id) ?? null;
  ports.delete(port.id);
  ports.set(port.id, port);
  return { lifecycle: 'created', before, after: port };
}

/** A port bound to a host (null: unbound); undefined when the port is unknown or already there. */
export function bindPort(ports: Ports, portId: string, hostId: string | null): PortStep | undefined {
  const before = ports.get(portId);
  if (!before || before.hostId === hostId) return undefined;
  const after = { ...before, hostId };
  ports.set(portId, after);
  return { lifecycle: 'bound', before, after };
}

/** A port deleted; undefined when it is unknown. */
export function deletePort(ports: Ports, portId: string): PortStep | undefined {
  const before = ports.get(portId);
  if (!before) return undefined;
  ports.delete(portId);
  return { lifecycle: 'deleted', before, after: null };
}
