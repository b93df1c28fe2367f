import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultSecurityGroupId, defaultSecurityGroupRuleId, Id, secgroupEvents } from '@strata/contracts';
import { ErrorCode, StrataError } from '@strata/errors';
import type { Decision } from './decide/index.js';
import type { SecgroupState } from './state.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    expect((e as StrataError).code).toBe(code);
    expect((e as StrataError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error, got a decision');
}

describe('the default group', () => {
  it('has a UUID-shaped id derived from the tenant, and four rules: all egress, ingress from itself', () => {
    const id = defaultSecurityGroupId('tenant-a');
    expect(Id.safeParse(id).success).toBe(true);
    expect(id).toBe(defaultSecurityGroupId('tenant-a'));
    expect(id).not.toBe(defaultSecurityGroupId('tenant-b'));

    const w = new World();
    const port = w.ipamPortCreated('tenant-a');
    const [created, joined] = w.reactCreated(port);
    expect(created).toMatchObject({ aggregate: { context: 'secgroup', type: 'group', id }, expectedVersion: 0, tenant: 'tenant-a' });
    const rule = (name: string, direction: string, ethertype: string, remoteGroupId: string | null) => ({
      id: defaultSecurityGroupRuleId('tenant-a', name),
      direction,
      ethertype,
      protocol: 'any',
      portMin: null,
      portMax: null,
      icmpType: null,
      icmpCode: null,
      remoteGroupId,
      remoteCidr: null,
    });
    expect(created!.event).toEqual({
      type: 'secgroup.GroupCreated',
      data: {
        groupId: id,
        name: 'default',
        description: 'Default security group',
        isDefault: true,
        rules: [rule('egress-ipv4', 'egress', 'IPv4', null), rule('egress-ipv6', 'egress', 'IPv6', null), rule('ingress-ipv4', 'ingress', 'IPv4', id), rule('ingress-ipv6', 'ingress', 'IPv6', id)],
      },
    });
    expect(joined).toMatchObject({ aggregate: { type: 'port', id: port }, expectedVersion: 0, event: { type: 'secgroup.PortGroupsSet', data: { portId: port, groupIds: [id] } } });
    for (const r of (created!.event.data as { rules: { id: string }[] }).rules) expect(Id.safeParse(r.id).success).toBe(true);
  });

  it("never puts a port into another tenant's group found under its default group's id (a squat from an old log): the port stays unset", () => {
    const w = new World();
    const squatted = defaultSecurityGroupId('tenant-c');
    // Written by code before issue 11 (a create used the request id as the group id); impossible to decide today.
    w.storeOf(secgroupEvents, 'secgroup.GroupCreated', { context: 'secgroup', type: 'group', id: squatted }, { groupId: squatted, name: 'evil', description: '', isDefault: false, rules: [] }, 'tenant-a');
    const port = w.ipamPortCreated('tenant-c');
    expect(w.reactCreated(port)).toEqual([]);
    expect(w.state.portSettings[port]).toBeUndefined();
    // Nor can a command put it there: the group is not the port's tenant's.
    expectError(() => w.decide('port.setGroups', { portId: port, groupIds: [squatted] }, admin), ErrorCode.NotFound, new RegExp(`security group ${squatted} not found`));
  });

  it('is created once per tenant; every further port only joins it; a second reaction writes nothing', () => {
    const w = new World();
    const p1 = w.ipamPortCreated('tenant-a');
    const p2 = w.ipamPortCreated('tenant-a');
    const pb = w.ipamPortCreated('tenant-b');
    expect(w.reactCreated(p1).map((d) => d.event.type)).toEqual(['secgroup.GroupCreated', 'secgroup.PortGroupsSet']);
    expect(w.reactCreated(p2).map((d) => d.event.type)).toEqual(['secgroup.PortGroupsSet']);
    expect(w.reactCreated(p1)).toEqual([]);
    expect(w.reactCreated(pb).map((d) => d.event.type)).toEqual(['secgroup.GroupCreated', 'secgroup.PortGroupsSet']);
    expect(Object.values(w.state.groups).filter((g) => g.isDefault).map((g) => g.tenant).sort()).toEqual(['tenant-a', 'tenant-b']);
    expect(Object.keys(w.state.members[defaultSecurityGroupId('tenant-a')]!).sort()).toEqual([p1, p2].sort());
  });

  it('leaves a port whose groups were set (even to none) alone, and a port deleted before the reaction', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    w.run('port.setGroups', { portId: p, groupIds: [] }, tenantA);
    expect(w.reactCreated(p)).toEqual([]);
    const gone = w.ipamPortCreated('tenant-a');
    w.ipamPortDeleted(gone);
    expect(w.reactCreated(gone)).toEqual([]);
    // Port security alone is not membership: the port still joins the default group.
    const q = w.ipamPortCreated('tenant-a');
    w.run('port.setSecurity', { portId: q, enabled: false }, tenantA);
    const securitySeq = w.state.portSettings[q]!.version;
    const joined = w.reactCreated(q).at(-1);
    expect(joined!.expectedVersion).toBe(securitySeq);
    expect(w.state.portSettings[q]).toMatchObject({ groupIds: [defaultSecurityGroupId('tenant-a')], portSecurity: false });
  });

  it('forgets a deleted port (also one that never had settings), once', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    w.reactCreated(p);
    w.ipamPortDeleted(p);
    const [forgot] = w.reactDeleted(p);
    expect(forgot).toMatchObject({ aggregate: { type: 'port', id: p }, event: { type: 'secgroup.PortForgotten', data: { portId: p } } });
    expect(w.reactDeleted(p)).toEqual([]);
    expect(w.state.members[defaultSecurityGroupId('tenant-a')]).toBeUndefined();
    const bare = w.ipamPortCreated('tenant-a');
    w.ipamPortDeleted(bare);
    expect(w.reactDeleted(bare)).toMatchObject([{ expectedVersion: 0, event: { type: 'secgroup.PortForgotten' } }]);
    // A stale decision about the port made before the tombstone now conflicts: the tombstone moved the version.
    expect(w.state.portSettings[bare]!.version).toBeGreaterThan(0);
  });

  it('is deleted only by an admin, and not while the tenant has ports; afterwards it is, and the next port recreates it with the same id', () => {
    const w = new World();
    const id = defaultSecurityGroupId('tenant-a');
    const p = w.ipamPortCreated('tenant-a');
    w.reactCreated(p);
    w.run('port.setGroups', { portId: p, groupIds: [] }, tenantA);
    expectError(() => w.decide('group.delete', { id }, admin), ErrorCode.FailedPrecondition, /default group of tenant tenant-a, which still has 1 port/);
    w.ipamPortDeleted(p);
    w.reactDeleted(p);
    expectError(() => w.decide('group.delete', { id }, tenantA), ErrorCode.FailedPrecondition, /default group of tenant tenant-a: only an admin may delete it/);
    const deleted = w.run('group.delete', { id }, admin);
    const q = w.ipamPortCreated('tenant-a');
    const [recreated] = w.reactCreated(q);
    expect(recreated).toMatchObject({ aggregate: { id }, expectedVersion: w.events.find((e) => e.type === 'secgroup.GroupDeleted')!.seq });
    expect(deleted.resourceId).toBe(id);
    expect(w.state.portSettings[q]!.groupIds).toEqual([id]);
  });

  it('repairs a membership that names a default group deleted in a race, by recreating the group', () => {
    const w = new World();
    const id = defaultSecurityGroupId('tenant-a');
    const p = w.ipamPortCreated('tenant-a');
    w.reactCreated(p);
    // The race: the delete was decided against a state without the port, and landed after the membership.
    w.apply({ kind: 'append', aggregate: { context: 'secgroup', type: 'group', id }, expectedVersion: 0, tenant: 'tenant-a', resourceId: id, event: { type: 'secgroup.GroupDeleted', data: { groupId: id } } });
    expect(w.state.members[id]).toBeUndefined();
    expect(w.reactCreated(p).map((d) => d.event.type)).toEqual(['secgroup.GroupCreated']);
    expect(Object.keys(w.state.members[id]!)).toEqual([p]);
  });
});

