import { describe, expect, it } from 'vitest';
import { derivePeeringRoutes, ipamContract } from '@strata/contracts';
import { getPeeringSegment, listPeeringSegments, peeringRoutes } from './peering-queries.js';
import type { Caller } from './decide/index.js';
import { admin, code, tenantA, tenantB, World } from './test/given.js';

const tenantC: Caller = { ...tenantA, actor: 'carol', tenant: 'tenant-c' };

/** How many events the world holds: a refused command adds none. */
const unchanged = (w: World, fn: () => unknown): string => {
  const before = w.events.length;
  const out = code(fn);
  expect(w.events.length).toBe(before);
  return out;
};

/** A router of `caller`'s tenant joined to one new subnet per CIDR. */
function router(w: World, caller: Caller, ...cidrs: string[]): string {
  const id = w.run('router.create', { name: 'r' }, caller).resourceId;
  for (const cidr of cidrs) w.run('router.addInterface', { id, subnetId: w.networkWithSubnet(cidr, caller).subnetId }, caller);
  return id;
}

/** Tenant A owns a segment (169.254.100.0/28) and granted tenant B; A has r1 and r2, B has r3, C has r4 (A's addresses, elsewhere). */
function world() {
  const w = new World();
  const seg = w.run('peeringsegment.create', { name: 'transit', cidr: '169.254.100.0/28' }, tenantA).resourceId;
  w.run('peeringsegment.grant', { id: seg, tenant: 'tenant-b' }, tenantA);
  const r1 = router(w, tenantA, '10.1.0.0/24');
  const r2 = router(w, tenantA, '10.2.0.0/24');
  const r3 = router(w, tenantB, '10.3.0.0/24');
  const r4 = router(w, tenantC, '10.1.0.0/24');
  return { w, seg, r1, r2, r3, r4 };
}

const attach = (w: World, segmentId: string, routerId: string, caller: Caller, ip?: string) =>
  w.run('peeringsegment.attach', { segmentId, routerId, ...(ip ? { ip } : {}) }, caller);

