/**
 * Updates of a security group (name, description) and of a port's security
 * (groups, port security): revisions, stale expectedRevision, immutable
 * fields, and "only real changes write".
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultSecurityGroupId } from '@strata/contracts';
import { errorOf } from '@strata/service-kit/testing';
import { getGroup, getPortSecurity } from './queries.js';
import { tenantA, tenantB, World } from './test/given.js';

function withGroup(): { w: World; id: string } {
  const w = new World();
  const id = w.run('group.create', { name: 'web', description: 'front end' }, tenantA).resourceId;
  return { w, id };
}

describe('group.update', () => {
  it('writes only the fields that change, and each event bumps the revision (rules included)', () => {
    const { w, id } = withGroup();
    expect(getGroup(w.state, tenantA, { id }).revision).toBe(1);
    const renamed = w.run('group.update', { id, name: 'www', description: 'front end', expectedRevision: 1 }, tenantA);
    expect(renamed.event).toEqual({ type: 'secgroup.GroupUpdated', data: { groupId: id, name: 'www' } });
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ name: 'www', description: 'front end', revision: 2 });
    w.run('rule.create', { groupId: id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portMin: 443 }, tenantA);
    expect(getGroup(w.state, tenantA, { id }).revision).toBe(3);
    const described = w.run('group.update', { id, description: '' }, tenantA);
    expect(described.event.data).toEqual({ groupId: id, description: '' });
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ name: 'www', description: '', revision: 4 });
  });

  it('property: an update with the current values (or none) writes nothing, whatever the revision history', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name: fc.string({ maxLength: 8 }), description: fc.string({ maxLength: 8 }) }), { maxLength: 5 }), fc.boolean(), (steps, named) => {
        const { w, id } = withGroup();
        for (const s of steps) {
          const d = s.name === 'default' ? undefined : w.decide('group.update', { id, ...s }, tenantA);
          if (d?.kind === 'append') w.apply(d);
        }
        const g = getGroup(w.state, tenantA, { id });
        const same = named ? { id, name: g.name, description: g.description, expectedRevision: g.revision } : { id };
        expect(w.decide('group.update', same, tenantA)).toEqual({ kind: 'done', resourceId: id });
      }),
    );
  });

  it('refuses a stale revision (even for a no-op), immutable fields by name, the reserved name, renaming the default group, and other tenants', () => {
    const { w, id } = withGroup();
    w.run('group.update', { id, name: 'www' }, tenantA);
    expect(errorOf(() => w.decide('group.update', { id, name: 'x', expectedRevision: 1 }, tenantA))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      name: 'RevisionConflictError',
      message: `security group ${id} is at revision 2, not the expected 1: read it again and retry`,
    });
    expect(errorOf(() => w.decide('group.update', { id, name: 'www', expectedRevision: 1 }, tenantA)).code).toBe('FAILED_PRECONDITION');
    expect(errorOf(() => w.decide('group.update', { id, tenant: 'tenant-b' } as never, tenantA))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "invalid request: tenant: cannot be changed: a security group's tenant is fixed at creation",
    });
    expect(errorOf(() => w.decide('group.update', { id, rules: [] } as never, tenantA)).message).toMatch(/rules: cannot be changed/);
    expect(errorOf(() => w.decide('group.update', { id, expectedRevision: 0 }, tenantA)).message).toMatch(/expectedRevision/);
    expect(errorOf(() => w.decide('group.update', { id, name: 'default' }, tenantA)).message).toMatch(/reserved/);
    expect(errorOf(() => w.decide('group.update', { id, name: 'x' }, tenantB)).code).toBe('NOT_FOUND');

    const port = w.ipamPortCreated('tenant-a');
    w.reactCreated(port);
    const def = defaultSecurityGroupId('tenant-a');
    expect(errorOf(() => w.decide('group.update', { id: def, name: 'mine' }, tenantA))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'name' } });
    expect(w.run('group.update', { id: def, description: 'ours' }, tenantA).event.data).toEqual({ groupId: def, description: 'ours' });
  });
});

describe("a port's security settings", () => {
  it('carry a revision: set by the reactor (1), bumped by each real change, checked against expectedRevision', () => {
    const { w, id: web } = withGroup();
    const port = w.ipamPortCreated('tenant-a');
    expect(getPortSecurity(w.state, tenantA, { portId: port }).revision).toBe(0);
    w.reactCreated(port);
    expect(getPortSecurity(w.state, tenantA, { portId: port }).revision).toBe(1);
    const groups = [defaultSecurityGroupId('tenant-a'), web];
    w.run('port.setGroups', { portId: port, groupIds: groups, expectedRevision: 1 }, tenantA);
    expect(getPortSecurity(w.state, tenantA, { portId: port }).revision).toBe(2);
    expect(w.decide('port.setGroups', { portId: port, groupIds: [...groups].reverse(), expectedRevision: 2 }, tenantA).kind).toBe('done');
    expect(w.decide('port.setSecurity', { portId: port, enabled: true, expectedRevision: 2 }, tenantA).kind).toBe('done');
    expect(errorOf(() => w.decide('port.setSecurity', { portId: port, enabled: false, expectedRevision: 1 }, tenantA))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: `port security of port ${port} is at revision 2, not the expected 1: read it again and retry`,
    });
    w.run('port.setSecurity', { portId: port, enabled: false, expectedRevision: 2 }, tenantA);
    expect(getPortSecurity(w.state, tenantA, { portId: port })).toMatchObject({ portSecurity: false, revision: 3 });
    // Deleted and recreated under the same id: its settings start again.
    w.ipamPortDeleted(port);
    w.reactDeleted(port);
    w.ipamPortCreated('tenant-a', port);
    w.reactCreated(port);
    expect(getPortSecurity(w.state, tenantA, { portId: port })).toMatchObject({ portSecurity: true, revision: 1 });
  });
});
