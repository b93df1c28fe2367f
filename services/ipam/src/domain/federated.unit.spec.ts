/**
 * Stretched networks (docs/architecture.md, "Availability zones"): the
 * `federated` flag (set by the network's tenant or an admin) and an admin's
 * explicit VNI, how a zone joins another zone's segment.
 */
import { describe, expect, it } from 'vitest';
import { errorOf } from '@strata/service-kit/testing';
import { defaultPolicy } from './policy.js';
import { getNetwork } from './queries.js';
import { admin, tenantA, tenantB, World } from './test/given.js';

describe('federated networks and explicit VNIs', () => {
  it('a tenant creates a federated network and turns the flag off and on; another tenant cannot', () => {
    const w = new World();
    const id = w.run('network.create', { name: 'stretched', federated: true }, tenantA).resourceId;
    expect(w.events.at(-1)!.data).toMatchObject({ federated: true });
    expect(getNetwork(w.state, tenantA, { id })).toMatchObject({ federated: true, revision: 1 });
    expect(w.run('network.update', { id, federated: false }, tenantA).event).toEqual({ type: 'ipam.NetworkUpdated', data: { networkId: id, federated: false } });
    expect(getNetwork(w.state, tenantA, { id })).toMatchObject({ federated: false, revision: 2 });
    expect(w.decide('network.update', { id, federated: false }, tenantA)).toEqual({ kind: 'done', resourceId: id });
    expect(errorOf(() => w.decide('network.update', { id, federated: true }, tenantB)).code).toBe('NOT_FOUND');
    w.run('network.update', { id, federated: true }, admin);
    expect(getNetwork(w.state, tenantA, { id }).federated).toBe(true);
    const plain = w.run('network.create', { name: 'local' }, tenantA);
    expect(plain.event.data).not.toHaveProperty('federated');
    expect(plain.event.data).not.toHaveProperty('foreignVni');
  });

  it("an admin joins another zone's segment with its VNI (outside this zone's range: foreignVni) or picks a free one of its own; a taken VNI and a tenant's choice are refused", () => {
    const policy = { ...defaultPolicy, vniMin: 4096, vniMax: 8191 };
    const w = new World(policy);
    const outside = policy.vniMax + 5;
    const joined = w.run('network.create', { tenant: 'tenant-a', name: 'joined', federated: true, vni: outside }, admin);
    expect(joined.event.data).toMatchObject({ vni: outside, federated: true, foreignVni: true });
    const own = w.run('network.create', { tenant: 'tenant-a', name: 'own', vni: policy.vniMin + 7 }, admin);
    expect(own.event.data).toMatchObject({ vni: policy.vniMin + 7 });
    expect(own.event.data).not.toHaveProperty('foreignVni');
    const before = w.events.length;
    expect(errorOf(() => w.decide('network.create', { tenant: 'tenant-b', name: 'again', vni: outside }, admin))).toMatchObject({ code: 'ALREADY_EXISTS', message: `VNI ${outside} is taken by network ${joined.resourceId}` });
    expect(errorOf(() => w.decide('network.create', { tenant: 'tenant-b', name: 'again', vni: policy.vniMin + 7 }, admin)).code).toBe('ALREADY_EXISTS');
    expect(errorOf(() => w.decide('network.create', { name: 'mine', vni: outside + 1 }, tenantA)).code).toBe('PERMISSION_DENIED');
    expect(() => w.decide('network.create', { name: 'bad', vni: 0 }, admin)).toThrow(/must be a VNI from 1 to 16777215/);
    expect(w.events.length).toBe(before);
    // allocation skips the VNI an admin chose inside the range
    const next = w.run('network.create', { name: 'n' }, tenantA);
    expect(next.event.data).toMatchObject({ vni: policy.vniMin });
  });
});