describe('peering segments', () => {
  it('allocates a VNI from the networks’ pool, an address and a MAC per router; the routes are derived from the attachments', () => {
    const { w, seg, r1, r2, r3 } = world();
    const view = getPeeringSegment(w.state, tenantA, { id: seg });
    const net = w.run('network.create', { name: 'later' }, tenantA).event.data as { vni: number };
    expect(net.vni).not.toBe(view.vni);
    const a1 = attach(w, seg, r1, tenantA);
    expect(a1.event).toMatchObject({ type: 'ipam.PeeringAttached', data: { segmentId: seg, routerId: r1, ip: '169.254.100.1', vni: view.vni } });
    expect(a1.tenant).toBe('tenant-a');
    attach(w, seg, r2, tenantA, '169.254.100.9');
    const a3 = attach(w, seg, r3, tenantB);
    expect(a3.tenant).toBe('tenant-b');
    expect(a3.event.data).toMatchObject({ ip: '169.254.100.2' });
    const macs = Object.values(w.state.cloud.peeringAttachments!).map((a) => a.mac);
    expect(new Set(macs).size).toBe(3);
    expect(peeringRoutes(w.state, tenantA, { routerId: r1 }).routes).toEqual([
      { segmentId: seg, destination: '10.2.0.0/24', nexthop: '169.254.100.9' },
      { segmentId: seg, destination: '10.3.0.0/24', nexthop: '169.254.100.2' },
    ]);
    expect(peeringRoutes(w.state, tenantB, { routerId: r3 }).routes.map((r) => r.destination)).toEqual(['10.1.0.0/24', '10.2.0.0/24']);
    // A subnet a peer joins later is routed without another command.
    w.run('router.addInterface', { id: r3, subnetId: w.networkWithSubnet('10.33.0.0/24', tenantB).subnetId }, tenantB);
    expect(peeringRoutes(w.state, tenantA, { routerId: r2 }).routes.map((r) => r.destination)).toEqual(['10.1.0.0/24', '10.3.0.0/24', '10.33.0.0/24']);
  });

  it('refuses, writing nothing: another tenant’s router, a tenant not granted, a second attachment, overlaps with the router’s subnets, its other segments and its peers', () => {
    const { w, seg, r1, r3, r4 } = world();
    attach(w, seg, r1, tenantA);
    // Tenant C was not invited: the segment does not exist for it.
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r4 }, tenantC))).toMatch(/^NOT_FOUND: peering segment/);
    // Even the admin cannot put a router of a tenant the owner did not grant on it.
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r4 }, admin))).toMatch(/^PERMISSION_DENIED: tenant tenant-c is not granted peering segment/);
    // The owner cannot attach a granted tenant's router: that is the router's tenant's agreement.
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r3 }, tenantA))).toMatch(/^NOT_FOUND: router/);
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r1 }, tenantA))).toMatch(/^ALREADY_EXISTS: router .* is already attached to peering segment/);
    // Tenant B's router with A's addresses: B is told which prefix, not which of A's routers.
    const clash = router(w, tenantB, '10.1.0.128/25');
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: clash }, tenantB))).toMatch(
      /^INVALID_ARGUMENT: prefix 10.1.0.0\/24 of the router at 169.254.100.1 on peering segment .* overlaps subnet 10.1.0.128\/25 of router .*: peers must not overlap/,
    );
    const inTransit = router(w, tenantB, '169.254.100.0/24');
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: inTransit }, tenantB))).toMatch(/^INVALID_ARGUMENT: transit subnet 169.254.100.0\/28 .* overlaps subnet 169.254.100.0\/24 of router/);
    const seg2 = w.run('peeringsegment.create', { name: 'other', cidr: '169.254.100.0/29' }, tenantA).resourceId;
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg2, routerId: r1 }, tenantA))).toMatch(
      /^INVALID_ARGUMENT: transit subnet 169.254.100.0\/29 overlaps transit subnet 169.254.100.0\/28 of peering segment .*, which router .* is already on/,
    );
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r3, ip: '169.254.100.1' }, tenantB))).toMatch(/^ALREADY_EXISTS: address 169.254.100.1/);
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r3, ip: '169.254.100.15' }, tenantB))).toMatch(/^INVALID_ARGUMENT: address 169.254.100.15 is not a host address/);
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r3, ip: '10.9.9.9' }, tenantB))).toMatch(/^INVALID_ARGUMENT: address 10.9.9.9 is not a host address/);
  });

  it('refuses a subnet on an attached router that overlaps a peer or the transit subnet, and deleting an attached router', () => {
    const { w, seg, r1, r3 } = world();
    attach(w, seg, r1, tenantA);
    attach(w, seg, r3, tenantB);
    const overPeer = w.networkWithSubnet('10.1.0.0/16', tenantB).subnetId;
    expect(unchanged(w, () => w.decide('router.addInterface', { id: r3, subnetId: overPeer }, tenantB))).toMatch(
      /^INVALID_ARGUMENT: subnet .* \(10.1.0.0\/16\) overlaps prefix 10.1.0.0\/24 of the router at 169.254.100.1 on peering segment/,
    );
    const overTransit = w.networkWithSubnet('169.254.100.0/25', tenantB).subnetId;
    expect(unchanged(w, () => w.decide('router.addInterface', { id: r3, subnetId: overTransit }, tenantB))).toMatch(/^INVALID_ARGUMENT: subnet .* overlaps transit subnet 169.254.100.0\/28/);
    const empty = router(w, tenantB);
    attach(w, seg, empty, tenantB);
    expect(unchanged(w, () => w.decide('router.delete', { id: empty }, tenantB))).toMatch(/^FAILED_PRECONDITION: router .* is still attached to 1 peering segment/);
  });

  it('grants and revokes by the owner only; a revoke and a delete wait for the routers to leave; the owner may detach anyone', () => {
    const { w, seg, r1, r3 } = world();
    expect(unchanged(w, () => w.decide('peeringsegment.grant', { id: seg, tenant: 'tenant-c' }, tenantB))).toMatch(/^PERMISSION_DENIED: only the owner of peering segment .* may grant it/);
    expect(unchanged(w, () => w.decide('peeringsegment.grant', { id: seg, tenant: 'tenant-c' }, tenantC))).toMatch(/^NOT_FOUND: peering segment/);
    expect(unchanged(w, () => w.decide('peeringsegment.grant', { id: seg, tenant: 'tenant-a' }, tenantA))).toMatch(/^INVALID_ARGUMENT: tenant tenant-a owns peering segment/);
    expect(w.decide('peeringsegment.grant', { id: seg, tenant: 'tenant-b' }, tenantA).kind).toBe('done');
    const a1 = attach(w, seg, r1, tenantA).resourceId;
    const a3 = attach(w, seg, r3, tenantB).resourceId;
    expect(unchanged(w, () => w.decide('peeringsegment.revoke', { id: seg, tenant: 'tenant-b' }, tenantA))).toMatch(/^FAILED_PRECONDITION: tenant tenant-b still has 1 router\(s\) on peering segment/);
    expect(unchanged(w, () => w.decide('peeringsegment.delete', { id: seg }, tenantA))).toMatch(/^FAILED_PRECONDITION: peering segment .* still has 2 router\(s\) attached/);
    expect(unchanged(w, () => w.decide('peeringsegment.delete', { id: seg }, tenantB))).toMatch(/^PERMISSION_DENIED: only the owner/);
    // B may not detach A's router; the owner may detach B's.
    expect(unchanged(w, () => w.decide('peeringsegment.detach', { id: a1 }, tenantB))).toMatch(/^NOT_FOUND: peering attachment/);
    w.run('peeringsegment.detach', { id: a3 }, tenantA);
    expect(peeringRoutes(w.state, tenantA, { routerId: r1 }).routes).toEqual([]);
    w.run('peeringsegment.revoke', { id: seg, tenant: 'tenant-b' }, tenantA);
    expect(unchanged(w, () => w.decide('peeringsegment.attach', { segmentId: seg, routerId: r3 }, tenantB))).toMatch(/^NOT_FOUND: peering segment/);
    w.run('peeringsegment.detach', { id: a1 }, tenantA);
    const vni = getPeeringSegment(w.state, tenantA, { id: seg }).vni;
    w.run('peeringsegment.delete', { id: seg }, tenantA);
    expect(w.state.cloud.vnis[String(vni)]).toBeUndefined();
    expect(w.state.cloud.peeringSegments).toEqual({});
    expect(w.state.cloud.peeringAttachments).toEqual({});
  });

  it('shows the owner everything, a granted tenant its own attachments and the peers it routes to, anyone else nothing', () => {
    const { w, seg, r1, r3 } = world();
    const granted = getPeeringSegment(w.state, tenantB, { id: seg });
    expect(granted).toMatchObject({ grants: ['tenant-b'], attachments: [], peers: [] });
    attach(w, seg, r1, tenantA);
    attach(w, seg, r3, tenantB);
    const owner = getPeeringSegment(w.state, tenantA, { id: seg });
    expect(owner.attachments.map((a) => a.routerId)).toEqual([r1, r3]);
    const b = getPeeringSegment(w.state, tenantB, { id: seg });
    expect(b.attachments.map((a) => a.routerId)).toEqual([r3]);
    expect(b.peers.map((p) => [p.ip, p.prefixes])).toEqual([
      ['169.254.100.1', ['10.1.0.0/24']],
      ['169.254.100.2', ['10.3.0.0/24']],
    ]);
    expect(JSON.stringify(b)).not.toContain(r1);
    expect(code(() => getPeeringSegment(w.state, tenantC, { id: seg }))).toMatch(/^NOT_FOUND: peering segment/);
    expect(listPeeringSegments(w.state, tenantC, { limit: 100, after: '' }).items).toEqual([]);
    expect(code(() => peeringRoutes(w.state, tenantB, { routerId: r1 }))).toMatch(/^NOT_FOUND: router/);
  });

  it('refuses a transit subnet that is not IPv4 /16 to /29', () => {
    const schema = ipamContract.commands['peeringsegment.create'].request;
    expect(schema.safeParse({ cidr: '169.254.0.0/30' }).success).toBe(false);
    expect(schema.safeParse({ cidr: '10.0.0.0/8' }).success).toBe(false);
    expect(schema.safeParse({ cidr: 'fd00::/64' }).success).toBe(false);
    expect(schema.safeParse({ cidr: '169.254.0.0/29' }).success).toBe(true);
  });
});

