/**
 * The derivation: what one host's view contains, computed from the model by
 * the key families (families/, one per kind of key; the layout and schemas
 * are the contracts' host-view codec, libs/contracts/src/hostview.ts).
 *
 *   host has port p      p.hostId = H
 *   host needs network N H has a port on a network of N's routing domain
 *                        (its local router routes into every subnet of the domain)
 *
 * An unregistered host has an empty view. Values are canonical JSON.
 *
 * `computeHost` is the full recompute of one host (the fallback and the
 * test oracle); `keyValue` recomputes one key for the incremental path;
 * `affectedHosts` says which hosts a change can touch. All three are loops
 * over the families.
 */
import { hostOfHostviewKey, parseHostviewKey, type HostviewKind } from '@strata/contracts';
import { FAMILIES, FAMILY_LIST, type KeyFamily } from './families/index.js';
import type { Change, Model } from './model.js';
import { hostNeeds, type HostNeeds } from './needs.js';

/** One host's view: KV key → canonical JSON value. */
export type HostKeys = Map<string, string>;

/** The host a key belongs to (its first token). */
export const hostOfKey = hostOfHostviewKey;

/** The kind of a key, for metrics and batch order; 'unknown' for a key the layout does not produce. */
export const kindOfKey = (key: string): HostviewKind | 'unknown' => parseHostviewKey(key)?.kind ?? 'unknown';

/** The value of one key of one host's view, or undefined when the key should not exist. */
export function keyValue(model: Model, key: string, needs: HostNeeds): string | undefined {
  const k = parseHostviewKey(key);
  // The position key is not derived (the publishing layer writes it): never a key of the derivation.
  if (!k || k.kind === 'position' || !model.ipam.hypervisors.has(k.hostId)) return undefined;
  const family = FAMILIES[k.kind] as KeyFamily;
  const value = family.value(model, k, needs);
  return value === undefined ? undefined : family.encode(value);
}

export interface HostState {
  needs: HostNeeds;
  keys: HostKeys;
}

/** Full recompute of one host: its needs and every key of its view. */
export function computeHost(model: Model, hostId: string): HostState {
  const keys: HostKeys = new Map();
  const needs = hostNeeds(model, hostId);
  if (!model.ipam.hypervisors.has(hostId)) return { needs, keys };
  for (const family of FAMILY_LIST) {
    family.entries(model, hostId, needs, (key, value) => {
      if (value !== undefined) keys.set(key, family.encode(value));
    });
  }
  return { needs, keys };
}

/** Every key of one host's view, recomputed from scratch. */
export function deriveHost(model: Model, hostId: string): HostKeys {
  return computeHost(model, hostId).keys;
}

/**
 * The hosts whose view a change can alter (computed on the model after the
 * change): the union of what each family names. A host with no port in the
 * routing domains involved, and no group naming a changed group, is never
 * listed. An unregistered host's view is empty and stays so, unless it just
 * lost its registration.
 */
export function affectedHosts(model: Model, change: Change): Set<string> {
  const out = new Set<string>();
  const add = (h: string): void => {
    if (model.ipam.hypervisors.has(h) || change.ipam.hosts.has(h)) out.add(h);
  };
  for (const family of FAMILY_LIST) family.hosts(model, change, add);
  return out;
}
