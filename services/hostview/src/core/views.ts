/**
 * Every owned host's view, kept current event by event (OVN-style
 * incremental processing with a full-recompute fallback):
 *
 *   1. `affectedHosts` names the hosts a change can touch; no other host is
 *      looked at.
 *   2. For each, if the host's needs (networks, domains) are unchanged and
 *      its registration did not change, only the keys the change names are
 *      recomputed (the changed ports' port/ep keys, the changed networks' net
 *      keys, the changed domains' keys, the endpoints of a (de)registered
 *      hypervisor). Otherwise the host is recomputed in full (`computeHost`)
 *      and diffed against what it had.
 *
 * The result is a list of KV writes. The property test checks that the views
 * kept this way always equal `deriveHost` for every host.
 */
import { hostviewKey } from '@strata/contracts';
import { affectedHosts, computeHost, keyValue, type HostKeys, type HostState } from './derive.js';
import { applyOps, diffKeys, diffMaps, type KvOp } from './diff.js';
import { hostNeeds, type ChangeSet, type Model } from './model.js';

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
    for (const hostId of model.hypervisors.keys()) {
      if (!this.owns(hostId)) continue;
      const state = computeHost(model, hostId);
      if (state.keys.size > 0) this.states.set(hostId, state);
    }
  }

  /** Bring the views up to date with a change already applied to `model`. */
  apply(model: Model, change: ChangeSet): ViewUpdate {
    const update: ViewUpdate = { ops: [], hostsRecomputed: 0, fullRecomputes: 0 };
    for (const hostId of affectedHosts(model, change)) {
      if (!this.owns(hostId)) continue;
      update.hostsRecomputed += 1;
      const prev = this.states.get(hostId);
      const ops = prev && !change.hosts.has(hostId) ? incremental(model, hostId, prev, change) : undefined;
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
 * Recompute only the keys the change can have touched; undefined when the
 * host's needs changed (what it realises changed shape: full recompute).
 */
function incremental(model: Model, hostId: string, prev: HostState, change: ChangeSet): KvOp[] | undefined {
  const needs = needsMayChange(hostId, change) ? hostNeeds(model, hostId) : prev.needs;
  if (needs !== prev.needs && (!sameSet(needs.networks, prev.needs.networks) || !sameSet(needs.domains, prev.needs.domains))) return undefined;

  const keys = new Set<string>();
  const networks = new Set(change.networks);
  for (const [portId, { before, after }] of change.ports) {
    keys.add(hostviewKey.port(hostId, portId));
    keys.add(hostviewKey.ep(hostId, portId));
    if (before) networks.add(before.networkId);
    if (after) networks.add(after.networkId);
  }
  for (const g of change.hosts) {
    // Another hypervisor came or went: its ports' endpoints and the flood lists of their networks.
    for (const portId of model.hostPorts.get(g) ?? []) {
      keys.add(hostviewKey.ep(hostId, portId));
      const p = model.ports.get(portId);
      if (p) networks.add(p.networkId);
    }
  }
  for (const networkId of networks) keys.add(hostviewKey.net(hostId, networkId));
  // The model names every domain whose value (tenant, member networks) can have changed.
  for (const domainId of change.domains) keys.add(hostviewKey.domain(hostId, domainId));
  return diffKeys(prev.keys, (key) => keyValue(model, key, needs), keys);
}

/**
 * A host's needs follow from its own ports and the domain structure. A change
 * that moves none of its ports and touches no network or domain (the busy
 * path: ports coming and going on other hosts) cannot alter them.
 */
function needsMayChange(hostId: string, change: ChangeSet): boolean {
  if (change.networks.size > 0 || change.domains.size > 0) return true;
  for (const { before, after } of change.ports.values()) if (before?.hostId === hostId || after?.hostId === hostId) return true;
  return false;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
