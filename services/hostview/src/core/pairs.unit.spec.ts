/**
 * Allowed address pairs in the host views: a port's pairs on its own host
 * (anti-spoofing, GARP watching), and the owner of a pair address on every
 * host of the network (local ARP answers), following IPAM's owner events.
 */
import { describe, expect, it } from 'vitest';
import { networkAggregate } from '@strata/contracts';
import { deriveAll, Given, plain, replay } from './test/given.js';

const A = 'tenant-a';
const VIP = '10.0.0.100';

function world(): Given {
  const g = new Given();
  g.host('hv-1', '198.18.0.1');
  g.host('hv-2', '198.18.0.2');
  g.host('hv-3', '198.18.0.3');
  g.network('net', A, 100);
  g.subnet('net', 'sub', '10.0.0.0/24', '10.0.0.1', A);
  g.port('net', 'pa', 'hv-1', '02:00:00:00:00:0a', [{ subnetId: 'sub', ip: '10.0.0.10' }], A);
  g.port('net', 'pb', 'hv-2', '02:00:00:00:00:0b', [{ subnetId: 'sub', ip: '10.0.0.11' }], A);
  g.port('net', 'pc', 'hv-3', '02:00:00:00:00:0c', [{ subnetId: 'sub', ip: '10.0.0.12' }], A);
  for (const [p, mac] of [['pa', '02:00:00:00:00:0a'], ['pb', '02:00:00:00:00:0b']] as const) {
    g.emit('ipam.PortAllowedAddressPairsSet', { portId: p, allowedAddressPairs: [{ ipAddress: VIP, macAddress: mac }] }, networkAggregate('net'), A);
  }
  return g;
}

const owner = (g: Given, portId: string, mac: string, observedBy: string, previousPortId: string | null = null) =>
  g.emit('ipam.AddressPairOwnerChanged', { networkId: 'net', ip: VIP, portId, mac, previousPortId, observedBy }, networkAggregate('net'), A);

const views = (g: Given) => plain(deriveAll(replay(g.events)));

describe('allowed address pairs in the host views', () => {
  it('a port key carries its pairs; before any GARP no host has an owner for the address', () => {
    const v = views(world());
    expect(v['hv-1.port.pa']).toMatchObject({ allowedAddressPairs: [{ ipAddress: VIP, macAddress: '02:00:00:00:00:0a' }] });
    expect(v['hv-1.port.pa']).not.toHaveProperty('ownedAddresses');
    expect(v['hv-3.ep.pa']).not.toHaveProperty('ownedAddresses');
    expect(v['hv-3.port.pc']).not.toHaveProperty('allowedAddressPairs');
  });

  it('the owner event gives the owner the address on its own port key and its endpoint everywhere; a takeover moves it', () => {
    const g = world();
    owner(g, 'pa', '02:00:00:00:00:0a', 'hv-1');
    let v = views(g);
    const owned = [{ ip: VIP, mac: '02:00:00:00:00:0a' }];
    expect(v['hv-1.port.pa']).toMatchObject({ ownedAddresses: owned });
    expect(v['hv-2.ep.pa']).toMatchObject({ ownedAddresses: owned });
    expect(v['hv-3.ep.pa']).toMatchObject({ ownedAddresses: owned });
    owner(g, 'pb', '02:00:00:00:00:0b', 'hv-2', 'pa');
    v = views(g);
    expect(v['hv-3.ep.pa']).not.toHaveProperty('ownedAddresses');
    expect(v['hv-3.ep.pb']).toMatchObject({ ownedAddresses: [{ ip: VIP, mac: '02:00:00:00:00:0b' }] });
    expect(v['hv-2.port.pb']).toMatchObject({ ownedAddresses: [{ ip: VIP, mac: '02:00:00:00:00:0b' }] });
  });

  it('the ownership ends when the owner loses the pair or is deleted', () => {
    const g = world();
    owner(g, 'pa', '02:00:00:00:00:0a', 'hv-1');
    g.emit('ipam.PortAllowedAddressPairsSet', { portId: 'pa', allowedAddressPairs: [] }, networkAggregate('net'), A);
    let v = views(g);
    expect(v['hv-3.ep.pa']).not.toHaveProperty('ownedAddresses');
    expect(v['hv-1.port.pa']).not.toHaveProperty('allowedAddressPairs');
    owner(g, 'pb', '02:00:00:00:00:0b', 'hv-2');
    g.deletePort('net', 'pb', A);
    v = views(g);
    expect(Object.values(v).some((x) => JSON.stringify(x).includes('ownedAddresses'))).toBe(false);
  });
});
