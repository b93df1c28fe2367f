/**
 * VPC peering in host views (docs/architecture.md, "VPC peering (issue
 * 20)"): a host that realises a router realises every router sharing a
 * peering segment with it, with their networks and endpoints; each router's
 * domain key carries its transit address, its peers' addresses and MACs and
 * the routes to their prefixes. A peer's new subnet is routed without a
 * peering event; a detach takes every trace away, and the views kept
 * incrementally equal a full recompute after every event.
 */
import { describe, expect, it } from 'vitest';
import { CLOUD_AGGREGATE, type DomainPeering } from '@strata/contracts';
import { applyOps } from './diff.js';
import { applyEvent, emptyModel } from './model.js';
import { HostViews } from './views.js';
import type { ModelEvent } from './model.js';
import { deriveAll, Given, plain, replay } from './test/given.js';

const SEG = 'seg1';

/** Three routers (ra1, ra2 of tenant ta; rb of tb), one subnet and one VM each, on hv1, hv2, hv3; tenant tc's rc with ta's addresses on hv4. */
function world(g = new Given()): Given {
  const hosts = ['hv1', 'hv2', 'hv3', 'hv4'];
  hosts.forEach((h, i) => g.host(h, `198.18.0.${i + 1}`));
  const routers: Array<[string, string, string, number]> = [
    ['ra1', 'ta', '10.1.0', 101],
    ['ra2', 'ta', '10.2.0', 102],
    ['rb', 'tb', '10.3.0', 103],
    ['rc', 'tc', '10.1.0', 104],
  ];
  routers.forEach(([r, t, net, vni], i) => {
    g.network(`n-${r}`, t, vni);
    g.subnet(`n-${r}`, `s-${r}`, `${net}.0/24`, `${net}.1`, t);
    g.router(r, t);
    g.addInterface(r, `s-${r}`, `n-${r}`, t);
    g.port(`n-${r}`, `p-${r}`, hosts[i]!, `02:00:00:00:00:0${i + 1}`, [{ subnetId: `s-${r}`, ip: `${net}.10` }], t);
  });
  g.emit('ipam.PeeringSegmentCreated', { segmentId: SEG, name: 'transit', cidr: '169.254.0.0/28', vni: 200 }, CLOUD_AGGREGATE, 'ta');
  return g;
}

const attach = (g: Given, routerId: string, tenant: string, n: number, type: 'ipam.PeeringAttached' | 'ipam.PeeringDetached' = 'ipam.PeeringAttached'): ModelEvent =>
  g.emit(type, { attachmentId: `att-${routerId}`, segmentId: SEG, vni: 200, routerId, ip: `169.254.0.${n}`, mac: `02:53:54:00:00:0${n}` }, CLOUD_AGGREGATE, tenant);

const peerings = (keys: Record<string, unknown>, key: string): DomainPeering[] | undefined => (keys[key] as { peerings?: DomainPeering[] } | undefined)?.peerings;