describe('derivePeeringRoutes', () => {
  const member = (routerId: string, ip: string, ...prefixes: string[]) => ({ routerId, segmentId: 's1', ip, prefixes });

  it('leaves out every ambiguous prefix: overlapping the router’s own, the transit subnet, or another peer’s', () => {
    const members = [
      member('me', '169.254.0.1', '10.0.0.0/24'),
      member('p1', '169.254.0.2', '10.1.0.0/24', '10.0.0.128/25', '169.254.0.0/30'),
      member('p2', '169.254.0.3', '10.2.0.0/24', '10.1.0.0/16'),
      member('p3', '169.254.0.4', '10.3.0.0/24'),
    ];
    expect(derivePeeringRoutes({ id: 'me', prefixes: ['10.0.0.0/24'] }, [{ id: 's1', cidr: '169.254.0.0/28', members }])).toEqual([
      { segmentId: 's1', destination: '10.2.0.0/24', nexthop: '169.254.0.3' },
      { segmentId: 's1', destination: '10.3.0.0/24', nexthop: '169.254.0.4' },
    ]);
  });

  it('routes nothing for a router on no segment, and one route per destination when a peer shares two segments', () => {
    expect(derivePeeringRoutes({ id: 'me', prefixes: [] }, [])).toEqual([]);
    const s = (id: string, cidr: string, meIp: string, peerIp: string) => ({ id, cidr, members: [{ ...member('me', meIp), segmentId: id }, { ...member('p', peerIp, '10.9.0.0/24'), segmentId: id }] });
    expect(derivePeeringRoutes({ id: 'me', prefixes: [] }, [s('s2', '169.254.1.0/29', '169.254.1.1', '169.254.1.2'), s('s1', '169.254.0.0/29', '169.254.0.1', '169.254.0.2')])).toEqual([
      { segmentId: 's1', destination: '10.9.0.0/24', nexthop: '169.254.0.2' },
    ]);
  });
});
