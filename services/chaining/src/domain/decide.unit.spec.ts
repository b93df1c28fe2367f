import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErrorCode } from '@strata/errors';
import { getGroup, listFunctions } from './queries.js';
import { admin, LONE_SUBNET, refused, SUBNET4, tenantA, tenantB, World } from './test/given.js';
import type { Append, Decision } from './decide/index.js';

const MISSING = '00000000-0000-4000-8000-00000000dead';

/** Tenant A: two dual-stack appliance ports on hv1 and hv2, a router joined to both subnets, a security group; tenant B: a port, a router, a group. */
function world() {
  const w = new World();
  const fw1 = w.port('tenant-a', ['10.0.0.11', '2001:db8::11'], 'hv1');
  const fw2 = w.port('tenant-a', ['10.0.0.12', '2001:db8::12'], 'hv2');
  const router = w.router('tenant-a');
  const sg = w.securityGroup('tenant-a');
  const theirPort = w.port('tenant-b', ['10.0.0.21'], 'hv3');
  const theirRouter = w.router('tenant-b');
  const theirSg = w.securityGroup('tenant-b');
  return { w, fw1, fw2, router, sg, theirPort, theirRouter, theirSg };
}

/** `world()` plus an active-standby pair (fw1 first), a web → app tcp/9000 classifier. */
function pair() {
  const x = world();
  const f1 = x.w.run('function.create', { name: 'fw1', ingressPortId: x.fw1 }, tenantA).resourceId;
  const f2 = x.w.run('function.create', { name: 'fw2', ingressPortId: x.fw2 }, tenantA).resourceId;
  const group = x.w.createGroup({ name: 'fws', functionIds: [f1, f2] }, tenantA);
  const cls = x.w.run('classifier.create', { name: 'app', protocol: 'tcp', destination: { cidr: '10.0.1.0/24' }, destinationPorts: { min: 9000, max: 9000 } }, tenantA).resourceId;
  return { ...x, f1, f2, group, cls };
}


