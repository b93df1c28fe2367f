/**
 * IPAM's port lifecycle as another context reads it: the one fold of
 * `ipam.PortCreated` / `ipam.PortUpdated` / `ipam.PortBound` / `ipam.PortDeleted` that every
 * follower of IPAM's ports shares (secgroup, nat, bgp-gateway; hostview's
 * ipam input), instead of each keeping its own copy.
 *
 * It lives beside the events because it is part of their published meaning
 * (what a port is after each of them), depends on nothing but them, and so
 * can be imported by any service, library or test without a cycle or an I/O
 * dependency.
 *
 * The lifecycle (IPAM's deciders guarantee it; the fold tolerates any log):
 *   created  → the port exists on its network (the event's aggregate id),
 *              owned by the event's tenant, with its MAC, device and fixed IPs;
 *   updated  → its fixed IPs (an address moved: the old one is released,
 *              the new one the port's), device, allowed address pairs or
 *              admin state changed (`ipam.PortUpdated`; a change of name or
 *              description alone is no step for a follower);
 *   bound    → its host changes (null: unbound); binding to another host
 *              is a move;
 *   deleted  → it is gone (its addresses are released).
 * A creation of a port that exists (IPAM never writes one) replaces it; a
 * bind or delete of a port that does not exist changes nothing.
 */
import type { AllowedAddressPair } from './address-pairs.js';
import type { IpamEvent } from './events.js';
import type { FixedIp } from './views.js';

/** The IPAM event types of the port lifecycle: what a follower of ports reads. */
export const IPAM_PORT_EVENT_TYPES = ['ipam.PortCreated', 'ipam.PortUpdated', 'ipam.PortBound', 'ipam.PortDeleted'] as const;
export type IpamPortEventType = (typeof IPAM_PORT_EVENT_TYPES)[number];
export type IpamPortEvent = Extract<IpamEvent, { type: IpamPortEventType }>;

/**
 * What the fold reads of a port event: a decoded stored event, or any slimmer
 * event a model keeps (type, data, tenant, sequence, aggregate).
 */
export type PortEvent = SlimPortEvent<IpamPortEvent>;
type SlimPortEvent<E> = E extends IpamPortEvent ? Pick<E, 'type' | 'data' | 'tenant' | 'seq' | 'aggregate'> : never;

/**
 * A port as IPAM's events describe it. Never mutated: each change makes a
 * new value, so the ports a transition names stay as they were. Plain JSON,
 * so a follower's snapshot can hold it.
 */
export interface FollowedPort {
  readonly id: string;
  readonly tenant: string;
  /** Ports live on their network's aggregate, `ipam.network.<networkId>`. */
  readonly networkId: string;
  readonly mac: string;
  /** The VM (or appliance) the port belongs to. */
  readonly deviceId: string;
  /** In IPAM's order (the first IPv4 one is NAT's default translation target). */
  readonly fixedIps: readonly Readonly<FixedIp>[];
  /** Left out when up (true): false, the port is administratively down and passes no traffic. */
  readonly adminStateUp?: false;
  /** The hypervisor it is bound to; null: unbound. */
  readonly hostId: string | null;
  /** Stream sequence of its creation (the earliest claim of an address wins where two ports claim one). */
  readonly createdSeq: number;
  /**
   * Its allowed address pairs; left out when none. Changed by
   * `ipam.PortUpdated` (part of the lifecycle) and by the older
   * `ipam.PortAllowedAddressPairsSet`, current only for a follower that also
   * folds it with `applyAddressPairsEvent` (hostview, chaining).
   */
  readonly allowedAddressPairs?: readonly Readonly<AllowedAddressPair>[];
}

/** portId → port: the table a follower keeps in a snapshotted (JSON) state. */
export type FollowedPorts = Record<string, FollowedPort>;

/** Either table a follower may keep: a JSON record (snapshotted states) or a Map (in-memory models such as hostview's). */
export type PortTable = FollowedPorts | Map<string, FollowedPort>;

/**
 * Which step of the lifecycle: `created` (a new port, or one that replaced a
 * port of the same id: `before` set, its addresses may differ), `updated`
 * (the same port, on the same host, with other addresses, device, pairs or
 * admin state), `bound` (the same port moved to another host or none),
 * `deleted`.
 */
export type PortLifecycle = 'created' | 'updated' | 'bound' | 'deleted';

/** What one event did to one port: the port before and after (null: absent). */
export interface PortTransition {
  readonly lifecycle: PortLifecycle;
  readonly portId: string;
  readonly before: FollowedPort | null;
  readonly after: FollowedPort | null;
}

/**
 * The pure step: the port after `event`, given the port as the follower knew
 * it (undefined: not known). null: the event changed nothing (a bind to the
 * host it is on, a bind or delete of a port not known).
 */
export function portTransition(current: FollowedPort | undefined, event: PortEvent): PortTransition | null {
  const before = current ?? null;
  switch (event.type) {
    case 'ipam.PortCreated': {
      const d = event.data;
      const after: FollowedPort = {
        id: d.portId,
        tenant: event.tenant,
        networkId: event.aggregate.id,
        mac: d.mac,
        deviceId: d.deviceId,
        fixedIps: d.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip })),
        hostId: d.hostId,
        createdSeq: event.seq,
        ...(d.adminStateUp === false ? { adminStateUp: false as const } : {}),
        ...pairsOf(d.allowedAddressPairs),
      };
      return { lifecycle: 'created', portId: d.portId, before, after };
    }
    case 'ipam.PortUpdated':
      return before === null ? null : update(before, event.data);
    case 'ipam.PortBound':
      if (before === null || before.hostId === event.data.hostId) return null;
      return { lifecycle: 'bound', portId: before.id, before, after: { ...before, hostId: event.data.hostId } };
    case 'ipam.PortDeleted':
      return before === null ? null : deletion(before);
    default: {
      const unreachable: never = event;
      throw new Error(`not a port lifecycle event: ${(unreachable as { type: string }).type}`);
    }
  }
}

