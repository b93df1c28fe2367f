/**
 * chaining's `history` (issue 16, "state at any point"): for random
 * sequences of chaining's commands, health reports, gratuitous ARPs and the
 * IPAM port changes they react to, decided by chaining's own deciders, at
 * every position of the log each function, group, classifier and chain as
 * `history` rebuilds it from its own aggregate equals its view in the fold
 * of the whole log (IPAM's and secgroup's events included) up to there.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StrataError } from '@strata/errors';
import { CHAINING_CONTEXT, chainingContract, chainingEvents, type AuditKind, type ChainingCommandInput, type ChainingCommandName } from '@strata/contracts';
import { historyMismatches, type DeciderFor, type HistoryCase } from '@strata/service-kit/testing';
import { chainingHistory } from '../app/history.js';
import { activateNewGroup, decideAddressOwner, decideHealth, decideLegLost, deciders, settleActiveMember, type Caller, type Decision, type NewChainingEvent } from './decide/index.js';
import type { ChainingState } from './state.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

const KIND_OF: Record<string, AuditKind> = { function: 'sfc-function', group: 'sfc-group', classifier: 'sfc-classifier', chain: 'sfc-chain' };
const VIP = '10.0.0.100';
const NEVER = '00000000-0000-4000-8000-00000000dead';

/** Tenant A: three dual-stack appliance ports, one with the VIP as an allowed pair, a router on both subnets, a security group; tenant B the same, smaller. */
function world() {
  const w = new World();
  const a = {
    caller: tenantA,
    ports: [w.port('tenant-a', ['10.0.0.11', '2001:db8::11'], 'hv1'), w.port('tenant-a', ['10.0.0.12', '2001:db8::12'], 'hv2'), w.portWithPairs('tenant-a', '10.0.0.13', [VIP])],
    router: w.router('tenant-a'),
    sg: w.securityGroup('tenant-a'),
  };
  const b = { caller: tenantB, ports: [w.port('tenant-b', ['10.0.0.21'], 'hv3')], router: w.router('tenant-b'), sg: w.securityGroup('tenant-b') };
  return { w, tenants: [a, b] };
}

type Tenant = ReturnType<typeof world>['tenants'][number];

/** One step: an operation and the random choices it draws its ids and values from. */
interface Step {
  op: (typeof OPS)[number];
  who: number;
  picks: number[];
  flag: boolean;
  choice: number;
}

const OPS = [
  'function.create',
  'function.update',
  'function.delete',
  'group.create',
  'group.update',
  'group.delete',
  'classifier.create',
  'classifier.update',
  'classifier.delete',
  'chain.create',
  'chain.update',
  'chain.delete',
  'health',
  'port.unbind',
  'port.rebind',
  'garp',
  'recreate',
] as const;

/** Creations more often than the rest, so that groups and chains find members, hops and classifiers to name. */
const WEIGHT: Partial<Record<Step['op'], number>> = { 'function.create': 5, 'group.create': 4, 'classifier.create': 3, 'chain.create': 4 };

const step: fc.Arbitrary<Step> = fc.record({
  op: fc.oneof(...OPS.map((op) => ({ arbitrary: fc.constant(op), weight: WEIGHT[op] ?? 1 }))),
  who: fc.nat(2),
  picks: fc.array(fc.nat(20), { minLength: 2, maxLength: 3 }),
  flag: fc.boolean(),
  choice: fc.nat(3),
});

class Run {
  private readonly creations: Array<{ name: ChainingCommandName; input: unknown; caller: Caller; requestId: string }> = [];
  private requests = 0;

  constructor(
    readonly w: World,
    private readonly tenants: Tenant[],
  ) {}

  /** A command as the handler runs it (group.create and group.update with their second step); a refusal writes nothing. */
  command(name: ChainingCommandName, input: unknown, caller: Caller, requestId = `req-${++this.requests}`): void {
    const d = this.w.decideWith(chainingContract.commands[name].request, deciders[name] as DeciderFor<ChainingState, NewChainingEvent>, input, caller, requestId);
    if (d.kind === 'append') this.w.apply(d);
    if (name.endsWith('.create')) this.creations.push({ name, input, caller, requestId });
    if (name === 'group.create') this.settle(() => activateNewGroup(this.w.state, d.resourceId));
    if (name === 'group.update') this.settle(() => settleActiveMember(this.w.state, (input as { id: string }).id));
  }

  settle = (decide: () => Decision): void => void this.w.settle(decide, 100);

  /** The ids of live resources of a kind (of `tenant`, if given), drawn by the step's picks. */
  private ids(map: Record<string, { tenant: string }>, picks: number[], tenant?: string): string[] {
    const all = Object.keys(map)
      .filter((id) => tenant === undefined || map[id]!.tenant === tenant)
      .sort();
    return all.length === 0 ? [] : [...new Set(picks.map((p) => all[p % all.length]!))];
  }