describe('function.create', () => {
  it('defaults to a one-arm L3 function without VIP or health check, owned by the caller', () => {
    const { w, fw1 } = world();
    const d = w.run('function.create', { name: 'fw', ingressPortId: fw1 }, tenantA);
    expect(d).toMatchObject({ aggregate: { context: 'chaining', type: 'function' }, expectedVersion: 0, tenant: 'tenant-a' });
    expect(d.event.data).toEqual({ functionId: d.resourceId, name: 'fw', description: '', ingressPortId: fw1, egressPortId: fw1, mode: 'l3', virtualIp: null, healthCheck: null });
    expect(listFunctions(w.state, tenantA, { limit: 10, after: '' }).items.map((f) => [f.id, f.healthy])).toEqual([[d.resourceId, true]]);
    expect(listFunctions(w.state, tenantB, { limit: 10, after: '' }).items).toEqual([]);
  });

  it('gives a health check sane defaults and records a tcp check\'s port', () => {
    const { w, fw1 } = world();
    expect(w.run('function.create', { ingressPortId: fw1, healthCheck: {} }, tenantA).event.data).toMatchObject({
      healthCheck: { protocol: 'icmp', port: null, intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 },
    });
    expect(w.run('function.create', { ingressPortId: fw1, healthCheck: { protocol: 'tcp', port: 22 } }, tenantA).event.data).toMatchObject({
      healthCheck: { protocol: 'tcp', port: 22 },
    });
  });

  it('accepts a virtual IP that is an allowed address pair of the ingress port', () => {
    const { w, fw1 } = world();
    w.addressPairs(fw1, ['10.0.0.100']);
    expect(w.run('function.create', { ingressPortId: fw1, virtualIp: '10.0.0.100' }, tenantA).event.data).toMatchObject({ virtualIp: '10.0.0.100' });
  });

  it('takes pairs given at the port\'s creation, prefixes included, and the latest list set', () => {
    const { w } = world();
    const p = w.portWithPairs('tenant-a', '10.0.0.40', ['10.0.0.128/25', '10.0.0.99']);
    expect(w.run('function.create', { ingressPortId: p, virtualIp: '10.0.0.200' }, tenantA).event.data).toMatchObject({ virtualIp: '10.0.0.200' });
    expect(w.decide('function.create', { ingressPortId: p, virtualIp: '10.0.0.99' }, tenantA).kind).toBe('append');
    w.addressPairs(p, ['10.0.0.99']);
    expect(refused(w, () => w.decide('function.create', { ingressPortId: p, virtualIp: '10.0.0.200' }, tenantA)).message).toContain('its pairs: 10.0.0.99');
    w.addressPairs(p, []);
    expect(refused(w, () => w.decide('function.create', { ingressPortId: p, virtualIp: '10.0.0.99' }, tenantA)).message).toContain('its pairs: none');
  });

  it('refuses, writing nothing, with the code and a message that says what is wrong', () => {
    const { w, fw1, fw2, theirPort } = world();
    // Another tenant's port is "not found", like a missing one, also for an admin acting for tenant-a.
    expect(refused(w, () => w.decide('function.create', { ingressPortId: theirPort }, tenantA))).toMatchObject({ code: ErrorCode.NotFound });
    expect(refused(w, () => w.decide('function.create', { ingressPortId: fw1, egressPortId: theirPort }, tenantA))).toMatchObject({ code: ErrorCode.NotFound });
    expect(refused(w, () => w.decide('function.create', { tenant: 'tenant-a', ingressPortId: theirPort }, admin))).toMatchObject({ code: ErrorCode.NotFound });
    expect(refused(w, () => w.decide('function.create', { ingressPortId: MISSING }, tenantA))).toMatchObject({ code: ErrorCode.NotFound, message: expect.stringContaining(MISSING) });
    expect(refused(w, () => w.decide('function.create', { ingressPortId: fw1, mode: 'wire' }, tenantA))).toMatchObject({
      code: ErrorCode.InvalidArgument,
      details: { field: 'egressPortId' },
    });
    expect(refused(w, () => w.decide('function.create', { ingressPortId: fw1, virtualIp: '10.0.0.100' }, tenantA))).toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: expect.stringContaining('not an allowed address pair'),
      details: { field: 'virtualIp' },
    });
    // A pair of the egress port is not enough: the VIP is the ingress leg's.
    w.addressPairs(fw2, ['10.0.0.100']);
    expect(refused(w, () => w.decide('function.create', { ingressPortId: fw1, egressPortId: fw2, virtualIp: '10.0.0.100' }, tenantA)).code).toBe(ErrorCode.InvalidArgument);
    for (const [healthCheck, field] of [
      [{ protocol: 'tcp' }, 'healthCheck.port'],
      [{ protocol: 'icmp', port: 80 }, 'healthCheck.port'],
      [{ intervalMs: 500, timeoutMs: 1000 }, 'healthCheck.timeoutMs'],
      [{ intervalMs: 10 }, 'healthCheck.intervalMs'],
      [{ rise: 0 }, 'healthCheck.rise'],
      [{ fall: 11 }, 'healthCheck.fall'],
      [{ protocol: 'tcp', port: 70000 }, 'healthCheck.port'],
    ] as const) {
      expect(refused(w, () => w.decide('function.create', { ingressPortId: fw1, healthCheck }, tenantA)), JSON.stringify(healthCheck)).toMatchObject({
        code: ErrorCode.InvalidArgument,
        details: { field },
      });
    }
  });
});

