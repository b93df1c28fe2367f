/**
 * Gateway bindings in host views: a `host` device's binding puts the network
 * and one l2gw key on its hypervisor, and the gateway host's VTEP into the
 * flood list of every host that needs the network (and, for a router's
 * network, the router's domain on the gateway host); a switch's binding
 * (evpn/ovsdb) puts nothing on any host here (the BGP gateway and the vtep
 * controller realise those); unbinding takes every trace away.
 */
import { describe, expect, it } from 'vitest';
import { CLOUD_AGGREGATE } from '@strata/contracts';
import { deriveAll, Given, plain, replay } from './test/given.js';

function world() {
  const g = new Given();
  g.host('hv1', '198.18.0.1');
  g.host('hv2', '198.18.0.2');
  g.host('gw', '198.18.0.9');
  g.network('na', 'ta', 100);
  g.subnet('na', 'sa', '10.0.0.0/24', '10.0.0.1', 'ta');
  g.port('na', 'p1', 'hv1', '02:00:00:00:00:01', [{ subnetId: 'sa', ip: '10.0.0.10' }], 'ta');
  g.port('na', 'p2', 'hv2', '02:00:00:00:00:02', [{ subnetId: 'sa', ip: '10.0.0.11' }], 'ta');
  g.emit('ipam.GatewayDeviceCreated', { deviceId: 'gwdev', name: 'gw', kind: 'host', vtepIp: '198.18.0.9', hostId: 'gw', ports: [{ name: 'trunk0', tenant: 'ta' }] }, CLOUD_AGGREGATE, '_system');
  g.emit('ipam.GatewayDeviceCreated', { deviceId: 'tor', name: 'tor', kind: 'evpn', vtepIp: '198.18.0.40', bgp: { address: '198.18.0.40', remoteAs: 65040 }, ports: [{ name: 'swp1', tenant: 'ta' }] }, CLOUD_AGGREGATE, '_system');
  return g;
}

const bind = (g: Given, bindingId: string, deviceId: string, port: string, vlan: number) =>
  g.emit('ipam.GatewayBindingCreated', { bindingId, tenant: 'ta', networkId: 'na', vni: 100, deviceId, port, vlan }, CLOUD_AGGREGATE, 'ta');

describe('gateway bindings in host views', () => {
  it('a gateway host gets the network, its endpoints and one l2gw key; every host floods to it', () => {
    const g = world();
    bind(g, 'b1', 'gwdev', 'trunk0', 100);
    const keys = plain(deriveAll(replay(g.events)));
    expect(keys['gw.l2gw.b1']).toEqual({ id: 'b1', networkId: 'na', nic: 'trunk0', vlan: 100 });
    expect(keys['gw.net.na']).toMatchObject({ vni: 100, floodVteps: ['198.18.0.1', '198.18.0.2'] });
    expect(Object.keys(keys).filter((k) => k.startsWith('gw.ep.')).sort()).toEqual(['gw.ep.p1', 'gw.ep.p2']);
    expect(keys['hv1.net.na']).toMatchObject({ floodVteps: ['198.18.0.2', '198.18.0.9'] });
    expect(keys['hv2.net.na']).toMatchObject({ floodVteps: ['198.18.0.1', '198.18.0.9'] });
  });

  it("a lone network's binding is L2 only on the gateway host; a router's network brings the router's domain (Direct Connect routes there)", () => {
    const g = world();
    bind(g, 'b1', 'gwdev', 'trunk0', 100);
    expect(Object.keys(plain(deriveAll(replay(g.events)))).filter((k) => k.startsWith('gw.domain.'))).toEqual([]);
    g.router('r1', 'ta');
    g.addInterface('r1', 'sa', 'na', 'ta');
    g.network('nb', 'ta', 101);
    g.subnet('nb', 'sb', '10.0.1.0/24', '10.0.1.1', 'ta');
    g.addInterface('r1', 'sb', 'nb', 'ta');
    const keys = plain(deriveAll(replay(g.events)));
    expect(keys['gw.domain.r1']).toMatchObject({ kind: 'router', networkIds: ['na', 'nb'] });
    expect(keys['gw.net.nb']).toBeDefined();
    expect(keys['gw.l2gw.b1']).toBeDefined();
  });

  it("a switch's binding puts nothing into host views", () => {
    const g = world();
    const before = deriveAll(replay(g.events));
    bind(g, 'b2', 'tor', 'swp1', 100);
    expect(deriveAll(replay(g.events))).toEqual(before);
  });

  it('a moved binding moves its key; a deleted one leaves no trace', () => {
    const g = world();
    const before = deriveAll(replay(g.events));
    bind(g, 'b1', 'gwdev', 'trunk0', 100);
    g.emit('ipam.GatewayBindingMoved', { bindingId: 'b1', tenant: 'ta', networkId: 'na', vni: 100, deviceId: 'gwdev', port: 'trunk0', vlan: 200, previous: { deviceId: 'gwdev', port: 'trunk0', vlan: 100 } }, CLOUD_AGGREGATE, 'ta');
    expect(plain(deriveAll(replay(g.events)))['gw.l2gw.b1']).toEqual({ id: 'b1', networkId: 'na', nic: 'trunk0', vlan: 200 });
    // Moved to the switch: the gateway host loses the network, the hypervisors stop flooding to it.
    g.emit('ipam.GatewayBindingMoved', { bindingId: 'b1', tenant: 'ta', networkId: 'na', vni: 100, deviceId: 'tor', port: 'swp1', vlan: 200, previous: { deviceId: 'gwdev', port: 'trunk0', vlan: 200 } }, CLOUD_AGGREGATE, 'ta');
    expect(deriveAll(replay(g.events))).toEqual(before);
    g.emit('ipam.GatewayBindingDeleted', { bindingId: 'b1', tenant: 'ta', networkId: 'na', vni: 100, deviceId: 'tor', port: 'swp1', vlan: 200 }, CLOUD_AGGREGATE, 'ta');
    expect(deriveAll(replay(g.events))).toEqual(before);
  });
});
