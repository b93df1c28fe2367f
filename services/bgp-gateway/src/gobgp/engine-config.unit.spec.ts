import { describe, expect, it } from 'vitest';
import type { Neighbour } from '../domain/neighbours.js';
import { peerConfig, peerSignature, policiesFor, REFLECTOR_GR_RESTART_S, REFLECTOR_LLGR_STALE_S } from './engine-config.js';
import { Ipv6NextHops } from './next-hop6.js';
import { isOriginated, originatedPath, readPath } from './paths.js';

const fw: Neighbour = { kind: 'appliance', address: '198.19.1.10', remoteAs: 65100, passwordRef: 'a', groupId: 'g', portId: 'p', tenant: 't', deviceId: 'fw-1', maxPrefixes: 2, sendDefault: true };
const tor: Neighbour = { kind: 'fabric', address: '198.18.0.1', remoteAs: 65001, passwordRef: null, peerId: 'x' };

describe('gobgpd configuration', () => {
  it('imports only from fabric peers, whatever appliances exist; an empty set never matches (gobgpd: empty = every neighbour)', () => {
    type Policies = { defined_sets: { name: string; list?: string[] }[]; policies: { name: string; statements: { conditions: { neighbor_set: { name: string } }; actions: { route_action: string } }[] }[] };
    const alone = policiesFor([tor]) as Policies;
    expect(alone.defined_sets.find((s) => s.name === 'strata-appliances-default')?.list).toEqual(['255.255.255.255/32']);
    const p = policiesFor([tor, fw]) as Policies;
    expect(p.defined_sets.find((s) => s.name === 'strata-fabric')?.list).toEqual(['198.18.0.1/32']);
    expect(p.defined_sets.find((s) => s.name === 'strata-any-peer')?.list).toEqual(['0.0.0.0/0', '::/0']);
    const rules = (name: string) => p.policies.find((x) => x.name === name)!.statements.map((s) => [s.conditions.neighbor_set.name, s.actions.route_action]);
    expect(rules('strata-import')).toEqual([['strata-fabric', 'ACCEPT'], ['strata-any-peer', 'REJECT']]);
    // The import policy is the same with or without the appliance: removing one cannot open it.
    expect(alone.policies.find((x) => x.name === 'strata-import')).toEqual(p.policies.find((x) => x.name === 'strata-import'));
    expect(rules('strata-export').at(-1)).toEqual(['strata-any-peer', 'REJECT']);
  });

  it('an evpn switch: l2vpn-evpn only; exported only the EVPN routes with its route targets, imported nothing', () => {
    const leaf: Neighbour = { kind: 'evpn', address: '198.18.0.50', remoteAs: 65010, passwordRef: null, deviceId: 'leaf1' };
    expect((peerConfig(leaf, '') as { afi_safis: { config: { family: object } }[] }).afi_safis.map((a) => a.config.family)).toEqual([{ afi: 'AFI_L2VPN', safi: 'SAFI_EVPN' }]);
    type Policies = { defined_sets: { name: string; defined_type: string; list?: string[] }[]; policies: { name: string; statements: { name: string; conditions: Record<string, { name: string }>; actions: { route_action: string } }[] }[] };
    const none = policiesFor([tor, leaf]) as Policies;
    expect(none.policies.find((x) => x.name === 'strata-export')!.statements.some((s) => s.name.startsWith('strata-evpn'))).toBe(false);
    const p = policiesFor([tor, leaf], new Map([['leaf1', [{ asn: 65010, value: 1000 }]]])) as Policies;
    expect(p.defined_sets.filter((s) => s.name.startsWith('strata-evpn')).map((s) => [s.defined_type, s.list])).toEqual([
      ['NEIGHBOR', ['198.18.0.50/32']],
      ['EXT_COMMUNITY', ['rt:^65010:1000$']],
    ]);
    const exp = p.policies.find((x) => x.name === 'strata-export')!.statements;
    expect(exp.find((s) => s.name === 'strata-evpn-0-export')).toEqual({ name: 'strata-evpn-0-export', conditions: { neighbor_set: { type: 'ANY', name: 'strata-evpn-0' }, ext_community_set: { type: 'ANY', name: 'strata-evpn-rt-0' } }, actions: { route_action: 'ACCEPT' } });
    expect(exp.at(-1)!.name).toBe('strata-export-others');
    expect(p.policies.find((x) => x.name === 'strata-import')).toEqual(none.policies.find((x) => x.name === 'strata-import'));
  });

  it('the peer signature changes with the password and never contains it', () => {
    expect(peerSignature(fw, 'one')).not.toBe(peerSignature(fw, 'two'));
    expect(peerSignature(fw, 'secret-password')).not.toContain('secret');
    expect(peerConfig(fw, 'pw')).toMatchObject({ conf: { neighbor_address: '198.19.1.10', peer_asn: 65100, auth_password: 'pw' } });
  });

  it('originated paths carry the Strata community and read back as originated', () => {
    const read = readPath(originatedPath('203.0.113.10/32', '198.18.0.11'));
    expect(read).toMatchObject({ prefix: '203.0.113.10/32', nextHop: '198.18.0.11', peer: '' });
    expect(isOriginated(read!)).toBe(true);
    expect(isOriginated({ ...read!, communities: [] })).toBe(false);
    expect(isOriginated({ ...read!, peer: '198.19.1.10' })).toBe(false);
  });
});

