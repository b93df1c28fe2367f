/**
 * secgroup's `history` answer (issue 16): for random sequences of secgroup's
 * commands and of the IPAM port lifecycle it follows (with its port reactor
 * run after each, as live), at every log position the view of every security
 * group and port-security resource rebuilt from its own aggregate alone
 * equals the view in the full fold, and that view is what secgroup's own
 * queries answer.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SECGROUP_CONTEXT } from '@strata/contracts';
import { StrataError } from '@strata/errors';
import { auditedResources, historyMismatches } from '@strata/service-kit/testing';
import type { Decision } from './decide/index.js';
import { applyStored } from './evolve.js';
import { auditView } from './history.js';
import { getGroup, getPortSecurity } from './queries.js';
import { initialState, type SecgroupState } from './state.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

const TENANTS = ['tenant-a', 'tenant-b'] as const;
const callerOf = (t: string) => (t === 'tenant-a' ? tenantA : tenantB);

const op = fc.oneof(
  fc.record({ k: fc.constant('port' as const), t: fc.constantFrom(...TENANTS) }),
  fc.record({ k: fc.constant('unport' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('group' as const), t: fc.constantFrom(...TENANTS) }),
  fc.record({ k: fc.constant('rename' as const), i: fc.nat(), name: fc.constantFrom('web', 'db', 'x') }),
  fc.record({ k: fc.constant('ungroup' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('rule' as const), i: fc.nat(), j: fc.option(fc.nat()) }),
  fc.record({ k: fc.constant('unrule' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ k: fc.constant('set' as const), i: fc.nat(), gs: fc.array(fc.nat(), { maxLength: 3 }) }),
  fc.record({ k: fc.constant('security' as const), i: fc.nat(), on: fc.boolean() }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Run the operations as the service would (refusals write nothing); the log they leave. */
function run(ops: Op[]): World {
  const w = new World();
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  const tryRun = (fn: () => Decision): void => {
    try {
      const d = fn();
      if (d.kind === 'append') w.apply(d);
    } catch (e) {
      if (!(e instanceof StrataError)) throw e;
    }
  };
  for (const o of ops) {
    const ports = Object.keys(w.state.ports);
    const groups = Object.keys(w.state.groups);
    const group = (i: number) => pick(groups, i);
    switch (o.k) {
      case 'port':
        w.reactCreated(w.ipamPortCreated(o.t));
        break;
      case 'unport': {
        const p = pick(ports, o.i);
        if (!p) break;
        const t = w.state.ports[p]!.tenant;
        w.ipamPortDeleted(p);
        w.reactDeleted(p, t);
        break;
      }
      case 'group':
        tryRun(() => w.decide('group.create', { name: 'g' }, callerOf(o.t)));
        break;
      case 'rename': {
        const g = group(o.i);
        if (g) tryRun(() => w.decide('group.update', { id: g, name: o.name }, admin));
        break;
      }
      case 'ungroup': {
        const g = group(o.i);
        if (g) tryRun(() => w.decide('group.delete', { id: g }, admin));
        break;
      }
      case 'rule': {
        const g = group(o.i);
        if (!g) break;
        const remote = o.j === null ? undefined : group(o.j);
        tryRun(() =>
          w.decide('rule.create', { groupId: g, direction: 'ingress', ethertype: 'IPv4', ...(remote ? { remoteGroupId: remote } : { remoteCidr: '10.0.0.0/8' }) }, admin),
        );
        break;
      }
      case 'unrule': {
        const g = group(o.i);
        const rule = g ? pick(w.state.groups[g]!.rules, o.j) : undefined;
        if (g && rule) tryRun(() => w.decide('rule.delete', { groupId: g, ruleId: rule.id }, admin));
        break;
      }
      case 'set': {
        const p = pick(ports, o.i);
        if (p) tryRun(() => w.decide('port.setGroups', { portId: p, groupIds: o.gs.map(group).filter((g): g is string => g !== undefined) }, admin));
        break;
      }
      case 'security': {
        const p = pick(ports, o.i);
        if (p) tryRun(() => w.decide('port.setSecurity', { portId: p, enabled: o.on }, admin));
        break;
      }
    }
  }
  return w;
}

const source = { context: SECGROUP_CONTEXT, initial: initialState, fold: applyStored, view: auditView };

describe("secgroup's history", () => {
  it('rebuilds every group and port at every position from its own aggregate alone, equal to the full fold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 60 }), async (ops) => {
        const w = run(ops);
        expect(await historyMismatches((store) => ({ ...source, store }), w.events, auditedResources(source.context, w.events))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it("shows each resource as secgroup's own queries answer it (group.get; port.get while IPAM has the port)", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), (ops) => {
        const s: SecgroupState = run(ops).state;
        for (const id of Object.keys(s.groups)) expect(auditView(s, 'security-group', id)?.view).toEqual(getGroup(s, admin, { id }));
        for (const [portId, settings] of Object.entries(s.portSettings)) {
          const view = auditView(s, 'port-security', portId);
          if (settings.forgotten) expect(view).toBeNull();
          if (s.ports[portId]) expect(view?.view).toEqual(getPortSecurity(s, admin, { portId }));
        }
      }),
      { numRuns: 60 },
    );
  });
});
