import { describe, expect, it } from 'vitest';
import { code, tenantA, tenantB, World } from './test/given.js';

describe('tenant routers', () => {
  it('joins non-overlapping subnets of its own tenant, one router per network', () => {
    const w = new World();
    const a = w.networkWithSubnet('10.0.0.0/24');
    const b = w.networkWithSubnet('10.0.1.0/24');
    const clash = w.networkWithSubnet('10.0.1.0/25');
    const router = w.run('router.create', { name: 'r1' }, tenantA).resourceId;
    const added = w.run('router.addInterface', { id: router, subnetId: a.subnetId }, tenantA);
    expect(added.event).toEqual({ type: 'ipam.RouterInterfaceAdded', data: { routerId: router, subnetId: a.subnetId, networkId: a.networkId } });
    w.run('router.addInterface', { id: router, subnetId: b.subnetId }, tenantA);
    expect(w.decide('router.addInterface', { id: router, subnetId: b.subnetId }, tenantA).kind).toBe('done');
    expect(code(() => w.decide('router.addInterface', { id: router, subnetId: clash.subnetId }, tenantA))).toMatch(
      /^INVALID_ARGUMENT: subnet .* \(10.0.1.0\/25\) overlaps subnet .* \(10.0.1.0\/24\) already on router/,
    );
    const r2 = w.run('router.create', { name: 'r2' }, tenantA).resourceId;
    expect(code(() => w.decide('router.addInterface', { id: r2, subnetId: a.subnetId }, tenantA))).toMatch(/^ALREADY_EXISTS: subnet .* is already joined to router/);
    const v6 = w.run('subnet.create', { networkId: a.networkId, cidr: '2001:db8::/64' }, tenantA).resourceId;
    expect(code(() => w.decide('router.addInterface', { id: r2, subnetId: v6 }, tenantA))).toMatch(/^FAILED_PRECONDITION: network .* already has a subnet joined to router/);
  });

  it("keeps tenants apart: another tenant's router or subnet is not found", () => {
    const w = new World();
    const a = w.networkWithSubnet('10.0.0.0/24', tenantA);
    const router = w.run('router.create', { name: 'r' }, tenantB).resourceId;
    expect(code(() => w.decide('router.addInterface', { id: router, subnetId: a.subnetId }, tenantB))).toMatch(/^NOT_FOUND: subnet/);
    expect(code(() => w.decide('router.delete', { id: router }, tenantA))).toMatch(/^NOT_FOUND: router/);
  });

  it('blocks deleting what a router still joins, in both directions', () => {
    const w = new World();
    const a = w.networkWithSubnet('10.0.0.0/24');
    const router = w.run('router.create', { name: 'r' }, tenantA).resourceId;
    w.run('router.addInterface', { id: router, subnetId: a.subnetId }, tenantA);
    expect(code(() => w.decide('router.delete', { id: router }, tenantA))).toMatch(/^FAILED_PRECONDITION: router .* still joins 1 subnet/);
    expect(code(() => w.decide('subnet.delete', { id: a.subnetId }, tenantA))).toMatch(/^FAILED_PRECONDITION: subnet .* is joined to router/);
    expect(code(() => w.decide('network.delete', { id: a.networkId }, tenantA))).toMatch(/^FAILED_PRECONDITION: subnet .* is joined to router/);
    w.run('router.removeInterface', { id: router, subnetId: a.subnetId }, tenantA);
    expect(code(() => w.decide('router.removeInterface', { id: router, subnetId: a.subnetId }, tenantA))).toMatch(/^NOT_FOUND/);
    w.run('router.delete', { id: router }, tenantA);
    expect(w.state.routers).toEqual({});
    expect(w.state.subnetRouter).toEqual({});
  });
});
