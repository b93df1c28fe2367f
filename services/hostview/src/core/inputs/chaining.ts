/**
 * The chaining input node: service functions (their legs and health),
 * function groups (their active member), flow classifiers and chains,
 * folded from the chaining service's events, with the indexes that turn a
 * change of any of them, or of a leg port, into the chains it touches.
 *
 * Total like the other nodes: an event about something the model does not
 * hold changes nothing; one that re-creates an id replaces it.
 */
import type { ChainingEvent, FlowClassifier, FunctionMode, GroupFallback, GroupSelection, HealthCheck } from '@strata/contracts';
import { addTo, removeFrom } from '../indexes.js';
import type { Change, Model, Slice } from '../model.js';

export interface FunctionRec {
  id: string;
  ingressPortId: string;
  egressPortId: string;
  mode: FunctionMode;
  virtualIp: string | null;
  healthCheck: HealthCheck | null;
  healthy: boolean;
}

export interface GroupRec {
  id: string;
  functionIds: string[];
  selection: GroupSelection;
  fallback: GroupFallback;
  activeFunctionId: string | null;
}

export interface ChainRec {
  id: string;
  tenant: string;
  routerId: string;
  groupIds: string[];
  classifierIds: string[];
  symmetric: boolean;
}

export interface ChainingModel {
  functions: Map<string, FunctionRec>;
  groups: Map<string, GroupRec>;
  classifiers: Map<string, FlowClassifier>;
  chains: Map<string, ChainRec>;
  /** Indexes from what a chain's value reads to the chains that read it (whether or not those exist). */
  routerChains: Map<string, Set<string>>;
  groupChains: Map<string, Set<string>>;
  classifierChains: Map<string, Set<string>>;
  functionGroups: Map<string, Set<string>>;
  /** Leg port → the functions it is a leg of. */
  portFunctions: Map<string, Set<string>>;
  /** Security group → the classifiers naming it (source or destination). */
  securityGroupClassifiers: Map<string, Set<string>>;
}

export const emptyChainingModel = (): ChainingModel => ({
  functions: new Map(),
  groups: new Map(),
  classifiers: new Map(),
  chains: new Map(),
  routerChains: new Map(),
  groupChains: new Map(),
  classifierChains: new Map(),
  functionGroups: new Map(),
  portFunctions: new Map(),
  securityGroupClassifiers: new Map(),
});

export interface ChainingChange {
  /** Chains whose value can have changed (created, deleted, or something they read changed). */
  chains: Set<string>;
  /** The routers of those chains (a deleted or re-created chain's old router too): whose hosts hold their keys. */
  routers: Set<string>;
}

export const emptyChainingChange = (): ChainingChange => ({ chains: new Set(), routers: new Set() });

export type ChainingInputEvent = Slice<ChainingEvent>;