describe('port membership and port security', () => {
  it('sets groups (deduplicated, sorted) on an existing port of the caller; same list again is a no-op', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    const a = w.run('group.create', { name: 'a' }, tenantA).resourceId;
    const b = w.run('group.create', { name: 'b' }, tenantA).resourceId;
    const d = w.run('port.setGroups', { portId: p, groupIds: [b, a, b] }, tenantA);
    expect(d.event).toEqual({ type: 'secgroup.PortGroupsSet', data: { portId: p, groupIds: [a, b].sort() } });
    expect(d.tenant).toBe('tenant-a');
    expect(w.decide('port.setGroups', { portId: p, groupIds: [a, b] }, tenantA)).toEqual({ kind: 'done', resourceId: p });
    expect(w.run('port.setGroups', { portId: p, groupIds: [] }, tenantA).event.data).toEqual({ portId: p, groupIds: [] });
    expect(w.state.members[a]).toBeUndefined();
  });

  it("needs the port to exist and be the caller's, and every group to be in the port's tenant", () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    const mine = w.run('group.create', { name: 'a' }, tenantA).resourceId;
    const theirs = w.run('group.create', { name: 'b' }, tenantB).resourceId;
    const missing = '00000000-0000-4000-8000-00000000beef';
    expectError(() => w.decide('port.setGroups', { portId: missing, groupIds: [] }, tenantA), ErrorCode.NotFound, new RegExp(`port ${missing} not found`));
    expectError(() => w.decide('port.setGroups', { portId: p, groupIds: [mine] }, tenantB), ErrorCode.NotFound, new RegExp(`port ${p} not found`));
    expectError(() => w.decide('port.setGroups', { portId: p, groupIds: [mine, theirs] }, tenantA), ErrorCode.NotFound, new RegExp(`security group ${theirs} not found`));
    expectError(() => w.decide('port.setGroups', { portId: p, groupIds: [theirs] }, admin), ErrorCode.NotFound, new RegExp(`security group ${theirs} not found`));
    expectError(() => w.decide('port.setGroups', { portId: p, groupIds: [missing] }, tenantA), ErrorCode.NotFound, /not found/);
    expect(w.decide('port.setGroups', { portId: p, groupIds: [mine] }, admin).kind).toBe('append');
  });

  it('allows at most 16 groups per port', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    const ids = Array.from({ length: 17 }, (_, i) => w.run('group.create', { name: `g${i}` }, tenantA).resourceId);
    expectError(() => w.decide('port.setGroups', { portId: p, groupIds: ids }, tenantA), ErrorCode.InvalidArgument, /groupIds: a port may be in at most 16 security groups/);
    expect(w.decide('port.setGroups', { portId: p, groupIds: ids.slice(0, 16) }, tenantA).kind).toBe('append');
  });

  it('has port security on by default; turning it off writes one event', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    expect(w.decide('port.setSecurity', { portId: p, enabled: true }, tenantA).kind).toBe('done');
    expect(w.run('port.setSecurity', { portId: p, enabled: false }, tenantA).event).toEqual({ type: 'secgroup.PortSecuritySet', data: { portId: p, enabled: false } });
    expect(w.decide('port.setSecurity', { portId: p, enabled: false }, tenantA).kind).toBe('done');
  });
});

