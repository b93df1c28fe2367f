import { describe, expect, it } from 'vitest';
import { observeZones, type ZoneRoute } from './decide/index.js';
import { originCommunity } from './federation.js';
import { LLGR_STALE, staleRoutesByZone } from './llgr.js';
import { given } from './test/given.js';

const AZ2 = { name: 'az2', id: 2, vtepPrefixes: ['198.18.0.16/28'], vniRanges: [{ min: 2000, max: 2999 }] };
const AZ3 = { name: 'az3', id: 3, vtepPrefixes: ['198.18.0.32/28'], vniRanges: [{ min: 3000, max: 3999 }] };
const zone = () => given().host('hv1', '198.18.0.11').tenantNetwork('ta', 'net-a', false, ['s-a', '10.0.0.0/24']).federation(AZ2, AZ3).federated('net-a');
const fromAz2 = (mac: string, stale: boolean): ZoneRoute => ({
  route: { type: 'mac-ip', rd: '2:1000', vni: 1000, mac, ip: '10.0.0.100', nextHop: '198.18.0.17' },
  communities: [originCommunity(65500, 2), ...(stale ? [LLGR_STALE] : [])],
});

describe('long-lived graceful restart: routes a reflector keeps for a lost zone', () => {
  it('LLGR_STALE is 65535:6', () => {
    expect(LLGR_STALE).toBe(((65535 << 16) | 6) >>> 0);
  });

  it('counts the stale routes per sending zone, a route seen through two reflectors once; every configured zone has a count', () => {
    const g = zone();
    const stale = fromAz2('02:00:00:00:02:01', true);
    const imet: ZoneRoute = { route: { type: 'imet', rd: '2:1000', vni: 1000, vtep: '198.18.0.17', nextHop: '198.18.0.17' }, communities: [originCommunity(65500, 2), LLGR_STALE] };
    const counts = staleRoutesByZone(g.state.config.federation, [stale, stale, imet, fromAz2('02:00:00:00:02:02', false)]);
    expect(Object.fromEntries(counts)).toEqual({ az2: 2, az3: 0 });
    expect(staleRoutesByZone(null, [stale]).size).toBe(0);
  });

  it('a stale route is taken like a fresh one: the same record, so a zone losing its BGP speaker changes nothing in the others', () => {
    const g = zone();
    const fresh = observeZones(g.state, [fromAz2('02:00:00:00:02:01', false)], true).targets;
    const stale = observeZones(g.state, [fromAz2('02:00:00:00:02:01', true)], true).targets;
    expect([...stale]).toEqual([...fresh]);
    expect([...stale.values()].every((t) => t.learned)).toBe(true);
  });
});
