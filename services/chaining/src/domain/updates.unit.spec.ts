/**
 * Updates of functions, groups, classifiers and chains (networking-sfc's
 * `set`): revisions, stale expectedRevision, fixed fields refused by name,
 * only real changes written, and the creation checks holding for updates.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErrorCode } from '@strata/errors';
import { getChain, getClassifier, getFunction, getGroup } from './queries.js';
import { LONE_SUBNET, refused, tenantA, tenantB, World } from './test/given.js';

/** Tenant A: three appliance functions (fw1, fw2 on hv1/hv2; fw3 with no leg on the router), an active-standby group of fw1, fw2, a classifier, a chain. */
function chained() {
  const w = new World();
  const p1 = w.port('tenant-a', ['10.0.0.11', '2001:db8::11'], 'hv1');
  const p2 = w.port('tenant-a', ['10.0.0.12', '2001:db8::12'], 'hv2');
  const p3 = w.port('tenant-a', ['10.9.0.13'], 'hv2', LONE_SUBNET);
  const router = w.router('tenant-a');
  const sg = w.securityGroup('tenant-a');
  const f1 = w.run('function.create', { name: 'fw1', ingressPortId: p1 }, tenantA).resourceId;
  const f2 = w.run('function.create', { name: 'fw2', ingressPortId: p2 }, tenantA).resourceId;
  const f3 = w.run('function.create', { name: 'fw3', ingressPortId: p3 }, tenantA).resourceId;
  const group = w.createGroup({ name: 'fws', functionIds: [f1, f2] }, tenantA);
  const spare = w.createGroup({ name: 'spare', functionIds: [f2] }, tenantA);
  const cls = w.run('classifier.create', { name: 'app', protocol: 'tcp', destination: { cidr: '10.0.1.0/24' }, destinationPorts: { min: 9000, max: 9000 } }, tenantA).resourceId;
  const web = w.run('classifier.create', { name: 'web', source: { groupId: sg } }, tenantA).resourceId;
  const chain = w.run('chain.create', { name: 'web-app', routerId: router, groupIds: [group], classifierIds: [cls] }, tenantA).resourceId;
  return { w, p1, router, f1, f2, f3, group, spare, cls, web, chain };
}


describe('revisions', () => {
  it('start at 1 and grow by one per event of the resource (updates, health, active member)', () => {
    const { w, f1, group, cls, chain } = chained();
    expect(getFunction(w.state, tenantA, { id: f1 }).revision).toBe(1);
    // Created, then its first active member (`initial`).
    expect(getGroup(w.state, tenantA, { id: group }).revision).toBe(2);
    expect(getClassifier(w.state, tenantA, { id: cls }).revision).toBe(1);
    expect(getChain(w.state, tenantA, { id: chain }).revision).toBe(1);
    w.run('function.update', { id: f1, description: 'edge firewall', expectedRevision: 1 }, tenantA);
    w.health({ functionId: f1, healthy: false, detail: 'timeout', reporter: 'hv1' });
    expect(getFunction(w.state, tenantA, { id: f1 })).toMatchObject({ name: 'fw1', description: 'edge firewall', healthy: false, revision: 3 });
    // The failover moved the group's active member: one more revision.
    expect(getGroup(w.state, tenantA, { id: group }).revision).toBe(3);
  });
});

describe('function.update', () => {
  it('changes name, description and health check; null removes the check; the legs, mode and VIP are refused by name', () => {
    const { w, f1 } = chained();
    const d = w.run('function.update', { id: f1, healthCheck: { protocol: 'tcp', port: 22 } }, tenantA);
    expect(d.event).toEqual({
      type: 'chaining.ServiceFunctionUpdated',
      data: { functionId: f1, healthCheck: { protocol: 'tcp', port: 22, intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 } },
    });
    expect(w.run('function.update', { id: f1, healthCheck: null, name: 'fw1' }, tenantA).event.data).toEqual({ functionId: f1, healthCheck: null });
    expect(refused(w, () => w.decide('function.update', { id: f1, healthCheck: { protocol: 'icmp', port: 7 } }, tenantA)).message).toBe('an icmp health check has no port');
    for (const field of ['ingressPortId', 'egressPortId', 'mode', 'virtualIp', 'tenant']) {
      expect(refused(w, () => w.decide('function.update', { id: f1, [field]: 'x' } as never, tenantA))).toMatchObject({
        code: ErrorCode.InvalidArgument,
        message: expect.stringMatching(new RegExp(`^invalid request: ${field}: cannot be changed: `)),
        details: { field },
      });
    }
  });
});

