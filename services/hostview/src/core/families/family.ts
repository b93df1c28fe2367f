/**
 * A key family: everything about one kind of host-view key (`<H>.<kind>…`).
 * The derivation (derive.ts) and the incremental update (views.ts) are
 * generic loops over the families; adding a kind of key is adding a family
 * (and its schema to the contracts' host-view codec).
 *
 * A family answers four questions:
 *   value    what key k holds, from the model (undefined: the key does not exist)
 *   entries  every key of its kind a host has (the full recompute, the oracle)
 *   hosts    which hosts a change can touch keys of its kind on
 *   touched  on such a host, which of its keys the change can have touched
 * `hosts` and `touched` must never miss a key whose value changed (the
 * property test compares against `entries`); listing one too many only costs
 * a recompute of that key.
 */
import type { DerivedHostviewKind, FollowedPort, HostviewValue, OwnedAddress } from '@strata/contracts';
import type { Change, Model } from '../model.js';
import type { HostNeeds } from '../needs.js';

/** A host's needs before and after the change (the same Set objects where they were not recomputed). */
export interface NeedsStep {
  before: HostNeeds;
  after: HostNeeds;
}

/** What a family needs of a key to compute its value (a parsed key has it). */
export interface KeyRef {
  hostId: string;
  /** Port, network, domain or group id. */
  id: string;
  /** The member's port id (member keys only). */
  portId: string;
}

/** Collects keys or hosts (callbacks rather than iterables: this is the per-event hot path). */
export type Add = (item: string) => void;

export interface KeyFamily<K extends DerivedHostviewKind = DerivedHostviewKind> {
  readonly kind: K;
  /**
   * Where its keys go in a write batch: puts in ascending order, deletes in
   * descending, so an agent applying deltas as they come sees a container
   * before what is in it and what a rule names before the rule.
   */
  readonly putOrder: number;
  /** The value of key `k` of a registered host, or undefined when the key should not exist. */
  value(model: Model, k: KeyRef, needs: HostNeeds): HostviewValue<K> | undefined;
  /** A value as the bucket stores it: canonical JSON (sorted keys). */
  encode(value: HostviewValue<K>): string;
  /** Every key of this kind a registered host has, with its value (undefined: not after all). */
  entries(model: Model, hostId: string, needs: HostNeeds, put: (key: string, value: HostviewValue<K> | undefined) => void): void;
  /** Hosts whose keys of this kind the change can touch, registered or not (the model after the change). */
  hosts(model: Model, change: Change, add: Add): void;
  /** The keys of this kind on a host whose network needs did not change that the change can have touched. */
  touched(model: Model, hostId: string, change: Change, needs: NeedsStep, add: Add): void;
}

/**
 * Plain JSON.stringify: each family builds its objects with their keys in
 * code-point order, so this is canonical JSON without re-sorting keys on
 * the hot path (the golden tests check it against canonicalJson).
 */
export const stringify = (value: object): string => JSON.stringify(value);

/** Elements in exactly one of two sets (none when they are the same set). */
export function symmetricDifference(a: ReadonlySet<string>, b: ReadonlySet<string>, add: Add): void {
  if (a === b) return;
  for (const x of a) if (!b.has(x)) add(x);
  for (const x of b) if (!a.has(x)) add(x);
}

/** The hosts a change moves ports on or off (before or after), and the hosts of ports whose settings changed. */
export function portHosts(model: Model, change: Change, settings: readonly ReadonlySet<string>[], add: Add): void {
  for (const { before, after } of change.ipam.ports.values()) {
    if (before?.hostId != null) add(before.hostId);
    if (after?.hostId != null) add(after.hostId);
  }
  for (const ports of settings) {
    for (const portId of ports) {
      const h = model.ipam.ports.get(portId)?.hostId;
      if (h != null) add(h);
    }
  }
}

/** `{ownedAddresses}`: the pair addresses the port owns, sorted by address; nothing when none (the key is left out). */
export function ownedAddressesOf(model: Model, p: FollowedPort): { ownedAddresses?: OwnedAddress[] } {
  const owners = model.ipam.pairOwners.get(p.networkId);
  if (!owners) return {};
  const owned: OwnedAddress[] = [];
  for (const [ip, o] of owners) if (o.portId === p.id) owned.push({ ip, mac: o.mac });
  return owned.length ? { ownedAddresses: owned.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)) } : {};
}