describe('group.create', () => {
  it('makes an active-standby group\'s first healthy member active (reason initial), after the creation', () => {
    const { w, f1, f2, group } = pair();
    const events = w.events.filter((e) => e.aggregate.id === group);
    expect(events.map((e) => e.type)).toEqual(['chaining.FunctionGroupCreated', 'chaining.ActiveFunctionChanged']);
    expect(events[1]!.data).toEqual({ groupId: group, functionId: f1, previousFunctionId: null, reason: 'initial', observedBy: '', detail: 'first healthy member at creation' });
    expect(getGroup(w.state, tenantA, { id: group })).toMatchObject({ functionIds: [f1, f2], selection: 'active-standby', fallback: 'fail-closed', activeFunctionId: f1 });
  });

  it('skips an unhealthy first member; a flow-hash group has no active member', () => {
    const { w, f1, f2 } = pair();
    w.health({ reporter: 'hv1', functionId: f1, healthy: false, detail: 'down' });
    expect(getGroup(w.state, tenantA, { id: w.createGroup({ functionIds: [f1, f2] }, tenantA) }).activeFunctionId).toBe(f2);
    const hashed = w.createGroup({ functionIds: [f1, f2], selection: 'flow-hash', fallback: 'fail-open' }, tenantA);
    expect(getGroup(w.state, tenantA, { id: hashed })).toMatchObject({ activeFunctionId: null, fallback: 'fail-open' });
  });

  it('refuses repeated, foreign, unknown or mixed-mode members and an empty list, writing nothing', () => {
    const { w, f1, fw1, fw2, theirPort } = pair();
    const theirs = w.run('function.create', { ingressPortId: theirPort }, tenantB).resourceId;
    const wire = w.run('function.create', { ingressPortId: fw1, egressPortId: fw2, mode: 'wire' }, tenantA).resourceId;
    expect(refused(w, () => w.decide('group.create', { functionIds: [f1, f1] }, tenantA))).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringContaining(f1) });
    expect(refused(w, () => w.decide('group.create', { functionIds: [] }, tenantA))).toMatchObject({ code: ErrorCode.InvalidArgument, details: { field: 'functionIds' } });
    expect(refused(w, () => w.decide('group.create', { functionIds: [f1, theirs] }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('group.create', { tenant: 'tenant-a', functionIds: [theirs] }, admin)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('group.create', { functionIds: [MISSING] }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('group.create', { functionIds: [f1, wire] }, tenantA))).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringContaining('wire') });
  });
});

describe('classifier.create', () => {
  it('records the match with defaults (IPv4, any protocol, any endpoints)', () => {
    const { w, sg } = world();
    const d = w.run('classifier.create', { name: 'c', destination: { groupId: sg } }, tenantA);
    expect(d.event.data).toEqual({
      name: 'c',
      description: '',
      classifier: { id: d.resourceId, ethertype: 'IPv4', protocol: 'any', source: { groupId: null, cidr: null }, destination: { groupId: sg, cidr: null }, sourcePorts: null, destinationPorts: null },
    });
  });

  it('refuses each bad field, writing nothing', () => {
    const { w, sg, theirSg } = world();
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [{ source: { groupId: MISSING } }, ErrorCode.NotFound],
      [{ destination: { groupId: theirSg } }, ErrorCode.NotFound],
      [{ source: { groupId: sg, cidr: '10.0.0.0/24' } }, ErrorCode.InvalidArgument, 'source.cidr'],
      [{ destination: { cidr: '2001:db8::/64' } }, ErrorCode.InvalidArgument, 'destination.cidr'],
      [{ ethertype: 'IPv6', source: { cidr: '10.0.0.0/24' } }, ErrorCode.InvalidArgument, 'source.cidr'],
      [{ destination: { cidr: '10.0.0.1/24' } }, ErrorCode.InvalidArgument, 'destination.cidr'],
      [{ protocol: 'icmp', destinationPorts: { min: 80, max: 80 } }, ErrorCode.InvalidArgument, 'destinationPorts'],
      [{ sourcePorts: { min: 80, max: 80 } }, ErrorCode.InvalidArgument, 'sourcePorts'],
      [{ protocol: 'tcp', destinationPorts: { min: 9000, max: 80 } }, ErrorCode.InvalidArgument, 'destinationPorts'],
      [{ protocol: 'udp', destinationPorts: { min: 0, max: 80 } }, ErrorCode.InvalidArgument, 'destinationPorts.min'],
      [{ protocol: 'udp', sourcePorts: { min: 1, max: 65536 } }, ErrorCode.InvalidArgument, 'sourcePorts.max'],
      [{ protocol: 'icmpv6' }, ErrorCode.InvalidArgument, 'protocol'],
      [{ ethertype: 'IPv6', protocol: 'icmp' }, ErrorCode.InvalidArgument, 'protocol'],
    ];
    for (const [input, code, field] of cases) {
      const r = refused(w, () => w.decide('classifier.create', input, tenantA));
      expect(r.code, JSON.stringify(input)).toBe(code);
      if (field) expect(r.details['field'], JSON.stringify(input)).toBe(field);
    }
    expect(refused(w, () => w.decide('classifier.create', { protocol: 'tcp', destinationPorts: { min: 9000, max: 80 } }, tenantA)).message).toMatch(/reversed/);
  });

  it('accepts a port range exactly when 1 ≤ min ≤ max ≤ 65535 (property)', () => {
    const { w } = world();
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 65540 }), fc.integer({ min: -5, max: 65540 }), fc.constantFrom('tcp', 'udp'), (min, max, protocol) => {
        const ok = min >= 1 && max <= 65535 && min <= max;
        const before = w.events.length;
        let accepted = true;
        try {
          w.decide('classifier.create', { protocol, destinationPorts: { min, max } }, tenantA);
        } catch {
          accepted = false;
        }
        expect(w.events.length).toBe(before);
        return accepted === ok;
      }),
      { numRuns: 300 },
    );
  });
});