describe('peering in host views', () => {
  it('a host realises the peers of its routers, with their networks and endpoints; each domain carries its transit link and routes', () => {
    const g = world();
    attach(g, 'ra1', 'ta', 1);
    attach(g, 'ra2', 'ta', 2);
    attach(g, 'rb', 'tb', 3);
    const keys = plain(deriveAll(replay(g.events)));
    for (const h of ['hv1', 'hv2', 'hv3']) {
      expect(Object.keys(keys).filter((k) => k.startsWith(`${h}.domain.`)).sort()).toEqual([`${h}.domain.ra1`, `${h}.domain.ra2`, `${h}.domain.rb`]);
      expect(Object.keys(keys).filter((k) => k.startsWith(`${h}.ep.`)).length).toBe(2);
    }
    expect(peerings(keys, 'hv1.domain.ra1')).toEqual([
      {
        segmentId: SEG,
        vni: 200,
        cidr: '169.254.0.0/28',
        attachmentId: 'att-ra1',
        ip: '169.254.0.1',
        mac: '02:53:54:00:00:01',
        neighbours: [
          { ip: '169.254.0.2', mac: '02:53:54:00:00:02' },
          { ip: '169.254.0.3', mac: '02:53:54:00:00:03' },
        ],
        routes: [
          { destination: '10.2.0.0/24', nexthop: '169.254.0.2' },
          { destination: '10.3.0.0/24', nexthop: '169.254.0.3' },
        ],
      },
    ]);
    // Tenant C's router with A's addresses is elsewhere and untouched: hv4 has its own router only.
    expect(Object.keys(keys).filter((k) => k.startsWith('hv4.domain.'))).toEqual(['hv4.domain.rc']);
    expect(peerings(keys, 'hv4.domain.rc')).toBeUndefined();
  });

  it('a subnet a peer joins later is routed; a detach takes the router and its routes off the others’ hosts', () => {
    const g = world();
    const before = deriveAll(replay(g.events));
    attach(g, 'ra1', 'ta', 1);
    attach(g, 'rb', 'tb', 3);
    g.network('n-rb2', 'tb', 105);
    g.subnet('n-rb2', 's-rb2', '10.33.0.0/24', '10.33.0.1', 'tb');
    g.addInterface('rb', 's-rb2', 'n-rb2', 'tb');
    const keys = plain(deriveAll(replay(g.events)));
    expect(peerings(keys, 'hv1.domain.ra1')?.[0]?.routes.map((r) => r.destination)).toEqual(['10.3.0.0/24', '10.33.0.0/24']);
    expect(keys['hv1.net.n-rb2']).toBeDefined();
    attach(g, 'rb', 'tb', 3, 'ipam.PeeringDetached');
    attach(g, 'ra1', 'ta', 1, 'ipam.PeeringDetached');
    const after = plain(deriveAll(replay(g.events)));
    expect(Object.keys(after).filter((k) => k.startsWith('hv1.domain.'))).toEqual(['hv1.domain.ra1']);
    expect(JSON.stringify(after)).not.toContain('peerings');
    // The hosts without rb are as before the peering (rb's own host has its new network).
    const elsewhere = (keys: Record<string, unknown>) => Object.fromEntries(Object.entries(keys).filter(([k]) => !k.startsWith('hv3.')));
    expect(elsewhere(after)).toEqual(elsewhere(plain(before)));
  });

  it('incremental views equal a full recompute after every event', () => {
    const g = new Given();
    const model = emptyModel();
    const views = new HostViews();
    const kv = new Map<string, string>();
    const step = (e: ModelEvent) => {
      applyOps(kv, views.apply(model, applyEvent(model, e)).ops);
      expect(plain(kv)).toEqual(plain(deriveAll(model)));
    };
    const w = world(g);
    for (const e of w.events) step(e);
    step(attach(g, 'ra1', 'ta', 1));
    step(attach(g, 'rb', 'tb', 3));
    step(attach(g, 'ra2', 'ta', 2));
    step(g.network('n-late', 'ta', 106));
    step(g.subnet('n-late', 's-late', '10.9.0.0/24', '10.9.0.1', 'ta'));
    step(g.addInterface('ra2', 's-late', 'n-late', 'ta'));
    step(g.subnet('n-rb', 's-rb6', '10.3.1.0/24', '10.3.1.1', 'tb'));
    step(g.port('n-rb', 'p-late', 'hv3', '02:00:00:00:00:09', [{ subnetId: 's-rb', ip: '10.3.0.11' }], 'tb'));
    step(attach(g, 'ra2', 'ta', 2, 'ipam.PeeringDetached'));
    step(attach(g, 'rb', 'tb', 3, 'ipam.PeeringDetached'));
    step(attach(g, 'ra1', 'ta', 1, 'ipam.PeeringDetached'));
    step(g.emit('ipam.PeeringSegmentDeleted', { segmentId: SEG, vni: 200 }, CLOUD_AGGREGATE, 'ta'));
  });
});
