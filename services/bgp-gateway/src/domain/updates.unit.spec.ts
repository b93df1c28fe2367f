/**
 * peer.update and peergroup.update: revisions, stale expectedRevision, the
 * address and listen range refused by name, only real changes written; and
 * that an update changes what gobgpd is given (the session's signature, the
 * export policy), which is how the gateway's pass carries it to gobgpd.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ipamEvents } from '@strata/contracts';
import { admin, errorOf, tenantA } from '@strata/service-kit/testing';
import { peerSignature, policiesFor } from '../gobgp/engine-config.js';
import { desiredNeighbours } from './neighbours.js';
import { getPeer, getPeerGroup } from './queries.js';
import { World } from './test/world.js';

function configured() {
  const w = new World();
  w.run('settings.set', { localAs: 65000, routerId: '198.18.0.2' });
  const peer = w.run('peer.create', { name: 'tor', address: '198.18.0.1', remoteAs: 65001, passwordRef: 'tor-md5' }).resourceId;
  const group = w.run('peergroup.create', { name: 'fw', listenRange: '198.19.0.0/16', remoteAs: 65100, maxPrefixes: 2 }).resourceId;
  return { w, peer, group };
}

describe('peer.update and peergroup.update', () => {
  it('write only what changes, each update one revision more', () => {
    const { w, peer, group } = configured();
    expect(getPeer(w.state, admin, { id: peer }).revision).toBe(1);
    expect(w.run('peer.update', { id: peer, remoteAs: 65002, name: 'tor', expectedRevision: 1 }).event).toEqual({ type: 'bgp.PeerUpdated', data: { peerId: peer, remoteAs: 65002 } });
    expect(w.run('peer.update', { id: peer, passwordRef: null }).event.data).toEqual({ peerId: peer, passwordRef: null });
    expect(getPeer(w.state, admin, { id: peer })).toMatchObject({ remoteAs: 65002, passwordRef: null, address: '198.18.0.1', revision: 3 });
    expect(w.run('peergroup.update', { id: group, maxPrefixes: 8, sendDefault: true, remoteAs: 65100 }).event.data).toEqual({ groupId: group, maxPrefixes: 8, sendDefault: true });
    expect(getPeerGroup(w.state, admin, { id: group })).toMatchObject({ maxPrefixes: 8, sendDefault: true, listenRange: '198.19.0.0/16', revision: 2 });
  });

  it('refuse a stale revision, the address and listen range by name, bad values and tenants, writing nothing', () => {
    const { w, peer, group } = configured();
    w.run('peergroup.update', { id: group, sendDefault: true });
    const refused = (fn: () => unknown) => {
      const before = w.events.length;
      const e = errorOf(fn);
      expect(w.events.length).toBe(before);
      return e;
    };
    expect(refused(() => w.decide('peergroup.update', { id: group, maxPrefixes: 4, expectedRevision: 1 }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: `BGP peer group ${group} is at revision 2, not the expected 1: read it again and retry`,
    });
    expect(refused(() => w.decide('peergroup.update', { id: group, listenRange: '198.20.0.0/16' } as never)).message).toBe(
      "invalid request: listenRange: cannot be changed: a peer group's listen range is fixed at creation: create a group for the new range and delete this one",
    );
    expect(refused(() => w.decide('peer.update', { id: peer, address: '198.18.0.9' } as never)).details).toMatchObject({ field: 'address' });
    expect(refused(() => w.decide('peergroup.update', { id: group, maxPrefixes: 0 })).message).toMatch(/maxPrefixes: must be 1-1000/);
    expect(refused(() => w.decide('peer.update', { id: peer, passwordRef: 'My Secret!' })).message).toMatch(/passwordRef/);
    expect(refused(() => w.decide('peer.update', { id: peer, name: 'x' }, tenantA)).code).toBe('PERMISSION_DENIED');
    expect(refused(() => w.decide('peer.update', { id: group, name: 'x' })).code).toBe('NOT_FOUND');
  });

  it('property: the current values (any subset) with the current revision write nothing', () => {
    const { w, group } = configured();
    fc.assert(
      fc.property(fc.subarray(['name', 'remoteAs', 'passwordRef', 'maxPrefixes', 'sendDefault'] as const), (fields) => {
        const g = getPeerGroup(w.state, admin, { id: group });
        const same = Object.fromEntries(fields.map((f) => [f, g[f]]));
        expect(w.decide('peergroup.update', { id: group, expectedRevision: g.revision, ...same })).toEqual({ kind: 'done', resourceId: group });
      }),
    );
  });

  it("change what gobgpd is given: an appliance session's signature (limit, AS) and the export policy (default route)", () => {
    const { w, group } = configured();
    // An appliance: a bound port of a routed network, inside the group's listen range.
    const cloud = { context: 'ipam', type: 'cloud', id: 'default' } as const;
    const net = { context: 'ipam', type: 'network', id: 'n1' } as const;
    w.storeOf(ipamEvents, 'ipam.NetworkCreated', cloud, { networkId: 'n1', name: 'apps', vni: 100, mtu: 1450, routed: true }, 't');
    w.storeOf(ipamEvents, 'ipam.SubnetCreated', net, { subnetId: 's1', name: '', ipVersion: 4, cidr: '198.19.1.0/24', gatewayIp: '198.19.1.1', allocationPools: [], enableDhcp: false }, 't');
    w.storeOf(ipamEvents, 'ipam.PortCreated', net, { portId: 'p1', name: '', mac: '02:00:00:00:00:01', fixedIps: [{ subnetId: 's1', ip: '198.19.1.10' }], hostId: 'hv1', deviceId: 'fw-1' }, 't');
    const engineView = () => {
      const neighbours = desiredNeighbours(w.state);
      const n = neighbours.get('198.19.1.10')!;
      return { signature: peerSignature(n, ''), policy: JSON.stringify(policiesFor(neighbours.values())) };
    };
    const before = engineView();
    w.run('peergroup.update', { id: group, name: 'firewalls' });
    expect(engineView()).toEqual(before);
    w.run('peergroup.update', { id: group, maxPrefixes: 8 });
    const limited = engineView();
    expect(limited.signature).not.toBe(before.signature);
    expect(limited.policy).toBe(before.policy);
    w.run('peergroup.update', { id: group, sendDefault: true });
    const withDefault = engineView();
    expect(withDefault.signature).toBe(limited.signature);
    expect(withDefault.policy).not.toBe(limited.policy);
    expect(withDefault.policy).toContain('198.19.1.10/32');
  });
});
