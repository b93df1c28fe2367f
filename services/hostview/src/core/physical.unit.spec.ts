/**
 * Learned physical MACs and flood VTEPs (a switch's EVPN type-2/3 routes, as
 * the BGP gateway records them) in the host views: a RemoteEndpoint behind
 * the switch's VTEP with the IPs of its records on every host that needs the
 * network with that VNI, the switch's VTEP in the network's flood list; gone
 * with the last record.
 */
import { describe, expect, it } from 'vitest';
import { CLOUD_AGGREGATE } from '@strata/contracts';
import { deriveAll, Given, physicalMac, physicalVtep, plain, replay } from './test/given.js';

const SW = { deviceId: 'leaf1', vni: 100, vtep: '198.18.0.50' };
const MAC = '52:54:00:bb:00:01';
const EP = 'phys-leaf1-100-525400bb0001';

function cloud(): Given {
  const g = new Given();
  g.host('h1', '198.18.0.11');
  g.host('h2', '198.18.0.12');
  g.host('h3', '198.18.0.13');
  g.network('n1', 'ta', 100);
  g.subnet('n1', 's1', '10.0.0.0/24', '10.0.0.1', 'ta');
  g.network('n2', 'ta', 200);
  g.port('n1', 'p1', 'h1', '02:00:00:00:00:01', [{ subnetId: 's1', ip: '10.0.0.10' }], 'ta');
  g.port('n1', 'p2', 'h2', '02:00:00:00:00:02', [{ subnetId: 's1', ip: '10.0.0.11' }], 'ta');
  return g;
}

describe('physical endpoints and flood VTEPs in host views', () => {
  it('a MAC-only and a MAC/IP record make one endpoint on every host of the network, behind the switch', () => {
    const g = cloud();
    physicalMac(g, true, { ...SW, mac: MAC }, 'ta');
    physicalMac(g, true, { ...SW, mac: MAC, ip: '10.0.0.200' }, 'ta');
    const kv = plain(deriveAll(replay(g.events)));
    for (const h of ['h1', 'h2']) expect(kv[`${h}.ep.${EP}`]).toEqual({ id: EP, ips: ['10.0.0.200'], mac: MAC, networkId: 'n1', vtep: '198.18.0.50' });
    expect(Object.keys(kv).filter((k) => k.startsWith('h3.'))).toEqual(['h3.host']);
  });

  it('the switch VTEP joins the flood list of the network with that VNI, and leaves it', () => {
    const g = cloud();
    physicalVtep(g, true, SW, 'ta');
    expect((plain(deriveAll(replay(g.events)))['h1.net.n1'] as { floodVteps: string[] }).floodVteps).toEqual(['198.18.0.12', '198.18.0.50']);
    physicalVtep(g, false, SW, 'ta');
    expect((plain(deriveAll(replay(g.events)))['h1.net.n1'] as { floodVteps: string[] }).floodVteps).toEqual(['198.18.0.12']);
  });

  it('the endpoint goes with its last record; a VNI no network has shows nowhere', () => {
    const g = cloud();
    physicalMac(g, true, { ...SW, mac: MAC }, 'ta');
    physicalMac(g, true, { ...SW, mac: MAC, ip: '10.0.0.200' }, 'ta');
    physicalMac(g, false, { ...SW, mac: MAC }, 'ta');
    expect(plain(deriveAll(replay(g.events)))[`h1.ep.${EP}`]).toMatchObject({ ips: ['10.0.0.200'] });
    physicalMac(g, false, { ...SW, mac: MAC, ip: '10.0.0.200' }, 'ta');
    physicalMac(g, true, { ...SW, vni: 999, mac: MAC }, 'ta');
    physicalVtep(g, true, { ...SW, vni: 999 }, 'ta');
    const kv = plain(deriveAll(replay(g.events)));
    expect(Object.keys(kv).filter((k) => k.includes('.ep.phys-'))).toEqual([]);
    expect((kv['h1.net.n1'] as { floodVteps: string[] }).floodVteps).toEqual(['198.18.0.12']);
  });

  it("a gateway host's learned MAC (IPAM's events) is an endpoint on the other hosts, never on the gateway host itself (its own VTEP)", () => {
    const g = cloud();
    const HOST_GW = { bindingId: 'b1', deviceId: 'gw-h2', vni: 100, mac: MAC, ip: '10.0.0.50', vtep: '198.18.0.12' };
    const id = 'phys-gw-h2-100-525400bb0001';
    g.emit('ipam.PhysicalMacLearned', HOST_GW, CLOUD_AGGREGATE, 'ta');
    const kv = plain(deriveAll(replay(g.events)));
    expect(kv[`h1.ep.${id}`]).toEqual({ id, ips: ['10.0.0.50'], mac: MAC, networkId: 'n1', vtep: '198.18.0.12' });
    expect(kv[`h2.ep.${id}`]).toBeUndefined();
    g.emit('ipam.PhysicalMacWithdrawn', HOST_GW, CLOUD_AGGREGATE, 'ta');
    expect(Object.keys(plain(deriveAll(replay(g.events)))).filter((k) => k.includes('.ep.phys-'))).toEqual([]);
  });
});
