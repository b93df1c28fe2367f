/**
 * `<H>.chain.<c>` (HostChain): every service chain on a routing domain H
 * realises (the chain's router), with its classifiers and, per hop, the
 * members whose function and leg ports exist, each with its legs' network,
 * MAC and addresses (from IPAM), its health, health check and virtual IP;
 * and the group's active member. A classifier that no longer exists is left
 * out; a chain none of whose classifiers exist has no key (it would match
 * nothing). Classifier groups' members are member keys (the member family),
 * so a membership change never touches a chain key.
 */
import { hostviewKey, type ChainHop, type ChainLeg, type ChainMember, type FlowClassifier, type HostChain } from '@strata/contracts';
import type { FunctionRec } from '../inputs/chaining.js';
import { canonicalJson } from '../json.js';
import type { Model } from '../model.js';
import { hostsOfDomain } from '../topology.js';
import type { KeyFamily } from './family.js';

export const chainFamily: KeyFamily<'chain'> = {
  kind: 'chain',
  // After the ports, endpoints and members the chain's legs and classifiers name.
  putOrder: 7,
  value: (model, k, needs) => chainValue(model, k.id, needs.domains),
  // Nested objects in their schemas' field order: sort the keys (chains change rarely).
  encode: canonicalJson,
  entries(model, hostId, needs, put) {
    for (const d of needs.domains) {
      for (const chainId of model.chaining.routerChains.get(d) ?? []) put(hostviewKey.chain(hostId, chainId), chainValue(model, chainId, needs.domains));
    }
  },
  hosts(model, change, add) {
    for (const routerId of change.chaining.routers) for (const h of hostsOfDomain(model.ipam, routerId)) add(h);
  },
  touched(_model, hostId, change, _needs, add) {
    for (const chainId of change.chaining.chains) add(hostviewKey.chain(hostId, chainId));
  },
};

function chainValue(model: Model, chainId: string, domains: ReadonlySet<string>): HostChain | undefined {
  const m = model.chaining;
  const chain = m.chains.get(chainId);
  if (!chain || !domains.has(chain.routerId)) return undefined;
  const classifiers = chain.classifierIds.map((id) => m.classifiers.get(id)).filter((c): c is FlowClassifier => c !== undefined);
  if (classifiers.length === 0) return undefined;
  const hops: ChainHop[] = [];
  for (const groupId of chain.groupIds) {
    const g = m.groups.get(groupId);
    if (!g) return undefined; // a hop without its group cannot be steered: no chain rather than a shorter one
    const members: ChainMember[] = [];
    for (const functionId of g.functionIds) {
      const member = memberOf(model, m.functions.get(functionId));
      if (member) members.push(member);
    }
    hops.push({ activeFunctionId: g.activeFunctionId, fallback: g.fallback, groupId, members, mode: modeOf(model, g.functionIds), selection: g.selection });
  }
  return { classifiers, domainId: chain.routerId, hops, id: chain.id, symmetric: chain.symmetric, tenant: chain.tenant };
}

/** A group's mode is its members' (the chaining service keeps a group to one mode); l3 for an empty one. */
function modeOf(model: Model, functionIds: readonly string[]): ChainHop['mode'] {
  for (const id of functionIds) {
    const f = model.chaining.functions.get(id);
    if (f) return f.mode;
  }
  return 'l3';
}

function memberOf(model: Model, f: FunctionRec | undefined): ChainMember | undefined {
  if (!f) return undefined;
  const ingress = legOf(model, f.ingressPortId);
  const egress = legOf(model, f.egressPortId);
  if (!ingress || !egress) return undefined;
  return { egress, functionId: f.id, healthCheck: f.healthCheck, healthy: f.healthy, ingress, virtualIp: f.virtualIp };
}

function legOf(model: Model, portId: string): ChainLeg | undefined {
  const port = model.ipam.ports.get(portId);
  if (!port) return undefined;
  return { ips: port.fixedIps.map((f) => f.ip), mac: port.mac, networkId: port.networkId, portId };
}