describe('group.update', () => {
  it('replaces the members, checked as at creation (distinct, same tenant, one mode) and as a hop of its chains (legs on the router)', () => {
    const { w, f1, f2, f3, group } = chained();
    expect(refused(w, () => w.decide('group.update', { id: group, functionIds: [f1, f1] }, tenantA)).message).toMatch(/named twice/);
    const wire = w.run('function.create', { name: 'bump', ingressPortId: w.port('tenant-a', ['10.0.0.31']), egressPortId: w.port('tenant-a', ['10.0.0.32']), mode: 'wire' }, tenantA).resourceId;
    expect(refused(w, () => w.decide('group.update', { id: group, functionIds: [f1, wire] }, tenantA)).message).toMatch(/serve one hop the same way/);
    const theirs = w.run('function.create', { name: 'theirs', ingressPortId: w.port('tenant-b', ['10.0.0.41']) }, tenantB).resourceId;
    expect(refused(w, () => w.decide('group.update', { id: group, functionIds: [theirs] }, tenantA)).code).toBe(ErrorCode.NotFound);
    // fw3 has no leg on the chain's router: the group is a hop there, so it cannot take fw3.
    expect(refused(w, () => w.decide('group.update', { id: group, functionIds: [f3] }, tenantA))).toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining(`function ${f3} (group ${group}) has no IPv4 leg on router`),
    });
    expect(refused(w, () => w.decide('group.update', { id: group, selection: 'flow-hash' } as never, tenantA)).message).toMatch(/^invalid request: selection: cannot be changed/);
    // Reordered: a change (the order is the standby order); the active member stays.
    const written = w.updateGroup({ id: group, functionIds: [f2, f1] }, tenantA);
    expect(written.map((a) => a.event.type)).toEqual(['chaining.FunctionGroupUpdated']);
    expect(getGroup(w.state, tenantA, { id: group })).toMatchObject({ functionIds: [f2, f1], activeFunctionId: f1 });
  });

  it("taking the active member out moves traffic to the first healthy remaining member (member-removed), in the same request", () => {
    const { w, f1, f2, group } = chained();
    const written = w.updateGroup({ id: group, functionIds: [f2] }, tenantA);
    expect(written.map((a) => a.event)).toEqual([
      { type: 'chaining.FunctionGroupUpdated', data: { groupId: group, functionIds: [f2] } },
      {
        type: 'chaining.ActiveFunctionChanged',
        data: { groupId: group, functionId: f2, previousFunctionId: f1, reason: 'member-removed', observedBy: '', detail: `active member ${f1} was removed from the group` },
      },
    ]);
  });
});

describe('classifier.update', () => {
  it('renames and re-describes; every match field is refused by name', () => {
    const { w, cls } = chained();
    expect(w.run('classifier.update', { id: cls, name: 'to app', description: 'tcp/9000' }, tenantA).event.data).toEqual({ classifierId: cls, name: 'to app', description: 'tcp/9000' });
    for (const field of ['ethertype', 'protocol', 'source', 'destination', 'sourcePorts', 'destinationPorts']) {
      expect(refused(w, () => w.decide('classifier.update', { id: cls, [field]: 'tcp' } as never, tenantA))).toMatchObject({
        code: ErrorCode.InvalidArgument,
        message: `invalid request: ${field}: cannot be changed: a flow classifier's match is fixed at creation (as in networking-sfc): create a new classifier and put it in the chain instead`,
      });
    }
  });
});