describe('group deletion', () => {
  it('is refused while a port is a member, naming the port', () => {
    const w = new World();
    const p = w.ipamPortCreated('tenant-a');
    const g = w.run('group.create', { name: 'web' }, tenantA).resourceId;
    w.run('port.setGroups', { portId: p, groupIds: [g] }, tenantA);
    expectError(() => w.decide('group.delete', { id: g }, tenantA), ErrorCode.FailedPrecondition, new RegExp(`still has 1 member port\\(s\\): ${p}`));
    w.run('port.setGroups', { portId: p, groupIds: [] }, tenantA);
    expect(w.decide('group.delete', { id: g }, tenantA).kind).toBe('append');
  });

  it("is refused while another group's rule names it as remote group, naming that group; its own rules do not count", () => {
    const w = new World();
    const web = w.run('group.create', { name: 'web' }, tenantA).resourceId;
    const app = w.run('group.create', { name: 'app' }, tenantA).resourceId;
    w.run('rule.create', { groupId: web, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: web }, tenantA);
    const rule = w.run('rule.create', { groupId: app, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 9000, remoteGroupId: web }, tenantA).resourceId;
    expectError(() => w.decide('group.delete', { id: web }, tenantA), ErrorCode.FailedPrecondition, new RegExp(`remote group of rules in security group\\(s\\) ${app} \\(app\\)`));
    w.run('rule.delete', { groupId: app, ruleId: rule }, tenantA);
    w.run('group.delete', { id: web }, tenantA);
    expect(w.state.groups[web]).toBeUndefined();
    expect(w.state.remoteRefs[web]).toBeUndefined();
    expectError(() => w.decide('rule.create', { groupId: app, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: web }, tenantA), ErrorCode.NotFound, /not found/);
  });
});

