/**
 * Chains: ordered hops (function groups) and classifiers on one tenant
 * router. A chain is refused when a hop could not be realised (an L3
 * member without a leg on the router for a classifier's family) or when
 * another chain on the router already takes the same flows.
 */
import { AlreadyExistsError, IllegalStateError, ValidationError } from '@strata/errors';
import { chainAggregate, type ChainingCommand, type FlowClassifier } from '@strata/contracts';
import { changedFields, checkRevision, createdId, isEmpty, owningTenant } from '@strata/service-kit';
import type { ChainEntry, ChainingState, ClassifierEntry, FunctionEntry, GroupEntry, RouterEntry } from '../state.js';
import { findChain, firstRepeated, newVersion, ownedBy, routerOf } from './lookup.js';
import { appendTo, type Caller, type CommandContext, type Decision } from './types.js';

export function createChain(s: ChainingState, cmd: ChainingCommand<'chain.create'>, ctx: CommandContext): Decision {
  const tenant = owningTenant(ctx.caller, cmd.tenant);
  const id = createdId(ctx.caller, 'chaining', 'chain');
  if (s.chains[id]) return { kind: 'done', resourceId: id };
  const router = cmd.routerId === undefined ? routerOfLegs(s, ctx.caller, tenant, cmd.groupIds) : routerOf(s, ctx.caller, tenant, cmd.routerId);
  checkChain(s, ctx.caller, tenant, router, cmd.groupIds, cmd.classifierIds);
  return {
    kind: 'append',
    aggregate: chainAggregate(id),
    expectedVersion: newVersion(s, 'chain', id),
    tenant,
    resourceId: id,
    event: {
      type: 'chaining.ChainCreated',
      data: { chainId: id, name: cmd.name, description: cmd.description, routerId: router.id, groupIds: cmd.groupIds, classifierIds: cmd.classifierIds, symmetric: cmd.symmetric },
    },
  };
}

/**
 * The router of a chain created without one (networking-sfc's port chain
 * names none): the tenant's one router that every leg of every member of
 * the hops is on, i.e. the leg's network has a subnet joined to it. The
 * legs decide, not the classifiers: a classifier's ends may be anywhere the
 * router reaches. None or several fitting is INVALID_ARGUMENT on
 * `routerId`, saying which; the hops themselves are checked afterwards as
 * for a named router.
 */
function routerOfLegs(s: ChainingState, caller: Caller, tenant: string, groupIds: readonly string[]): RouterEntry {
  const legs = new Set<string>();
  for (const gid of new Set(groupIds)) {
    for (const fid of ownedBy(caller, tenant, 'function group', gid, s.groups[gid]).functionIds) {
      const f = s.functions[fid];
      if (f) legs.add(f.ingressPortId).add(f.egressPortId);
    }
  }
  const networks = [...legs].map((p) => s.ports[p]?.networkId);
  const fits = Object.values(s.routers)
    .filter((r) => r.tenant === tenant && networks.every((n) => n !== undefined && Object.values(r.subnets).includes(n)))
    .map((r) => r.id)
    .sort();
  if (fits.length === 1) return s.routers[fits[0]!]!;
  throw new ValidationError(
    fits.length === 0
      ? 'no router of the tenant has an interface on the networks of every leg of the chain\'s hops: join one router to them (or name the router)'
      : `the legs of the chain's hops are on routers ${fits.join(', ')}: name the router the chain is on`,
    { field: 'routerId' },
  );
}

/**
 * Name, description, hops and classifiers (networking-sfc's port chain
 * `set`); the router and symmetry are fixed. New hops and classifiers are
 * checked exactly as at creation, against the other chains on the router.
 */
export function updateChain(s: ChainingState, cmd: ChainingCommand<'chain.update'>, ctx: CommandContext): Decision {
  const c = findChain(s, ctx.caller, cmd.id);
  checkRevision('chain', c.id, cmd.expectedRevision, c.revision);
  const changes = changedFields({ name: c.name, description: c.description, groupIds: c.groupIds, classifierIds: c.classifierIds }, cmd);
  if (isEmpty(changes)) return { kind: 'done', resourceId: c.id };
  if (changes.groupIds || changes.classifierIds) {
    const router = routerOf(s, ctx.caller, c.tenant, c.routerId);
    checkChain(s, ctx.caller, c.tenant, router, changes.groupIds ?? c.groupIds, changes.classifierIds ?? c.classifierIds, c.id);
  }
  return appendTo(chainAggregate(c.id), c, { type: 'chaining.ChainUpdated', data: { chainId: c.id, ...changes } });
}

/**
 * A chain's hops and classifiers as created or updated: each named once, of
 * the chain's tenant, every hop realisable on the router, and no flow taken
 * by another chain there (`self`: the chain being updated is not "another").
 */
