/** A security group's federation tag (docs/architecture.md, "Security groups across zones"): set, changed, removed; unique per tenant; scoped to the group's own tenant. */
import { describe, expect, it } from 'vitest';
import { SecgroupRefusal } from '@strata/contracts';
import { admin, errorOf } from '@strata/service-kit/testing';
import { getGroup } from './queries.js';
import { tenantA, tenantB, World } from './test/given.js';

describe('federation tags', () => {
  it('set at creation (in the creating event), changed and removed by group.update; the same tag again writes nothing', () => {
    const w = new World();
    const created = w.run('group.create', { name: 'app', description: '', federationTag: 10 }, tenantA);
    expect(created.event.data).toMatchObject({ groupId: created.resourceId, federationTag: 10 });
    const id = created.resourceId;
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ federationTag: 10, revision: 1 });
    expect(w.decide('group.update', { id, federationTag: 10 }, tenantA)).toEqual({ kind: 'done', resourceId: id });
    expect(w.run('group.update', { id, federationTag: 11 }, tenantA).event.data).toEqual({ groupId: id, federationTag: 11 });
    expect(getGroup(w.state, tenantA, { id })).toMatchObject({ federationTag: 11, revision: 2 });
    expect(w.run('group.update', { id, federationTag: null }, tenantA).event.data).toEqual({ groupId: id, federationTag: null });
    expect(getGroup(w.state, tenantA, { id }).federationTag).toBeNull();
    expect(w.decide('group.update', { id, federationTag: null }, tenantA)).toEqual({ kind: 'done', resourceId: id });
    // a group created without one has none, and its event says nothing of it
    const plain = w.run('group.create', { name: 'web', description: '' }, tenantA);
    expect(plain.event.data).not.toHaveProperty('federationTag');
  });

  it("is unique per tenant: a second group of the tenant is refused (ALREADY_EXISTS, nothing written); a released tag is free again; another tenant's use is unrelated", () => {
    const w = new World();
    const app = w.run('group.create', { name: 'app', description: '', federationTag: 10 }, tenantA).resourceId;
    const web = w.run('group.create', { name: 'web', description: '' }, tenantA).resourceId;
    const refused = (f: () => unknown) => {
      const before = w.events.length;
      const e = errorOf(f);
      expect(w.events.length).toBe(before);
      return e;
    };
    const e = refused(() => w.decide('group.create', { name: 'other', description: '', federationTag: 10 }, tenantA));
    expect(e).toMatchObject({ code: 'ALREADY_EXISTS', details: { field: 'federationTag', reason: SecgroupRefusal.FederationTagTaken } });
    expect(e.message).toContain(app);
    expect(refused(() => w.decide('group.update', { id: web, federationTag: 10 }, tenantA)).code).toBe('ALREADY_EXISTS');
    // tenant B may use 10 for its own group: tags are scoped by tenant, and the refusal above named only A's group
    const b = w.run('group.create', { name: 'app', description: '', federationTag: 10 }, tenantB).resourceId;
    expect(getGroup(w.state, tenantB, { id: b }).federationTag).toBe(10);
    // moving app to 11 frees 10; deleting a group frees its tag
    w.run('group.update', { id: app, federationTag: 11 }, tenantA);
    w.run('group.update', { id: web, federationTag: 10 }, tenantA);
    w.run('group.delete', { id: app }, tenantA);
    expect(w.run('group.create', { name: 'again', description: '', federationTag: 11 }, tenantA).event.data).toMatchObject({ federationTag: 11 });
  });

  it("refuses, writing nothing: a tag outside 1-65535, a tenant tagging another tenant's group (NOT_FOUND, as if it did not exist); an admin may tag any", () => {
    const w = new World();
    const id = w.run('group.create', { name: 'app', description: '' }, tenantA).resourceId;
    for (const bad of [0, 65536, 1.5, -1]) {
      expect(errorOf(() => w.decide('group.create', { name: 'x', description: '', federationTag: bad }, tenantA))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'federationTag' } });
      expect(errorOf(() => w.decide('group.update', { id, federationTag: bad }, tenantA)).code).toBe('INVALID_ARGUMENT');
    }
    const before = w.events.length;
    expect(errorOf(() => w.decide('group.update', { id, federationTag: 10 }, tenantB)).code).toBe('NOT_FOUND');
    expect(w.events.length).toBe(before);
    expect(w.run('group.update', { id, federationTag: 10 }, admin).event.data).toEqual({ groupId: id, federationTag: 10 });
    // an admin creating for tenant A meets A's tags
    expect(errorOf(() => w.decide('group.create', { tenant: 'tenant-a', name: 'y', description: '', federationTag: 10 }, admin)).code).toBe('ALREADY_EXISTS');
  });
});