describe('IPv6 routes over the IPv4 fabric', () => {
  it('an originated /64 is an IPv6-unicast path; its next hop is the VTEP, IPv4-mapped or embedded in the underlay /96, and reads back as the VTEP', () => {
    const p = originatedPath('2001:db8:100:1::/64', '::ffff:198.18.0.11');
    expect(p.family).toEqual({ afi: 'AFI_IP6', safi: 'SAFI_UNICAST' });
    expect(readPath(p)).toMatchObject({ prefix: '2001:db8:100:1::/64', nextHop: '::ffff:198.18.0.11' });
    const mapped = Ipv6NextHops.parse(undefined);
    expect(mapped.encode('198.18.0.11')).toBe('::ffff:198.18.0.11');
    expect(mapped.decode('198.18.0.11')).toBe('198.18.0.11');
    const embedded = Ipv6NextHops.parse('2001:db8:ffff::/96');
    expect(embedded.encode('198.18.0.11')).toBe('2001:db8:ffff::c612:b');
    expect(embedded.decode('2001:db8:ffff::c612:b')).toBe('198.18.0.11');
    expect(() => Ipv6NextHops.parse('2001:db8::/64')).toThrow(/must be an IPv6 \/96/);
  });

  it('every session offers IPv4 and IPv6 unicast; appliances get a prefix limit per family', () => {
    const c = peerConfig(fw, 'pw') as { afi_safis: { config: { family: { afi: string } }; prefix_limits?: object }[] };
    expect(c.afi_safis.map((a) => a.config.family.afi)).toEqual(['AFI_IP', 'AFI_IP6']);
    expect(c.afi_safis.every((a) => a.prefix_limits)).toBe(true);
    expect((peerConfig(tor, '') as typeof c).afi_safis.every((a) => !a.prefix_limits)).toBe(true);
  });

  it('a route reflector: IBGP in the federation AS (local_asn), l2vpn-evpn only, TCP-MD5; exported only the federation route targets, and nothing while none is federated', () => {
    const rr: Neighbour = { kind: 'reflector', address: '198.18.0.100', remoteAs: 65500, passwordRef: 'rr' };
    const c = peerConfig(rr, 'sekrit') as { conf: Record<string, unknown>; afi_safis: { config: { family: object } }[] };
    expect(c.conf).toMatchObject({ neighbor_address: '198.18.0.100', peer_asn: 65500, local_asn: 65500, auth_password: 'sekrit' });
    expect(c.afi_safis.map((a) => a.config.family)).toEqual([{ afi: 'AFI_L2VPN', safi: 'SAFI_EVPN' }]);
    expect(peerSignature(rr, 'a')).not.toBe(peerSignature({ ...rr, remoteAs: 65501 }, 'a'));
    type Policies = { defined_sets: { name: string; list?: string[] }[]; policies: { name: string; statements: { name: string; conditions: Record<string, { name: string }>; actions: { route_action: string } }[] }[] };
    const none = policiesFor([tor, rr]) as Policies;
    expect(none.defined_sets.some((d) => d.name === 'strata-reflectors')).toBe(false);
    const p = policiesFor([tor, rr], new Map(), [{ asn: 65500, value: 1000 }, { asn: 65500, value: 2005 }]) as Policies;
    expect(p.defined_sets.find((d) => d.name === 'strata-reflectors')?.list).toEqual(['198.18.0.100/32']);
    expect(p.defined_sets.find((d) => d.name === 'strata-federation-rt')?.list).toEqual(['rt:^65500:1000$', 'rt:^65500:2005$']);
    const exp = p.policies.find((x) => x.name === 'strata-export')!.statements;
    expect(exp.find((s) => s.name === 'strata-export-federation')).toEqual({
      name: 'strata-export-federation',
      conditions: { neighbor_set: { type: 'ANY', name: 'strata-reflectors' }, ext_community_set: { type: 'ANY', name: 'strata-federation-rt' } },
      actions: { route_action: 'ACCEPT' },
    });
    // its routes stay in its Adj-RIB-In: the import policy accepts only fabric peers
    expect(p.policies.find((x) => x.name === 'strata-import')).toEqual(none.policies.find((x) => x.name === 'strata-import'));
  });

  it('a route reflector session offers graceful restart (with the N bit of RFC 8538) and long-lived graceful restart for l2vpn-evpn; no other session does', () => {
    const rr: Neighbour = { kind: 'reflector', address: '198.18.0.100', remoteAs: 65500, passwordRef: 'rr' };
    type Peer = { graceful_restart?: object; afi_safis: { mp_graceful_restart?: object; long_lived_graceful_restart?: object }[] };
    const c = peerConfig(rr, 'pw') as Peer;
    expect(c.graceful_restart).toEqual({ enabled: true, restart_time: REFLECTOR_GR_RESTART_S, longlived_enabled: true, notification_enabled: true });
    expect(c.afi_safis).toEqual([
      expect.objectContaining({
        mp_graceful_restart: { config: { enabled: true } },
        long_lived_graceful_restart: { config: { enabled: true, restart_time: REFLECTOR_LLGR_STALE_S } },
      }),
    ]);
    // a long stale time: a zone's control plane may be away for hours; the restart time is short, so the other zones see LLGR_STALE at once
    expect(REFLECTOR_LLGR_STALE_S).toBeGreaterThanOrEqual(3600);
    expect(REFLECTOR_GR_RESTART_S).toBeLessThan(REFLECTOR_LLGR_STALE_S);
    for (const other of [tor, fw, { kind: 'evpn', address: '198.18.0.50', remoteAs: 65010, passwordRef: null, deviceId: 'leaf1' } as Neighbour]) {
      const p = peerConfig(other, '') as Peer;
      expect(p.graceful_restart).toBeUndefined();
      expect(p.afi_safis.every((a) => !a.mp_graceful_restart && !a.long_lived_graceful_restart)).toBe(true);
    }
  });
});