describe('the fold', () => {
  /** The indexes hold exactly what a recomputation from groups and port settings gives. */
  function checkIndexes(s: SecgroupState): void {
    const members: Record<string, string[]> = {};
    for (const [portId, ps] of Object.entries(s.portSettings)) {
      for (const g of ps.groupIds ?? []) if (s.groups[g]) (members[g] ??= []).push(portId);
    }
    expect(Object.fromEntries(Object.entries(s.members).map(([g, m]) => [g, Object.keys(m).sort()]))).toEqual(
      Object.fromEntries(Object.entries(members).map(([g, m]) => [g, m.sort()])),
    );
    const refs: Record<string, Record<string, string>> = {};
    for (const g of Object.values(s.groups)) for (const r of g.rules) if (r.remoteGroupId && s.groups[r.remoteGroupId]) (refs[r.remoteGroupId] ??= {})[r.id] = g.id;
    expect(s.remoteRefs).toEqual(refs);
    const tenants: Record<string, number> = {};
    for (const p of Object.values(s.ports)) tenants[p.tenant] = (tenants[p.tenant] ?? 0) + 1;
    expect(s.tenantPorts).toEqual(tenants);
  }

  it('keeps its indexes equal to a recomputation, whatever the order of operations', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('port' as const), t: fc.constantFrom('tenant-a', 'tenant-b') }),
      fc.record({ k: fc.constant('unport' as const), i: fc.nat() }),
      fc.record({ k: fc.constant('group' as const), t: fc.constantFrom('tenant-a', 'tenant-b') }),
      fc.record({ k: fc.constant('ungroup' as const), i: fc.nat() }),
      fc.record({ k: fc.constant('rule' as const), i: fc.nat(), j: fc.nat() }),
      fc.record({ k: fc.constant('set' as const), i: fc.nat(), gs: fc.array(fc.nat(), { maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
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
          if (o.k === 'port') w.reactCreated(w.ipamPortCreated(o.t));
          else if (o.k === 'unport') {
            const p = pick(ports, o.i);
            if (p) {
              const t = w.state.ports[p]!.tenant;
              w.ipamPortDeleted(p);
              w.reactDeleted(p, t);
            }
          } else if (o.k === 'group') tryRun(() => w.decide('group.create', { name: 'g', tenant: o.t }, admin));
          else if (o.k === 'ungroup') tryRun(() => w.decide('group.delete', { id: pick(groups, o.i) ?? '00000000-0000-4000-8000-000000000000' }, admin));
          else if (o.k === 'rule') {
            const g = pick(groups, o.i);
            const r = pick(groups, o.j);
            if (g && r) tryRun(() => w.decide('rule.create', { groupId: g, direction: 'ingress', ethertype: 'IPv4', remoteGroupId: r }, admin));
          } else {
            const p = pick(ports, o.i);
            if (p) tryRun(() => w.decide('port.setGroups', { portId: p, groupIds: o.gs.map((i) => pick(groups, i)!).filter(Boolean) }, admin));
          }
          checkIndexes(w.state);
        }
      }),
      { numRuns: 100 },
    );
  });
});
