/**
 * VPC peering (issue 20) through the real `strata` CLI, the real API and
 * IPAM behind the production NATS users. Tenant A owns a peering segment
 * and grants tenant C; tenant B was never invited. B's every attempt to
 * cross into A — attaching its router to A's segment, attaching A's router,
 * reading A's segment or routes, granting itself, detaching A's router,
 * deleting the segment — is refused with nothing written. C, granted, sees
 * the segment, its own attachment and the peers' transit addresses and
 * prefixes, never A's router ids; overlapping peers and transit subnets are
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeeringAttachmentView as Attachment, PeeringSegmentView } from '@strata/contracts';
import { startTenantPlane, type TenantPlane } from './support/tenant-plane.js';

interface Resource {
  id: string;
}
/** A segment as the CLI prints it (-o json: the gRPC message, empty lists left out). */
type Segment = Partial<PeeringSegmentView> & Resource;

describe('peering segments across the tenant boundary', () => {
  let t: TenantPlane;
  let seg: Segment;
  let routerA: Resource;
  let routerB: Resource;
  let routerC: Resource;
  let attachA: Attachment;

  /** A router of `who` joined to a new subnet `cidr`. */
  async function routerWith(who: string, cidr: string): Promise<Resource> {
    const net = await t.json<Resource>(who, ['network', 'create', '--name', `${who}-net`]);
    const subnet = await t.json<Resource>(who, ['subnet', 'create', '--network', net.id, '--cidr', cidr]);
    const router = await t.json<Resource>(who, ['router', 'create', '--name', `${who}-router`]);
    await t.json(who, ['router', 'add-interface', router.id, '--subnet', subnet.id]);
    return router;
  }

  beforeAll(async () => {
    t = await startTenantPlane(['tenant-a', 'tenant-b', 'tenant-c']);
    seg = await t.json<Segment>('tenant-a', ['peering-segment', 'create', '--name', 'transit', '--cidr', '169.254.10.0/28']);
    await t.json('tenant-a', ['peering-segment', 'grant', seg.id, '--tenant', 'tenant-c']);
    routerA = await routerWith('tenant-a', '10.1.0.0/24');
    // B uses other addresses than A: the refusals below are about consent, not overlap.
    routerB = await routerWith('tenant-b', '10.2.0.0/24');
    routerC = await routerWith('tenant-c', '10.3.0.0/24');
    attachA = await t.json<Attachment>('tenant-a', ['peering-segment', 'attach', seg.id, '--router', routerA.id]);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('the owner and a granted tenant attach their own routers; each is routed to the other’s prefix', async () => {
    expect(seg).toMatchObject({ tenant: 'tenant-a', cidr: '169.254.10.0/28' });
    expect(seg.vni).toBeGreaterThan(0);
    expect(attachA).toMatchObject({ segmentId: seg.id, tenant: 'tenant-a', routerId: routerA.id, ip: '169.254.10.1' });
    const attachC = await t.json<Attachment>('tenant-c', ['peering-segment', 'attach', seg.id, '--router', routerC.id, '--ip', '169.254.10.5']);
    expect(attachC).toMatchObject({ tenant: 'tenant-c', ip: '169.254.10.5' });
    const routesA = await t.json<{ items: Array<{ destination: string; nexthop: string }> }>('tenant-a', ['peering-segment', 'routes', '--router', routerA.id]);
    expect(routesA.items.map((r) => [r.destination, r.nexthop])).toEqual([['10.3.0.0/24', '169.254.10.5']]);
    const routesC = await t.json<{ items: Array<{ destination: string; nexthop: string }> }>('tenant-c', ['peering-segment', 'routes', '--router', routerC.id]);
    expect(routesC.items.map((r) => [r.destination, r.nexthop])).toEqual([['10.1.0.0/24', '169.254.10.1']]);
    // C sees itself among the grants, its own attachment and the peers' addresses and prefixes, never A's router.
    const seenByC = await t.cli('tenant-c', ['peering-segment', 'show', seg.id, '-o', 'json']);
    expect(seenByC.code).toBe(0);
    const view = JSON.parse(seenByC.out) as Segment;
    expect(view.grants).toEqual(['tenant-c']);
    expect(view.attachments?.map((a) => a.routerId)).toEqual([routerC.id]);
    expect(view.peers?.map((p) => [p.ip, p.prefixes])).toEqual([
      ['169.254.10.1', ['10.1.0.0/24']],
      ['169.254.10.5', ['10.3.0.0/24']],
    ]);
    expect(seenByC.out).not.toContain(routerA.id);
    await t.json('tenant-c', ['peering-segment', 'detach', attachC.id]);
  });

  it("tenant B cannot attach to A's segment, attach A's router, read A's segment or routes, grant itself, detach or delete: refused, nothing written", async () => {
    const before = await t.json<Segment>('tenant-a', ['peering-segment', 'show', seg.id]);
    const attacks: Array<[string[], string]> = [
      [['peering-segment', 'attach', seg.id, '--router', routerB.id], `peering segment ${seg.id} not found`],
      [['peering-segment', 'attach', seg.id, '--router', routerA.id], `peering segment ${seg.id} not found`],
      [['peering-segment', 'show', seg.id], `peering segment ${seg.id} not found`],
      [['peering-segment', 'routes', '--router', routerA.id], `router ${routerA.id} not found`],
      [['peering-segment', 'grant', seg.id, '--tenant', 'tenant-b'], `peering segment ${seg.id} not found`],
      [['peering-segment', 'detach', attachA.id], `peering attachment ${attachA.id} not found`],
      [['peering-segment', 'delete', seg.id], `peering segment ${seg.id} not found`],
    ];
    for (const [argv, message] of attacks) await t.expectRefused('tenant-b', argv, message);
    expect((await t.json<{ items: Segment[] }>('tenant-b', ['peering-segment', 'list'])).items ?? []).toEqual([]);
    // B's own segment cannot take A's router either: attaching is the router's tenant's agreement.
    const segB = await t.json<Segment>('tenant-b', ['peering-segment', 'create', '--cidr', '169.254.20.0/29']);
    await t.json('tenant-b', ['peering-segment', 'grant', segB.id, '--tenant', 'tenant-a']);
    await t.expectRefused('tenant-b', ['peering-segment', 'attach', segB.id, '--router', routerA.id], `router ${routerA.id} not found`);
    // A granted tenant does not manage the segment.
    await t.expectRefused('tenant-c', ['peering-segment', 'grant', seg.id, '--tenant', 'tenant-b'], 'only the owner of peering segment');
    await t.expectRefused('tenant-c', ['peering-segment', 'attach', seg.id, '--router', routerA.id], `router ${routerA.id} not found`);
    expect(await t.json('tenant-a', ['peering-segment', 'show', seg.id])).toEqual(before);
  });

  it('bad input: overlapping peers and transit subnets, a taken address, a second attachment, a bad transit subnet; removal waits for the routers', async () => {
    const clashC = await routerWith('tenant-c', '10.1.0.0/25');
    await t.expectRefused('tenant-c', ['peering-segment', 'attach', seg.id, '--router', clashC.id], 'of the router at 169.254.10.1 on peering segment');
    const seg2 = await t.json<Segment>('tenant-a', ['peering-segment', 'create', '--cidr', '169.254.10.0/29']);
    await t.expectRefused('tenant-a', ['peering-segment', 'attach', seg2.id, '--router', routerA.id], 'overlaps transit subnet 169.254.10.0/28');
    await t.expectRefused('tenant-c', ['peering-segment', 'attach', seg.id, '--router', routerC.id, '--ip', '169.254.10.1'], 'address 169.254.10.1 on peering segment');
    await t.expectRefused('tenant-a', ['peering-segment', 'attach', seg.id, '--router', routerA.id], 'is already attached to peering segment');
    await t.expectRefused('tenant-a', ['peering-segment', 'create', '--cidr', '10.0.0.0/8'], 'must be an IPv4 transit subnet /16 to /29');
    await t.expectRefused('tenant-a', ['peering-segment', 'delete', seg.id], 'still has 1 router(s) attached');
    // Removal: detach, then the segment goes; nothing of it is left to read.
    await t.json('tenant-a', ['peering-segment', 'detach', attachA.id]);
    await t.json('tenant-a', ['peering-segment', 'delete', seg.id]);
    await t.expectRefused('tenant-a', ['peering-segment', 'show', seg.id], `peering segment ${seg.id} not found`);
    await t.expectRefused('tenant-c', ['peering-segment', 'show', seg.id], `peering segment ${seg.id} not found`);
  });
});