function checkChain(s: ChainingState, caller: Caller, tenant: string, router: RouterEntry, groupIds: string[], classifierIds: string[], self?: string): void {
  for (const [field, ids] of [
    ['groupIds', groupIds],
    ['classifierIds', classifierIds],
  ] as const) {
    const repeated = firstRepeated(ids);
    if (repeated !== undefined) throw new ValidationError(`${repeated} is named twice in ${field}`, { field });
  }
  const groups = groupIds.map((g) => ownedBy(caller, tenant, 'function group', g, s.groups[g]));
  const classifiers = classifierIds.map((c) => ownedBy(caller, tenant, 'flow classifier', c, s.classifiers[c]));
  requireLegsOnRouter(s, router, groups, classifiers);
  const clash = sameFlows(s, router.id, classifiers, self);
  if (clash) {
    throw new AlreadyExistsError(`chain ${clash.chainId} on router ${router.id} already takes the flows of classifier ${clash.classifierId}; a flow is steered by one chain`, {
      chainId: clash.chainId,
      classifierId: clash.classifierId,
      sameClassifier: clash.sameClassifier,
    });
  }
}

/**
 * Groups with new members as hops of an existing chain (function group
 * update): each L3 member needs its legs on the chain's router, for the
 * families of the chain's classifiers. A router gone meanwhile has no
 * subnets: no L3 member can be added to its chains.
 */
export function requireHops(s: ChainingState, chain: ChainEntry, groups: readonly GroupEntry[]): void {
  const router = s.routers[chain.routerId] ?? { id: chain.routerId, tenant: chain.tenant, subnets: {} };
  const classifiers = chain.classifierIds.map((c) => s.classifiers[c]).filter((c): c is ClassifierEntry => c !== undefined);
  requireLegsOnRouter(s, router, groups, classifiers);
}

/** Every L3 member of every hop has legs of each classifier family on the router. */
function requireLegsOnRouter(s: ChainingState, router: RouterEntry, groups: readonly GroupEntry[], classifiers: readonly ClassifierEntry[]): void {
  const families = new Set(classifiers.map((c) => c.ethertype));
  for (const g of groups) {
    for (const fid of g.functionIds) {
      const f = s.functions[fid];
      if (f?.mode === 'l3') for (const family of families) requireLegs(s, router, g.id, f, family);
    }
  }
}

/** An L3 hop's member is a routed next hop: each of its legs needs an address of the family on a subnet joined to the router. */
function requireLegs(s: ChainingState, router: RouterEntry, groupId: string, f: FunctionEntry, family: 'IPv4' | 'IPv6'): void {
  for (const [leg, portId] of [
    ['ingress', f.ingressPortId],
    ['egress', f.egressPortId],
  ] as const) {
    const port = s.ports[portId];
    const ok = port?.fixedIps.some((ip) => ip.ip.includes(':') === (family === 'IPv6') && ip.subnetId in router.subnets) ?? false;
    if (!ok) {
      throw new IllegalStateError(
        `function ${f.id} (group ${groupId}) has no ${family} leg on router ${router.id}: its ${leg} port ${portId} has no ${family} fixed IP on a subnet joined to the router`,
        { functionId: f.id, portId },
      );
    }
  }
}

/** What a classifier matches, without its id: two classifiers with equal keys take the same flows. */
const matchKey = (c: FlowClassifier): string =>
  JSON.stringify([c.ethertype, c.protocol, c.source.groupId, c.source.cidr, c.destination.groupId, c.destination.cidr, c.sourcePorts, c.destinationPorts]);

/** Another chain on the router with one of these classifiers (`sameClassifier`), or one matching exactly the same flows. */
function sameFlows(s: ChainingState, routerId: string, classifiers: readonly ClassifierEntry[], self?: string): { chainId: string; classifierId: string; sameClassifier: boolean } | undefined {
  const wanted = new Map(classifiers.map((c) => [matchKey(c), c.id]));
  const ids = new Set(classifiers.map((c) => c.id));
  for (const other of Object.values(s.chains).sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (other.routerId !== routerId || other.id === self) continue;
    for (const cid of other.classifierIds) {
      if (ids.has(cid)) return { chainId: other.id, classifierId: cid, sameClassifier: true };
      const c = s.classifiers[cid];
      const mine = c && wanted.get(matchKey(c));
      if (mine !== undefined) return { chainId: other.id, classifierId: mine, sameClassifier: false };
    }
  }
  return undefined;
}

export function deleteChain(s: ChainingState, cmd: ChainingCommand<'chain.delete'>, ctx: CommandContext): Decision {
  const c = findChain(s, ctx.caller, cmd.id);
  return appendTo(chainAggregate(c.id), c, { type: 'chaining.ChainDeleted', data: { chainId: c.id } });
}