export function applyChainingEvent(model: Model, event: ChainingInputEvent, change: Change): void {
  const m = model.chaining;
  switch (event.type) {
    case 'chaining.ServiceFunctionCreated': {
      const d = event.data;
      dropFunctionLegs(m, d.functionId);
      m.functions.set(d.functionId, {
        id: d.functionId,
        ingressPortId: d.ingressPortId,
        egressPortId: d.egressPortId,
        mode: d.mode,
        virtualIp: d.virtualIp,
        healthCheck: d.healthCheck,
        healthy: true,
      });
      addTo(m.portFunctions, d.ingressPortId, d.functionId);
      addTo(m.portFunctions, d.egressPortId, d.functionId);
      markFunction(m, d.functionId, change);
      break;
    }
    case 'chaining.ServiceFunctionUpdated': {
      // Its name and description are no host's business; its health check is part of its chains' keys.
      const f = m.functions.get(event.data.functionId);
      if (!f || event.data.healthCheck === undefined) break;
      f.healthCheck = event.data.healthCheck;
      markFunction(m, f.id, change);
      break;
    }
    case 'chaining.ServiceFunctionDeleted':
      markFunction(m, event.data.functionId, change);
      dropFunctionLegs(m, event.data.functionId);
      m.functions.delete(event.data.functionId);
      break;
    case 'chaining.FunctionHealthChanged': {
      const f = m.functions.get(event.data.functionId);
      if (!f || f.healthy === event.data.healthy) break;
      f.healthy = event.data.healthy;
      markFunction(m, f.id, change);
      break;
    }
    case 'chaining.FunctionGroupCreated': {
      const d = event.data;
      for (const f of m.groups.get(d.groupId)?.functionIds ?? []) removeFrom(m.functionGroups, f, d.groupId);
      m.groups.set(d.groupId, { id: d.groupId, functionIds: d.functionIds, selection: d.selection, fallback: d.fallback, activeFunctionId: null });
      for (const f of d.functionIds) addTo(m.functionGroups, f, d.groupId);
      markGroup(m, d.groupId, change);
      break;
    }
    case 'chaining.FunctionGroupUpdated': {
      const g = m.groups.get(event.data.groupId);
      if (!g || event.data.functionIds === undefined) break;
      for (const f of g.functionIds) removeFrom(m.functionGroups, f, g.id);
      g.functionIds = event.data.functionIds;
      for (const f of g.functionIds) addTo(m.functionGroups, f, g.id);
      markGroup(m, g.id, change);
      break;
    }
    case 'chaining.FunctionGroupDeleted': {
      const g = m.groups.get(event.data.groupId);
      if (!g) break;
      markGroup(m, g.id, change);
      for (const f of g.functionIds) removeFrom(m.functionGroups, f, g.id);
      m.groups.delete(g.id);
      break;
    }
    case 'chaining.ActiveFunctionChanged': {
      const g = m.groups.get(event.data.groupId);
      if (!g || g.activeFunctionId === event.data.functionId) break;
      g.activeFunctionId = event.data.functionId;
      markGroup(m, g.id, change);
      break;
    }
    case 'chaining.FlowClassifierCreated': {
      const c = event.data.classifier;
      dropClassifierGroups(m, c.id);
      m.classifiers.set(c.id, c);
      for (const g of classifierGroups(c)) addTo(m.securityGroupClassifiers, g, c.id);
      for (const chainId of m.classifierChains.get(c.id) ?? []) markChain(m, chainId, change);
      break;
    }
    case 'chaining.FlowClassifierUpdated':
      // A name or description: its match, the only part a host sees, never changes.
      break;
    case 'chaining.FlowClassifierDeleted': {
      const id = event.data.classifierId;
      for (const chainId of m.classifierChains.get(id) ?? []) markChain(m, chainId, change);
      dropClassifierGroups(m, id);
      m.classifiers.delete(id);
      break;
    }
    case 'chaining.ChainCreated': {
      const d = event.data;
      dropChain(m, d.chainId, change);
      m.chains.set(d.chainId, { id: d.chainId, tenant: event.tenant, routerId: d.routerId, groupIds: d.groupIds, classifierIds: d.classifierIds, symmetric: d.symmetric });
      addTo(m.routerChains, d.routerId, d.chainId);
      for (const g of d.groupIds) addTo(m.groupChains, g, d.chainId);
      for (const c of d.classifierIds) addTo(m.classifierChains, c, d.chainId);
      markChain(m, d.chainId, change);
      break;
    }
    case 'chaining.ChainUpdated': {
      const chain = m.chains.get(event.data.chainId);
      const { groupIds, classifierIds } = event.data;
      if (!chain || (groupIds === undefined && classifierIds === undefined)) break;
      if (groupIds) {
        for (const g of chain.groupIds) removeFrom(m.groupChains, g, chain.id);
        chain.groupIds = groupIds;
        for (const g of groupIds) addTo(m.groupChains, g, chain.id);
      }
      if (classifierIds) {
        for (const c of chain.classifierIds) removeFrom(m.classifierChains, c, chain.id);
        chain.classifierIds = classifierIds;
        for (const c of classifierIds) addTo(m.classifierChains, c, chain.id);
      }
      markChain(m, chain.id, change);
      break;
    }
    case 'chaining.ChainDeleted':
      dropChain(m, event.data.chainId, change);
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`hostview does not know event ${(unreachable as { type: string }).type}`);
    }
  }
}

/** The security groups a classifier names. */
export const classifierGroups = (c: FlowClassifier): string[] =>
  [c.source.groupId, c.destination.groupId].filter((g): g is string => g !== null);

/** A port came, went or moved: the chains whose members have it as a leg. */
export function onLegPorts(model: Model, portIds: Iterable<string>, change: Change): void {
  const m = model.chaining;
  for (const portId of portIds) for (const f of m.portFunctions.get(portId) ?? []) markFunction(m, f, change);
}

/** The chains that classify by a security group (on any router). */
export function chainsNamingGroup(m: ChainingModel, groupId: string): Set<string> {
  const chains = new Set<string>();
  for (const c of m.securityGroupClassifiers.get(groupId) ?? []) for (const chainId of m.classifierChains.get(c) ?? []) if (m.chains.has(chainId)) chains.add(chainId);
  return chains;
}

function markChain(m: ChainingModel, chainId: string, change: Change): void {
  const chain = m.chains.get(chainId);
  if (!chain) return;
  change.chaining.chains.add(chainId);
  change.chaining.routers.add(chain.routerId);
}

function markGroup(m: ChainingModel, groupId: string, change: Change): void {
  for (const chainId of m.groupChains.get(groupId) ?? []) markChain(m, chainId, change);
}

function markFunction(m: ChainingModel, functionId: string, change: Change): void {
  for (const g of m.functionGroups.get(functionId) ?? []) markGroup(m, g, change);
}

function dropFunctionLegs(m: ChainingModel, functionId: string): void {
  const f = m.functions.get(functionId);
  if (!f) return;
  removeFrom(m.portFunctions, f.ingressPortId, functionId);
  removeFrom(m.portFunctions, f.egressPortId, functionId);
}

function dropClassifierGroups(m: ChainingModel, classifierId: string): void {
  const c = m.classifiers.get(classifierId);
  if (c) for (const g of classifierGroups(c)) removeFrom(m.securityGroupClassifiers, g, classifierId);
}

function dropChain(m: ChainingModel, chainId: string, change: Change): void {
  const old = m.chains.get(chainId);
  if (!old) return;
  change.chaining.chains.add(chainId);
  change.chaining.routers.add(old.routerId);
  removeFrom(m.routerChains, old.routerId, chainId);
  for (const g of old.groupIds) removeFrom(m.groupChains, g, chainId);
  for (const c of old.classifierIds) removeFrom(m.classifierChains, c, chainId);
  m.chains.delete(chainId);
}