  do(s: Step): void {
    const t = this.tenants[s.who % this.tenants.length]!;
    // An admin acts on any tenant's resource; creations are the tenant's own.
    const actor = s.who === 2 ? admin : t.caller;
    const st = this.w.state;
    const [fn] = this.ids(st.functions, s.picks);
    const [group] = this.ids(st.groups, s.picks);
    const [cls] = this.ids(st.classifiers, s.picks);
    const [chain] = this.ids(st.chains, s.picks);
    const port = t.ports[s.picks[0]! % t.ports.length]!;
    const name = `n${s.choice}`;
    const run = <K extends ChainingCommandName>(k: K, input: ChainingCommandInput<K>, caller: Caller = actor) => this.command(k, input, caller);
    switch (s.op) {
      case 'function.create': {
        const egress = s.picks[1] === undefined ? undefined : t.ports[s.picks[1] % t.ports.length];
        const vip = s.flag && s.choice === 0 ? { virtualIp: VIP } : {};
        return run('function.create', { name, ingressPortId: port, egressPortId: egress, mode: s.choice === 3 ? 'wire' : 'l3', healthCheck: s.flag ? {} : undefined, ...vip }, t.caller);
      }
      case 'function.update':
        return fn === undefined ? undefined : run('function.update', { id: fn, name, healthCheck: s.flag ? null : s.choice === 1 ? { protocol: 'tcp', port: 22 } : undefined });
      case 'function.delete':
        return fn === undefined ? undefined : run('function.delete', { id: fn });
      case 'group.create': {
        const functionIds = this.ids(st.functions, s.picks, t.caller.tenant);
        return run('group.create', { name, functionIds, selection: s.flag ? 'active-standby' : 'flow-hash' }, t.caller);
      }
      case 'group.update':
        return group === undefined ? undefined : run('group.update', { id: group, name, functionIds: s.flag ? this.ids(st.functions, s.picks.slice(1)) : undefined });
      case 'group.delete':
        return group === undefined ? undefined : run('group.delete', { id: group });
      case 'classifier.create': {
        const destination = s.flag ? { groupId: t.sg } : { cidr: `10.0.${s.choice}.0/24` };
        return run('classifier.create', { name, protocol: 'tcp', destination, destinationPorts: { min: 80 + s.picks[0]!, max: 90 + s.picks[0]! } }, t.caller);
      }
      case 'classifier.update':
        return cls === undefined ? undefined : run('classifier.update', { id: cls, name, description: s.flag ? 'why' : '' });
      case 'classifier.delete':
        return cls === undefined ? undefined : run('classifier.delete', { id: cls });
      case 'chain.create':
        return run('chain.create', { name, routerId: t.router, groupIds: this.ids(st.groups, s.picks, t.caller.tenant), classifierIds: this.ids(st.classifiers, s.picks.slice(1), t.caller.tenant), symmetric: s.flag }, t.caller);
      case 'chain.update':
        return chain === undefined ? undefined : run('chain.update', { id: chain, name, ...(s.flag ? { groupIds: this.ids(st.groups, s.picks) } : { classifierIds: this.ids(st.classifiers, s.picks) }) });
      case 'chain.delete':
        return chain === undefined ? undefined : run('chain.delete', { id: chain });
      case 'health':
        return fn === undefined ? undefined : this.settle(() => decideHealth(this.w.state, { reporter: `hv${s.choice}`, functionId: fn, healthy: s.flag, detail: 'probe' }));
      case 'port.unbind':
        if (st.ports[port]?.hostId === null) return;
        this.w.portBound(port, null);
        return this.settle(() => decideLegLost(this.w.state, port));
      case 'port.rebind':
        return st.ports[port]?.hostId === null ? this.w.portBound(port, `hv${1 + (s.choice % 2)}`) : undefined;
      case 'garp':
        return this.settle(() => decideAddressOwner(this.w.state, { portId: port, ip: VIP, mac: '02:53:54:00:aa:aa', observedBy: 'hv1' }));
      case 'recreate': {
        // The same request again: a deleted resource comes back under its id (its aggregate goes on), a live one is left as it is.
        const again = this.creations[s.picks[0]! % Math.max(1, this.creations.length)];
        return again && this.command(again.name, again.input, again.caller, again.requestId);
      }
    }
  }
}

/** Every chaining resource the log names, and one it never does. */
function resourcesOf(w: World): HistoryCase[] {
  const ids = new Map<string, HistoryCase>();
  for (const e of w.events) {
    if (e.aggregate.context !== CHAINING_CONTEXT) continue;
    ids.set(e.subject, { kind: KIND_OF[e.aggregate.type]!, id: e.aggregate.id, aggregateId: e.aggregate.id });
  }
  return [...ids.values(), { kind: 'sfc-function', id: NEVER, aggregateId: NEVER }];
}

/** The log of a random run of steps. */
function logOf(steps: Step[]): World {
  const { w, tenants } = world();
  const r = new Run(w, tenants);
  for (const s of steps) {
    try {
      r.do(s);
    } catch (err) {
      if (!(err instanceof StrataError)) throw err;
    }
  }
  return w;
}

describe('chaining history', () => {
  it('at every position, each resource rebuilt from its own aggregate equals its view in the full fold (property)', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 50, size: 'max' }), async (steps) => {
        const w = logOf(steps);
        for (const e of w.events) seen.add(e.type);
        expect(await historyMismatches(chainingHistory, w.events, resourcesOf(w))).toEqual([]);
      }),
      { numRuns: 100 },
    );
    // The runs wrote every kind of chaining event (a generator whose commands were all refused would prove nothing).
    expect(chainingEvents.definitions.map((d) => d.type).filter((t) => !seen.has(t))).toEqual([]);
  });
});