const deletion = (before: FollowedPort): PortTransition => ({ lifecycle: 'deleted', portId: before.id, before, after: null });

const pairsOf = (pairs: readonly AllowedAddressPair[] | undefined): Pick<FollowedPort, 'allowedAddressPairs'> =>
  pairs?.length ? { allowedAddressPairs: pairs.map((p) => ({ ipAddress: p.ipAddress, macAddress: p.macAddress })) } : {};

type PortUpdate = Extract<IpamPortEvent, { type: 'ipam.PortUpdated' }>['data'];

/** The port after an update of what followers read; null when that is unchanged (only its name or description changed). */
function update(before: FollowedPort, d: PortUpdate): PortTransition | null {
  const { allowedAddressPairs: oldPairs, adminStateUp: oldAdmin, ...rest } = before;
  const adminStateUp = d.adminStateUp ?? oldAdmin ?? true;
  const after: FollowedPort = {
    ...rest,
    ...(d.fixedIps ? { fixedIps: d.fixedIps.after.map((f) => ({ subnetId: f.subnetId, ip: f.ip })) } : {}),
    ...(d.deviceId !== undefined ? { deviceId: d.deviceId } : {}),
    ...(adminStateUp ? {} : { adminStateUp: false as const }),
    ...pairsOf(d.allowedAddressPairs ?? oldPairs),
  };
  // IPAM writes only real changes; the fold tolerates any log.
  const json = JSON.stringify;
  const same =
    json(after.fixedIps) === json(before.fixedIps) &&
    after.deviceId === before.deviceId &&
    after.adminStateUp === before.adminStateUp &&
    json(after.allowedAddressPairs) === json(before.allowedAddressPairs);
  if (same) return null;
  return { lifecycle: 'updated', portId: before.id, before, after };
}

/**
 * Fold one port event into a follower's table (mutating the table, never a
 * port); returns what changed. A created port is (re-)inserted last, so a
 * Map (or a record of non-numeric ids) iterates in the order a fresh replay
 * would give it.
 */
export function applyPortEvent(ports: PortTable, event: PortEvent): PortTransition | null {
  return record(ports, portTransition(lookup(ports, event.data.portId), event));
}

/**
 * Drop a port on the follower's own grounds (e.g. hostview when the port's
 * network is gone): the same step as its deletion. null: not known.
 */
export function removePort(ports: PortTable, portId: string): PortTransition | null {
  const before = lookup(ports, portId);
  return record(ports, before === undefined ? null : deletion(before));
}

function lookup(ports: PortTable, portId: string): FollowedPort | undefined {
  return ports instanceof Map ? ports.get(portId) : Object.hasOwn(ports, portId) ? ports[portId] : undefined;
}

function record(ports: PortTable, t: PortTransition | null): PortTransition | null {
  if (t === null) return null;
  const isMap = ports instanceof Map;
  if (t.lifecycle === 'created' || t.lifecycle === 'deleted') {
    if (isMap) ports.delete(t.portId);
    else delete ports[t.portId];
  }
  if (t.after !== null) {
    if (isMap) ports.set(t.portId, t.after);
    else ports[t.portId] = t.after;
  }
  return t;
}

/** Is this IPAM event one of the port lifecycle? */
export const isPortEvent = (event: IpamEvent): event is IpamPortEvent => (IPAM_PORT_EVENT_TYPES as readonly string[]).includes(event.type);

/** The port's addresses, in IPAM's order. */
export const portAddresses = (port: FollowedPort): string[] => port.fixedIps.map((f) => f.ip);

/** The event that changes a port's pairs after its creation (not part of the lifecycle above: only pair readers follow it). */
export type PortPairsEvent = SlimPairsEvent<Extract<IpamEvent, { type: 'ipam.PortAllowedAddressPairsSet' }>>;
type SlimPairsEvent<E> = E extends IpamEvent ? Pick<E, 'type' | 'data' | 'tenant' | 'seq' | 'aggregate'> : never;

/**
 * Fold `ipam.PortAllowedAddressPairsSet` into a follower's table: the port
 * (a new value) with its new pairs, or null when the port is not known.
 * Returns the port before and after.
 */
export function applyAddressPairsEvent(ports: PortTable, event: PortPairsEvent): { before: FollowedPort; after: FollowedPort } | null {
  const before = lookup(ports, event.data.portId);
  if (before === undefined) return null;
  const { allowedAddressPairs: _old, ...rest } = before;
  const pairs = event.data.allowedAddressPairs.map((p) => ({ ipAddress: p.ipAddress, macAddress: p.macAddress }));
  const after: FollowedPort = pairs.length ? { ...rest, allowedAddressPairs: pairs } : rest;
  if (ports instanceof Map) ports.set(after.id, after);
  else ports[after.id] = after;
  return { before, after };
}
