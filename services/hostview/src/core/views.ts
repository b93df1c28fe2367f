/**
 * Every owned host's view, kept current event by event (OVN-style
 * incremental processing with a full-recompute fallback):
 *
 *   1. `affectedHosts` names the hosts a change can touch; no other host is
 *      looked at.
 *   2. For each, if the host's network needs (networks, domains) are
 *      unchanged and its registration did not change, only the keys the
 *      change names are recomputed (the changed ports' port/ep keys, the
 *      changed networks' net keys, the changed domains' keys, the endpoints
 *      of a (de)registered hypervisor; the changed groups' sg keys, the
 *      changed memberships' member keys, and when the host's own groups or
 *      their remote groups changed, the sg and member keys those bring or
 *      take away). Otherwise the host is recomputed in full (`computeHost`)
 *      and diffed against what it had.
 *
 * The result is a list of KV writes. The property test checks that the views
 * kept this way always equal `deriveHost` for every host.
 */
import { hostviewKey } from '@strata/contracts';
import { affectedHosts, computeHost, keyValue, type HostKeys, type HostState } from './derive.js';
import { applyOps, diffKeys, diffMaps, type KvOp } from './diff.js';
import { hostNetworkNeeds, hostSecurityNeeds, type ChangeSet, type HostNeeds, type Model } from './model.js';

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
 * host's network needs changed (what it realises changed shape: full
 * recompute). A change of its security needs (groups listed by its ports,
 * remote groups their rules name) is handled here: the sg keys of groups
 * that came or went, every member key of remote groups that came or went.
 * Updates `prev.needs`; the caller applies the ops to `prev.keys`.
 */
function incremental(model: Model, hostId: string, prev: HostState, change: ChangeSet): KvOp[] | undefined {
  const net = networkNeedsMayChange(hostId, change) ? hostNetworkNeeds(model, hostId) : prev.needs;
  if (!sameSet(net.networks, prev.needs.networks) || !sameSet(net.domains, prev.needs.domains)) return undefined;
  const sec = securityNeedsMayChange(model, hostId, change) ? hostSecurityNeeds(model, hostId) : prev.needs;
  const needs: HostNeeds = { networks: prev.needs.networks, domains: prev.needs.domains, groups: sec.groups, remotes: sec.remotes };

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

  // Security groups.
  for (const portId of change.portSettings) keys.add(hostviewKey.port(hostId, portId));
  for (const groupId of change.groups) keys.add(hostviewKey.sg(hostId, groupId));
  if (sec !== prev.needs) {
    for (const groupId of symmetricDifference(prev.needs.groups, needs.groups)) keys.add(hostviewKey.sg(hostId, groupId));
    for (const groupId of symmetricDifference(prev.needs.remotes, needs.remotes)) {
      // Every member the host had or now has: the ports listing the group now; those that just stopped are in change.members (below).
      for (const portId of model.groupPorts.get(groupId) ?? []) keys.add(hostviewKey.member(hostId, groupId, portId));
    }
  }
  // A membership changed: the one member key, on a host whose rules name the group (before or after).
  for (const [groupId, ports] of change.members) {
    if (!needs.remotes.has(groupId) && !prev.needs.remotes.has(groupId)) continue;
    for (const portId of ports) keys.add(hostviewKey.member(hostId, groupId, portId));
  }
  const ops = diffKeys(prev.keys, (key) => keyValue(model, key, needs), keys);
  prev.needs = needs;
  return ops;
}

/**
 * A host's network needs follow from its own ports and the domain structure.
 * A change that moves none of its ports and touches no network or domain
 * (the busy path: ports coming and going on other hosts) cannot alter them.
 */
function networkNeedsMayChange(hostId: string, change: ChangeSet): boolean {
  if (change.networks.size > 0 || change.domains.size > 0) return true;
  return movesPortOf(hostId, change);
}

/**
 * Its security needs follow from the groups its ports list and those
 * groups' rules: only a port of its own (created, deleted, moved, its groups
 * set) or a group's rules or existence can alter them. A membership change
 * elsewhere (the busy path) cannot.
 */
function securityNeedsMayChange(model: Model, hostId: string, change: ChangeSet): boolean {
  if (change.groups.size > 0) return true;
  for (const portId of change.portSettings) if (model.ports.get(portId)?.hostId === hostId) return true;
  return movesPortOf(hostId, change);
}

function movesPortOf(hostId: string, change: ChangeSet): boolean {
  for (const { before, after } of change.ports.values()) if (before?.hostId === hostId || after?.hostId === hostId) return true;
  return false;
}

function* symmetricDifference(a: ReadonlySet<string>, b: ReadonlySet<string>): Iterable<string> {
  for (const x of a) if (!b.has(x)) yield x;
  for (const x of b) if (!a.has(x)) yield x;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
