/**
 * Every owned host's view, kept current event by event (OVN-style
 * incremental processing with a full-recompute fallback):
 *
 *   1. `affectedHosts` names the hosts a change can touch (the union of
 *      what each key family names); no other host is looked at.
 *   2. For each, if the host's network needs (networks, domains) are
 *      unchanged and its registration did not change, only the keys the
 *      families say the change touched are recomputed (its security needs
 *      are recomputed first when the change can alter them, and the families
 *      add the keys that a difference brings or takes away). Otherwise the
 *      host is recomputed in full (`computeHost`) and diffed against what it
 *      had.
 *
 * The result is a list of KV writes. The property test checks that the views
 * kept this way always equal `deriveHost` for every host.
 */
import { computeHost, keyValue, type HostKeys, type HostState, affectedHosts } from './derive.js';
import { applyOps, diffKeys, diffMaps, type KvOp } from './diff.js';
import { FAMILY_LIST } from './families/index.js';
import type { Change, Model } from './model.js';
import { hostNetworkNeeds, hostSecurityNeeds, networkNeedsMayChange, securityNeedsMayChange, type HostNeeds } from './needs.js';

export interface ViewUpdate {
  /** KV writes that bring the owned hosts' keys to the new state. */
  ops: KvOp[];
  /** Owned hosts looked at for this change (key by key or in full). */
  hostsRecomputed: number;
  /** Of those, hosts recomputed in full (needs changed, (de)registered, or seen for the first time). */
  fullRecomputes: number;
}

const EMPTY: ReadonlyMap<string, string> = new Map();

export class HostViews {
  private readonly states = new Map<string, HostState>();

  /** @param owns which hosts this instance maintains (its partition); all by default. */
  constructor(private readonly owns: (hostId: string) => boolean = () => true) {}

  /** Recompute every owned host from the model, forgetting what was kept. */
  rebuild(model: Model): void {
    this.states.clear();
    for (const hostId of model.ipam.hypervisors.keys()) {
      if (!this.owns(hostId)) continue;
      const state = computeHost(model, hostId);
      if (state.keys.size > 0) this.states.set(hostId, state);
    }
  }

  /** Bring the views up to date with a change already applied to `model`. */
  apply(model: Model, change: Change): ViewUpdate {
    const update: ViewUpdate = { ops: [], hostsRecomputed: 0, fullRecomputes: 0 };
    for (const hostId of affectedHosts(model, change)) {
      if (!this.owns(hostId)) continue;
      update.hostsRecomputed += 1;
      const prev = this.states.get(hostId);
      const ops = prev && !change.ipam.hosts.has(hostId) ? incremental(model, hostId, prev, change) : undefined;
      if (ops !== undefined) {
        applyOps(prev!.keys, ops);
        update.ops.push(...ops);
        continue;
      }
      update.fullRecomputes += 1;
      const next = computeHost(model, hostId);
      update.ops.push(...diffMaps(prev?.keys ?? EMPTY, next.keys));
      if (next.keys.size > 0) this.states.set(hostId, next);
      else this.states.delete(hostId);
    }
    return update;
  }

  /** The keys this instance holds for a host (empty when it holds none). */
  keysOf(hostId: string): ReadonlyMap<string, string> {
    return this.states.get(hostId)?.keys ?? EMPTY;
  }

  /** Hosts with a non-empty view. */
  hosts(): string[] {
    return [...this.states.keys()];
  }

  /** Every key of every owned host: what the KV bucket should hold for this partition. */
  snapshot(): HostKeys {
    const all: HostKeys = new Map();
    for (const { keys } of this.states.values()) for (const [k, v] of keys) all.set(k, v);
    return all;
  }
}

/**
 * Recompute only the keys the families say the change touched; undefined
 * when the host's network needs changed (what it realises changed shape:
 * full recompute). Updates `prev.needs`; the caller applies the ops to
 * `prev.keys`.
 */
function incremental(model: Model, hostId: string, prev: HostState, change: Change): KvOp[] | undefined {
  const net = networkNeedsMayChange(hostId, change) ? hostNetworkNeeds(model, hostId) : prev.needs;
  if (!sameSet(net.networks, prev.needs.networks) || !sameSet(net.domains, prev.needs.domains)) return undefined;
  const sec = securityNeedsMayChange(model, hostId, change) ? hostSecurityNeeds(model, hostId, prev.needs.domains) : prev.needs;
  const needs: HostNeeds = { networks: prev.needs.networks, domains: prev.needs.domains, groups: sec.groups, remotes: sec.remotes };
  const keys = new Set<string>();
  const step = { before: prev.needs, after: needs };
  const add = (key: string): void => void keys.add(key);
  for (const family of FAMILY_LIST) family.touched(model, hostId, change, step, add);
  const ops = diffKeys(prev.keys, (key) => keyValue(model, key, needs), keys);
  prev.needs = needs;
  return ops;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
