/** EVPN paths in gobgpd's API shape and back (the int test shows gobgpd and FRR take them). */
import { describe, expect, it } from 'vitest';
import { evpnPath, readEvpnPath } from './evpn.js';
import { STRATA_COMMUNITY } from './paths.js';

describe('EVPN paths', () => {
  it('a type 2 always has a zero ESI (gobgpd crashes without one), label = VNI, VXLAN encapsulation; it reads back', () => {
    const route = { type: 'mac-ip' as const, rd: '65000:1000', vni: 1000, mac: '02:00:00:00:00:01', ip: '10.0.0.10', nextHop: '198.18.0.11' };
    const p = evpnPath(route, [{ asn: 65010, value: 1000 }]);
    expect(p.nlri).toMatchObject({ esi: { type: 0, value: Buffer.alloc(9).toString('base64') }, labels: [1000], ethernet_tag: 0 });
    expect(JSON.stringify(p.pattrs)).toContain('"tunnel_type":8');
    expect(readEvpnPath(p)).toMatchObject({ route, routeTargets: [{ asn: 65010, value: 1000 }], communities: [STRATA_COMMUNITY], peer: '' });
  });

  it('a type 3 carries a PMSI tunnel (ingress replication to the VTEP, label = VNI); the VNI reads back from it', () => {
    const route = { type: 'imet' as const, rd: '65000:1000', vni: 1000, vtep: '198.18.0.11', nextHop: '198.18.0.11' };
    const p = evpnPath(route, [{ asn: 65010, value: 1000 }]);
    const pmsi = p.pattrs.find((a) => a['@type'].endsWith('PmsiTunnelAttribute'));
    expect(pmsi).toMatchObject({ type: 6, label: 1000, id: Buffer.from([198, 18, 0, 11]).toString('base64') });
    expect(readEvpnPath(p)?.route).toEqual(route);
  });

  it('a four-octet AS gets a four-octet-AS route target (value: the VNI modulo 2^16), which reads back', () => {
    const route = { type: 'imet' as const, rd: '65000:70000', vni: 70000, vtep: '198.18.0.11', nextHop: '198.18.0.11' };
    const p = evpnPath(route, [{ asn: 4200000000, value: 70000 & 0xffff }]);
    expect(JSON.stringify(p.pattrs)).toContain('FourOctetAsSpecificExtended');
    expect(readEvpnPath(p)?.routeTargets).toEqual([{ asn: 4200000000, value: 4464 }]);
  });

  it('large communities (a federated type 2\'s group tags) go out as a LargeCommunitiesAttribute and read back; none: no attribute', () => {
    const route = { type: 'mac-ip' as const, rd: '1:1000', vni: 1000, mac: '02:00:00:00:00:01', ip: '10.0.0.10', nextHop: '198.18.0.11' };
    const large = [{ global: 65500, local1: 1, local2: 10 }, { global: 65500, local1: 1, local2: 20 }];
    const p = evpnPath(route, [{ asn: 65500, value: 1000 }], false, [], large);
    expect(p.pattrs.find((a) => a['@type'].endsWith('LargeCommunitiesAttribute'))).toMatchObject({ communities: [{ global_admin: 65500, local_data1: 1, local_data2: 10 }, { global_admin: 65500, local_data1: 1, local_data2: 20 }] });
    expect(readEvpnPath(p)?.largeCommunities).toEqual(large);
    const plain = evpnPath(route, [{ asn: 65500, value: 1000 }]);
    expect(plain.pattrs.some((a) => a['@type'].endsWith('LargeCommunitiesAttribute'))).toBe(false);
    expect(readEvpnPath(plain)?.largeCommunities).toEqual([]);
  });
});