describe('chain.update', () => {
  it('replaces hops and classifiers, checked as at creation; the router and symmetry are refused by name', () => {
    const { w, router, f3, spare, group, cls, web, chain } = chained();
    const other = w.run('chain.create', { name: 'web', routerId: router, groupIds: [spare], classifierIds: [web] }, tenantA).resourceId;
    // Its own classifiers again in another order are not "another chain's".
    expect(w.run('chain.update', { id: chain, classifierIds: [cls], groupIds: [spare, group] }, tenantA).event.data).toEqual({ chainId: chain, groupIds: [spare, group] });
    expect(refused(w, () => w.decide('chain.update', { id: chain, classifierIds: [cls, web] }, tenantA))).toMatchObject({
      code: ErrorCode.AlreadyExists,
      message: `chain ${other} on router ${router} already takes the flows of classifier ${web}; a flow is steered by one chain`,
    });
    expect(refused(w, () => w.decide('chain.update', { id: chain, groupIds: [group, group] }, tenantA)).message).toBe(`${group} is named twice in groupIds`);
    expect(refused(w, () => w.decide('chain.update', { id: chain, groupIds: [] }, tenantA)).message).toMatch(/groupIds: a chain needs at least one hop/);
    const far = w.createGroup({ name: 'far', functionIds: [f3] }, tenantA);
    expect(refused(w, () => w.decide('chain.update', { id: chain, groupIds: [far] }, tenantA)).code).toBe(ErrorCode.FailedPrecondition);
    expect(refused(w, () => w.decide('chain.update', { id: chain, routerId: router } as never, tenantA)).message).toMatch(/^invalid request: routerId: cannot be changed/);
    expect(refused(w, () => w.decide('chain.update', { id: chain, symmetric: false } as never, tenantA)).details).toMatchObject({ field: 'symmetric' });
    expect(refused(w, () => w.decide('chain.update', { id: chain, name: 'mine' }, tenantB)).code).toBe(ErrorCode.NotFound);
  });
});

describe('every update', () => {
  it('refuses a stale expectedRevision, writing nothing, also when nothing would change', () => {
    const { w, f1, group, cls, chain } = chained();
    const cases = [
      ['function.update', f1, 'service function', 1],
      ['group.update', group, 'function group', 2],
      ['classifier.update', cls, 'flow classifier', 1],
      ['chain.update', chain, 'chain', 1],
    ] as const;
    for (const [op, id, kind, revision] of cases) {
      expect(refused(w, () => w.decide(op, { id, expectedRevision: revision + 1 }, tenantA))).toMatchObject({
        code: ErrorCode.FailedPrecondition,
        message: `${kind} ${id} is at revision ${revision}, not the expected ${revision + 1}: read it again and retry`,
        details: { field: 'expectedRevision', revision },
      });
    }
  });

  it('property: sending back the current values (any subset) with the current revision writes nothing', () => {
    const { w, f1, group, cls, chain } = chained();
    w.run('function.update', { id: f1, healthCheck: { protocol: 'tcp', port: 443 } }, tenantA);
    const views = {
      'function.update': () => getFunction(w.state, tenantA, { id: f1 }),
      'group.update': () => getGroup(w.state, tenantA, { id: group }),
      'classifier.update': () => getClassifier(w.state, tenantA, { id: cls }),
      'chain.update': () => getChain(w.state, tenantA, { id: chain }),
    } as const;
    const updatable = { 'function.update': ['name', 'description', 'healthCheck'], 'group.update': ['name', 'description', 'functionIds'], 'classifier.update': ['name', 'description'], 'chain.update': ['name', 'description', 'groupIds', 'classifierIds'] } as const;
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(views) as Array<keyof typeof views>)), fc.func(fc.boolean()), (op, keep) => {
        const view = views[op]() as unknown as Record<string, unknown>;
        const fields = Object.fromEntries(updatable[op].filter((f) => keep(f)).map((f) => [f, view[f]]));
        expect(w.decide(op, { id: view.id as string, expectedRevision: view.revision as number, ...fields } as never, tenantA)).toEqual({ kind: 'done', resourceId: view.id });
      }),
    );
  });
});