/** A decision that must append (a type guard for the checks below). */
const appended = (d: Decision): Append => {
  if (d.kind !== 'append') throw new Error(`expected an append, got ${d.kind}`);
  return d;
};

describe('chain.create', () => {
  it('records the hops and classifiers on the router, symmetric by default', () => {
    const { w, router, group, cls } = pair();
    const d = w.run('chain.create', { name: 'web-app', routerId: router, groupIds: [group], classifierIds: [cls] }, tenantA);
    expect(d.event.data).toEqual({ chainId: d.resourceId, name: 'web-app', description: '', routerId: router, groupIds: [group], classifierIds: [cls], symmetric: true });
  });

  it('without a router, takes the one router of the tenant on every leg\'s network, and says why when none or several fit', () => {
    const { w, router, group, cls } = pair();
    expect(appended(w.decide('chain.create', { groupIds: [group], classifierIds: [cls] }, tenantA)).event.data).toMatchObject({ routerId: router });
    // An admin acting for tenant-a: still tenant-a's router; tenant-b's router on the same network never counts.
    expect(appended(w.decide('chain.create', { tenant: 'tenant-a', groupIds: [group], classifierIds: [cls] }, admin)).event.data).toMatchObject({ routerId: router });
    const second = w.router('tenant-a');
    expect(refused(w, () => w.decide('chain.create', { groupIds: [group], classifierIds: [cls] }, tenantA))).toMatchObject({
      code: ErrorCode.InvalidArgument,
      details: { field: 'routerId' },
      message: expect.stringContaining([router, second].sort().join(', ')),
    });
    expect(appended(w.decide('chain.create', { routerId: second, groupIds: [group], classifierIds: [cls] }, tenantA)).event.data).toMatchObject({ routerId: second });
  });

  it('without a router and none on the legs\' networks, refuses naming routerId; a foreign group stays not found', () => {
    const w = new World();
    const leg = w.port('tenant-a', ['10.0.0.11'], 'hv1');
    const theirs = w.createGroup({ functionIds: [w.run('function.create', { ingressPortId: w.port('tenant-b', ['10.0.0.21']) }, tenantB).resourceId] }, tenantB);
    const group = w.createGroup({ functionIds: [w.run('function.create', { ingressPortId: leg }, tenantA).resourceId] }, tenantA);
    const cls = w.run('classifier.create', {}, tenantA).resourceId;
    w.router('tenant-b');
    expect(refused(w, () => w.decide('chain.create', { groupIds: [group], classifierIds: [cls] }, tenantA))).toMatchObject({
      code: ErrorCode.InvalidArgument,
      details: { field: 'routerId' },
      message: expect.stringContaining('no router of the tenant'),
    });
    expect(refused(w, () => w.decide('chain.create', { groupIds: [theirs], classifierIds: [cls] }, tenantA)).code).toBe(ErrorCode.NotFound);
  });

  it('refuses a chain without hops or classifiers, with an unknown or foreign router, group or classifier', () => {
    const { w, router, theirRouter, group, cls, theirPort } = pair();
    const theirF = w.run('function.create', { ingressPortId: theirPort }, tenantB).resourceId;
    const theirGroup = w.createGroup({ functionIds: [theirF] }, tenantB);
    const theirCls = w.run('classifier.create', {}, tenantB).resourceId;
    const base = { routerId: router, groupIds: [group], classifierIds: [cls] };
    expect(refused(w, () => w.decide('chain.create', { ...base, groupIds: [] }, tenantA))).toMatchObject({ code: ErrorCode.InvalidArgument, message: expect.stringContaining('at least one hop') });
    expect(refused(w, () => w.decide('chain.create', { ...base, classifierIds: [] }, tenantA))).toMatchObject({ code: ErrorCode.InvalidArgument, details: { field: 'classifierIds' } });
    expect(refused(w, () => w.decide('chain.create', { ...base, groupIds: [group, group] }, tenantA)).code).toBe(ErrorCode.InvalidArgument);
    expect(refused(w, () => w.decide('chain.create', { ...base, routerId: theirRouter }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('chain.create', { ...base, tenant: 'tenant-a', routerId: theirRouter }, admin)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('chain.create', { ...base, routerId: MISSING }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('chain.create', { ...base, groupIds: [theirGroup] }, tenantA)).code).toBe(ErrorCode.NotFound);
    expect(refused(w, () => w.decide('chain.create', { ...base, classifierIds: [theirCls] }, tenantA)).code).toBe(ErrorCode.NotFound);
  });

  it('refuses an L3 hop whose member has no leg of the classifier\'s family on the router', () => {
    const { w, router, group, fw1 } = pair();
    const v6 = w.run('classifier.create', { ethertype: 'IPv6' }, tenantA).resourceId;
    const v4only = w.port('tenant-a', ['10.0.0.31'], 'hv1');
    const off = w.port('tenant-a', ['10.0.0.32'], 'hv1', LONE_SUBNET);
    const v4Cls = w.run('classifier.create', { protocol: 'udp' }, tenantA).resourceId;
    const fV4 = w.run('function.create', { ingressPortId: v4only }, tenantA).resourceId;
    const fOff = w.run('function.create', { ingressPortId: fw1, egressPortId: off }, tenantA).resourceId;
    const g4 = w.createGroup({ functionIds: [fV4] }, tenantA);
    const gOff = w.createGroup({ functionIds: [fOff] }, tenantA);
    const r = refused(w, () => w.decide('chain.create', { routerId: router, groupIds: [g4], classifierIds: [v6] }, tenantA));
    expect(r).toMatchObject({ code: ErrorCode.FailedPrecondition, message: expect.stringContaining('no IPv6 leg') });
    expect(refused(w, () => w.decide('chain.create', { routerId: router, groupIds: [gOff], classifierIds: [v4Cls] }, tenantA))).toMatchObject({
      code: ErrorCode.FailedPrecondition,
      details: { portId: off },
    });
    // A router without the appliance's subnet: no leg there either.
    const other = w.router('tenant-a', [LONE_SUBNET]);
    expect(refused(w, () => w.decide('chain.create', { routerId: other, groupIds: [group], classifierIds: [v4Cls] }, tenantA)).code).toBe(ErrorCode.FailedPrecondition);
  });

  it('refuses a second chain on the router with the same classifier or one matching the same flows, naming the first', () => {
    const { w, router, group, cls } = pair();
    const first = w.run('chain.create', { routerId: router, groupIds: [group], classifierIds: [cls] }, tenantA).resourceId;
    const twin = w.run('classifier.create', { name: 'twin', protocol: 'tcp', destination: { cidr: '10.0.1.0/24' }, destinationPorts: { min: 9000, max: 9000 } }, tenantA).resourceId;
    for (const classifierIds of [[cls], [twin]]) {
      expect(refused(w, () => w.decide('chain.create', { routerId: router, groupIds: [group], classifierIds }, tenantA))).toMatchObject({
        code: ErrorCode.AlreadyExists,
        message: expect.stringContaining(first),
        details: { chainId: first, classifierId: classifierIds[0], sameClassifier: classifierIds[0] === cls },
      });
    }
    const other = w.run('classifier.create', { protocol: 'tcp', destination: { cidr: '10.0.1.0/24' }, destinationPorts: { min: 9001, max: 9001 } }, tenantA).resourceId;
    expect(w.decide('chain.create', { routerId: router, groupIds: [group], classifierIds: [other] }, tenantA).kind).toBe('append');
    // On another router of the tenant the same classifier is fine.
    expect(w.decide('chain.create', { routerId: w.router('tenant-a'), groupIds: [group], classifierIds: [cls] }, tenantA).kind).toBe('append');
  });
});

describe('deletions', () => {
  it('refuses to delete what is in use, naming the user; deletes in order otherwise', () => {
    const { w, router, f1, group, cls } = pair();
    const chain = w.run('chain.create', { routerId: router, groupIds: [group], classifierIds: [cls] }, tenantA).resourceId;
    expect(refused(w, () => w.decide('function.delete', { id: f1 }, tenantA))).toMatchObject({ code: ErrorCode.FailedPrecondition, message: expect.stringContaining(group) });
    expect(refused(w, () => w.decide('group.delete', { id: group }, tenantA))).toMatchObject({ code: ErrorCode.FailedPrecondition, message: expect.stringContaining(chain) });
    expect(refused(w, () => w.decide('classifier.delete', { id: cls }, tenantA))).toMatchObject({ code: ErrorCode.FailedPrecondition, message: expect.stringContaining(chain) });
    expect(refused(w, () => w.decide('chain.delete', { id: chain }, tenantB)).code).toBe(ErrorCode.NotFound);
    w.run('chain.delete', { id: chain }, tenantA);
    w.run('group.delete', { id: group }, tenantA);
    w.run('classifier.delete', { id: cls }, tenantA);
    expect(w.run('function.delete', { id: f1 }, tenantA).event).toEqual({ type: 'chaining.ServiceFunctionDeleted', data: { functionId: f1 } });
    expect(w.state.tombstones[`function/${f1}`]).toBe(w.events.at(-1)!.seq);
  });
});

describe('health reports', () => {
  it('ignore a report from any host but the ingress port\'s', () => {
    const { w, f1 } = pair();
    expect(w.health({ reporter: 'hv2', functionId: f1, healthy: false, detail: 'spoofed' })).toEqual([]);
    expect(w.health({ reporter: 'hv1', functionId: MISSING, healthy: false, detail: '' })).toEqual([]);
  });

  it('fail over to the next healthy member (health), to none, and back on recovery (recovered); a repeated report writes nothing', () => {
    const { w, f1, f2, fw1, group } = pair();
    const down1 = w.health({ reporter: 'hv1', functionId: f1, healthy: false, detail: '3 probes lost' });
    expect(down1.map((d) => d.event)).toEqual([
      { type: 'chaining.FunctionHealthChanged', data: { functionId: f1, healthy: false, reason: 'check-failed', observedBy: 'hv1', detail: '3 probes lost' } },
      { type: 'chaining.ActiveFunctionChanged', data: { groupId: group, functionId: f2, previousFunctionId: f1, reason: 'health', observedBy: 'hv1', detail: expect.stringContaining('3 probes lost') } },
    ]);
    expect(w.health({ reporter: 'hv1', functionId: f1, healthy: false, detail: 'again' })).toEqual([]);
    const down2 = w.health({ reporter: 'hv2', functionId: f2, healthy: false, detail: 'gone' });
    expect(down2.map((d) => d.event.data)).toMatchObject([{ healthy: false }, { functionId: null, previousFunctionId: f2, reason: 'health' }]);
    // The port moves: now hv3 speaks for f1.
    w.portBound(fw1, 'hv3');
    expect(w.health({ reporter: 'hv1', functionId: f1, healthy: true, detail: 'stale host' })).toEqual([]);
    const up = w.health({ reporter: 'hv3', functionId: f1, healthy: true, detail: '2 probes answered' });
    expect(up.map((d) => d.event.data)).toMatchObject([{ healthy: true, reason: 'check-recovered' }, { functionId: f1, previousFunctionId: null, reason: 'recovered' }]);
    // f2 recovering while f1 is active changes no active member.
    expect(w.health({ reporter: 'hv2', functionId: f2, healthy: true, detail: '' }).map((d) => d.event.type)).toEqual(['chaining.FunctionHealthChanged']);
    expect(getGroup(w.state, tenantA, { id: group }).activeFunctionId).toBe(f1);
  });
});

describe('leg ports deleted or unbound (IPAM)', () => {
  it('make the function unhealthy (port-unbound) and fail its group over like a failed check; once', () => {
    const { w, fw1, f1, f2, group } = pair();
    w.portDeleted(fw1);
    expect(w.reactToLegLost(fw1).map((d) => d.event)).toEqual([
      { type: 'chaining.FunctionHealthChanged', data: { functionId: f1, healthy: false, reason: 'port-unbound', observedBy: '', detail: `its ingress port ${fw1} was deleted` } },
      { type: 'chaining.ActiveFunctionChanged', data: { groupId: group, functionId: f2, previousFunctionId: f1, reason: 'health', observedBy: '', detail: expect.stringContaining(fw1) } },
    ]);
    expect(w.reactToLegLost(fw1)).toEqual([]);
    // Its host can no longer speak for it.
    expect(w.health({ reporter: 'hv1', functionId: f1, healthy: true, detail: 'late report' })).toEqual([]);
    expect(getGroup(w.state, tenantA, { id: group }).activeFunctionId).toBe(f2);
  });

  it('an egress leg deleted: unhealthy, and a healthy report of the ingress host is no recovery', () => {
    const { w, fw1 } = world();
    const out = w.port('tenant-a', ['10.0.0.13'], 'hv1');
    const f = w.run('function.create', { ingressPortId: fw1, egressPortId: out }, tenantA).resourceId;
    const group = w.createGroup({ functionIds: [f] }, tenantA);
    w.portDeleted(out);
    expect(w.reactToLegLost(out).map((d) => d.event.data)).toMatchObject([
      { functionId: f, healthy: false, reason: 'port-unbound', detail: `its egress port ${out} was deleted` },
      { groupId: group, functionId: null, previousFunctionId: f, reason: 'health' },
    ]);
    expect(w.health({ reporter: 'hv1', functionId: f, healthy: true, detail: 'ingress answers' })).toEqual([]);
    expect(w.state.functions[f]!.healthy).toBe(false);
  });

  it('an unbound leg: unhealthy and failed over; bound again, the new host\'s healthy report recovers it', () => {
    const { w, fw1, f1, f2, group } = pair();
    w.portBound(fw1, null);
    expect(w.reactToLegLost(fw1).map((d) => d.event.data)).toMatchObject([
      { functionId: f1, healthy: false, reason: 'port-unbound', detail: `its ingress port ${fw1} was unbound from its host` },
      { groupId: group, functionId: f2, previousFunctionId: f1, reason: 'health' },
    ]);
    expect(w.health({ reporter: 'hv1', functionId: f1, healthy: true, detail: 'stale host' })).toEqual([]);
    w.portBound(fw1, 'hv3');
    expect(w.reactToLegLost(fw1)).toEqual([]);
    expect(w.health({ reporter: 'hv3', functionId: f1, healthy: true, detail: 'answers' }).map((d) => d.event.data)).toMatchObject([{ healthy: true, reason: 'check-recovered' }]);
  });

  it('an unbound egress leg: the ingress host\'s healthy report is no recovery until the leg is bound again', () => {
    const { w, fw1 } = world();
    const out = w.port('tenant-a', ['10.0.0.13'], 'hv2');
    const f = w.run('function.create', { ingressPortId: fw1, egressPortId: out }, tenantA).resourceId;
    w.portBound(out, null);
    expect(w.reactToLegLost(out).map((d) => d.event.data)).toMatchObject([{ functionId: f, healthy: false, reason: 'port-unbound' }]);
    expect(w.health({ reporter: 'hv1', functionId: f, healthy: true, detail: '' })).toEqual([]);
    w.portBound(out, 'hv2');
    expect(w.health({ reporter: 'hv1', functionId: f, healthy: true, detail: '' }).map((d) => d.event.data)).toMatchObject([{ healthy: true, reason: 'check-recovered' }]);
  });

  it('change nothing for a moved port, a port no function uses, or a member already unhealthy', () => {
    const { w, fw1, fw2, f2, group, theirPort } = pair();
    w.portBound(fw1, 'hv3');
    expect(w.reactToLegLost(fw1)).toEqual([]);
    w.portDeleted(theirPort);
    expect(w.reactToLegLost(theirPort)).toEqual([]);
    w.health({ reporter: 'hv2', functionId: f2, healthy: false, detail: 'down' });
    const before = w.state.groups[group]!.version;
    w.portDeleted(fw2);
    expect(w.reactToLegLost(fw2)).toEqual([]);
    expect(w.state.groups[group]!.version).toBe(before);
  });
});

describe('address owner changes (GARP)', () => {
  function vipPair() {
    const x = world();
    x.w.addressPairs(x.fw1, ['10.0.0.100']);
    x.w.addressPairs(x.fw2, ['10.0.0.100']);
    const f1 = x.w.run('function.create', { ingressPortId: x.fw1, virtualIp: '10.0.0.100' }, tenantA).resourceId;
    const f2 = x.w.run('function.create', { ingressPortId: x.fw2, virtualIp: '10.0.0.100' }, tenantA).resourceId;
    const group = x.w.createGroup({ functionIds: [f1, f2] }, tenantA);
    return { ...x, f1, f2, group };
  }

  it('make the member whose leg now owns the virtual IP active (garp), once', () => {
    const { w, fw2, f1, f2, group } = vipPair();
    const owner = { portId: fw2, ip: '10.0.0.100', mac: '02:53:54:00:00:02', observedBy: 'hv2' };
    expect(w.addressOwner(owner).map((d) => d.event.data)).toEqual([
      { groupId: group, functionId: f2, previousFunctionId: f1, reason: 'garp', observedBy: 'hv2', detail: expect.stringContaining('10.0.0.100') },
    ]);
    expect(w.addressOwner(owner)).toEqual([]);
  });

  it('ignore another address, a port that is no leg, and an unhealthy member', () => {
    const { w, fw1, fw2, f2, theirPort } = vipPair();
    expect(w.addressOwner({ portId: fw2, ip: '10.0.0.101', mac: 'm', observedBy: 'hv2' })).toEqual([]);
    expect(w.addressOwner({ portId: theirPort, ip: '10.0.0.100', mac: 'm', observedBy: 'hv3' })).toEqual([]);
    w.health({ reporter: 'hv2', functionId: f2, healthy: false, detail: '' });
    expect(w.addressOwner({ portId: fw2, ip: '10.0.0.100', mac: 'm', observedBy: 'hv2' })).toEqual([]);
    expect(w.addressOwner({ portId: fw1, ip: '10.0.0.100', mac: 'm', observedBy: 'hv1' })).toEqual([]);
  });
});
